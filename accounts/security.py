"""Who is asking: the client's address and the email they sign in with."""

import ipaddress

from django.conf import settings

from .models import Staff


def client_ip(request):
    """The client's IP address, trusting X-Forwarded-For only from known proxies.

    "" when there is none or what is there is not an address: a forged header
    may hold anything, and the lockout and the audit trail store it.
    """
    address = request.META.get("REMOTE_ADDR", "")
    if settings.TRUSTED_PROXY_COUNT:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [ip.strip() for ip in header.split(",") if ip.strip()]
        # Each trusted proxy appends the address it saw; anything further left
        # came from the client and may be forged.
        if len(forwarded) >= settings.TRUSTED_PROXY_COUNT:
            address = forwarded[-settings.TRUSTED_PROXY_COUNT]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return ""


# Kept instead of what was typed into the email box when it cannot be an address.
NOT_AN_EMAIL_ADDRESS = "(not an email address)"


def typed_email(typed):
    """What was typed into the email box, trimmed, only if it may be an address.

    People type their password there by mistake: anything else is never kept.
    """
    typed = (typed or "").strip()
    if "@" in typed and len(typed) <= 254 and not any(char.isspace() for char in typed):
        return typed
    return NOT_AN_EMAIL_ADDRESS


def username_for_lockout(request, credentials):
    """Count failed sign-ins for ` Ada@School.ORG ` and `ada@school.org` together.

    Whatever cannot be an address counts as one placeholder: locked out per IP like
    an address, never stored, and never longer than the database's 255 characters.
    """
    username = (credentials or {}).get("username") or request.POST.get("username")
    # Checked once lower-cased, which lengthens some characters ("İ").
    return typed_email(Staff.objects.normalize_email(username))
