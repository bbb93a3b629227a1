from django.apps import AppConfig


class ChangesConfig(AppConfig):
    """One owner for each change to a kept record (see changes.models.TrackedRecord)."""

    name = "changes"
