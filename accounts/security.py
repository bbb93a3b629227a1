"""Who is asking: the client's address and the email they sign in with."""

from django.conf import settings

from .models import Staff


def client_ip(request):
    """The client's IP address, trusting X-Forwarded-For only from known proxies."""
    if settings.TRUSTED_PROXY_COUNT:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [ip.strip() for ip in header.split(",") if ip.strip()]
        # Each trusted proxy appends the address it saw; anything further left
        # came from the client and may be forged.
        if len(forwarded) >= settings.TRUSTED_PROXY_COUNT:
            return forwarded[-settings.TRUSTED_PROXY_COUNT]
    return request.META.get("REMOTE_ADDR", "")


def username_for_lockout(request, credentials):
    """Count failed sign-ins for ` Ada@School.ORG ` and `ada@school.org` together."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    return Staff.objects.normalize_email(username)
