from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self):
        from . import checks, signals  # noqa: F401 (they register themselves)


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on our site (accounts.admin_site): named in INSTALLED_APPS in its place."""

    default = False
    default_site = "accounts.admin_site.StaffAdminSite"
