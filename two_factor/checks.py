from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_second_factor_required(app_configs, **kwargs):
    if settings.TWO_FACTOR_REQUIRED == "none":
        return [
            Warning(
                "DJANGO_TWO_FACTOR_REQUIRED=none lets administrators sign in with a password "
                "alone, the admin included.",
                hint="Use it only for trials; the default, admins, requires a second factor "
                "of superusers and staff.",
                id="two_factor.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_passkey_domain(app_configs, **kwargs):
    if not settings.DEBUG and settings.OTP_WEBAUTHN_RP_ID == "localhost":
        return [
            Warning(
                "DJANGO_PASSKEY_DOMAIN is localhost: passkeys work only on this machine.",
                hint="Set DJANGO_PASSKEY_DOMAIN to the site's domain, and DJANGO_PASSKEY_ORIGINS "
                "to its https:// address.",
                id="two_factor.W002",
            )
        ]
    return []
