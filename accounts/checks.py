from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_https_only(app_configs, **kwargs):
    if not settings.DEBUG and not settings.HTTPS_ONLY:
        return [
            Warning(
                "DJANGO_INSECURE_HTTP=1 turns off HTTPS redirects, HSTS and secure cookies.",
                hint="Use it only for a production-like run on your own machine.",
                id="accounts.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_emails_are_sent(app_configs, **kwargs):
    if not settings.DEBUG and settings.EMAIL_BACKEND.endswith(".console.EmailBackend"):
        return [
            Warning(
                "DJANGO_EMAIL_BACKEND=console prints emails, password-reset links included, "
                "to the server's log.",
                hint="Set DJANGO_EMAIL_HOST to send them by SMTP instead.",
                id="accounts.W002",
            )
        ]
    return []
