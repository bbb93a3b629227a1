from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who changed which record, when and from where; and account events."""

    name = "audit"
    verbose_name = "Audit trail"
