from django.apps import AppConfig


class OperatorCommandsConfig(AppConfig):
    """Django's own management commands, as our operators need them.

    Listed before django.contrib.auth in INSTALLED_APPS, so that its commands
    replace Django's of the same name.
    """

    name = "operator_commands"
    verbose_name = "Operator commands"
