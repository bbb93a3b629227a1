"""A person's second factors: an authenticator app backed by recovery codes.

Adding, using, removing and resetting them is recorded in the audit trail, and
the owner is emailed about each, except the everyday use of the app.
"""

import axes.utils
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessFailureLog
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.emails import send_account_email
from audit.actors import client_ip
from audit.models import AuditEvent

RECOVERY_CODE_COUNT = 10
APP_NAME = "Authenticator app"
PASSKEY_NAME = "Passkey"


def app_of(user):
    """The user's confirmed authenticator app, or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def passkeys_of(user):
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at")


def has_factor(user):
    """Whether the user has a factor of their own: recovery codes only back one up."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists() or passkeys_of(user).exists()
    )


def factor_count(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).count() + passkeys_of(user).count()


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def generate_recovery_codes(user, request):
    """Replace the user's recovery codes with new ones, and return them (shown once)."""
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        device = StaticDevice.objects.filter(user=user).first() or StaticDevice.objects.create(
            user=user, name="Recovery codes"
        )
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        AuditEvent.objects.record(
            AuditEvent.Kind.RECOVERY_CODES_GENERATED, user, request=request, actor=user
        )
    return codes


def normalize_code(typed):
    """A code as typed, without spaces and hyphens, lower-cased (recovery codes are)."""
    return "".join(typed.split()).replace("-", "").lower()


def verify_code(user, code):
    """The device that accepts `code` (a normalised app or recovery code), or None.

    Only the device the code's shape names is tried: a wrong code then counts once
    against one device's throttle. Each code works once.
    """
    if code.isdigit() and len(code) == 6:
        model = TOTPDevice
    elif len(code) == 8 and code.isalnum():
        model = StaticDevice
    else:
        return None
    device = model.objects.filter(user=user, confirmed=True).first()
    if device is not None and device.verify_token(code):
        return device
    return None


def lockout_credentials(user):
    """The credentials axes counts a sign-in's failures under: those of the password step."""
    return {"username": user.get_username()}


def second_step_locked(request, user):
    """Whether the user's email is locked out here, by wrong passwords or wrong codes.

    Axes forgets an email and address's failures when its password is right, as the
    password step of every second step is: failures within the cool-off, from this
    address, are counted here too, so that retyping the password gives no new tries.
    """
    credentials = lockout_credentials(user)
    if AxesProxyHandler.is_locked(request, credentials):
        return True
    recent_failures = AccessFailureLog.objects.filter(
        username=get_client_username(request, credentials),
        ip_address=client_ip(request) or None,
        attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
    ).count()
    return recent_failures >= settings.AXES_FAILURE_LIMIT


def count_failure(request, user):
    """Count a wrong code as a failed sign-in, and say whether the email is now locked."""
    AuditEvent.objects.record(AuditEvent.Kind.SECOND_STEP_FAILED, user, request=request, actor=user)
    credentials = lockout_credentials(user)
    # Axes counts it (per email and address, and the account's ceiling); it may set
    # request.axes_locked_out, which AxesMiddleware answers with 429. Asked directly, not
    # through user_login_failed, whose receivers would record a failed password too.
    AxesProxyHandler.user_login_failed(__name__, credentials, request)
    if not getattr(request, "axes_locked_out", False) and second_step_locked(request, user):
        request.axes_locked_out = True
        request.axes_credentials = credentials
    return request.axes_locked_out


def confirm_app(device, request):
    device.confirmed = True
    device.save()
    announce(AuditEvent.Kind.TWO_FACTOR_ADDED, device.user, request, factor=APP_NAME)


def recovery_code_used(user, request):
    left = recovery_codes_left(user)
    announce(AuditEvent.Kind.RECOVERY_CODE_USED, user, request, left=left)
    return left


def remove_app(device, request):
    remove_factor(device, request, APP_NAME)


def passkey_added(device, request):
    announce(AuditEvent.Kind.TWO_FACTOR_ADDED, device.user, request, factor=PASSKEY_NAME)


def remove_passkey(device, request):
    remove_factor(device, request, f"The passkey “{device.name}”")


def remove_factor(device, request, factor):
    """Remove a factor, and the recovery codes if nothing is left for them to back up."""
    user = device.user
    device.delete()
    no_factor_left = not has_factor(user)
    if no_factor_left:
        StaticDevice.objects.filter(user=user).delete()
    announce(
        AuditEvent.Kind.TWO_FACTOR_REMOVED,
        user,
        request,
        factor=factor,
        no_factor_left=no_factor_left,
    )


def reset_factors(staff, request=None, actor=None):
    """Remove every second factor of `staff` and lift a lockout, for a lost device."""
    for device in devices_for_user(staff, confirmed=None):
        device.delete()
    axes.utils.reset(username=staff.get_username())
    announce(AuditEvent.Kind.TWO_FACTOR_RESET, staff, request, actor=actor)


def announce(kind, staff, request=None, actor=None, **context):
    """Record the event and tell the owner by email, once the transaction commits."""
    if request is not None and actor is None and kind != AuditEvent.Kind.TWO_FACTOR_RESET:
        actor = staff
    AuditEvent.objects.record(kind, staff, request=request, actor=actor)
    send_account_email(f"two_factor/{kind}", staff.email, staff=staff, **context)
