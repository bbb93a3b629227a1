from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """What every kept record shares: a version against lost updates, the rules for names and
    dates, and an admin that checks its own parameters."""

    name = "records"
