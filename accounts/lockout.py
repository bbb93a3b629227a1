"""Failed sign-ins lock an email for one client IP (django-axes), and an account for all of them.

The callbacks that django-axes is set up with (settings) live here too.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone

from audit.models import AuditEvent

from . import emails
from .models import Staff

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


def account_is_locked(username):
    """Whether `username` had too many failures, from all addresses, to sign in until unlocked."""
    # Anything typed that is not an address is one placeholder, which no account has.
    if not username or username == NOT_AN_EMAIL_ADDRESS:
        return False
    # Counted in axes' failure log: one row per failure whose password was checked (those
    # refused during a lockout are not logged), under the email as our username callable
    # normalises it, indexed on it, and deletable when the account is unlocked. Axes'
    # AccessAttempt rows are deleted after the cool-off and on success; our audit trail also
    # records refused attempts, keeps the email as typed, without an index, and is never
    # changed. Failures older than the window are deleted as each new one is logged, before
    # the count that may lock (see below), so only failures within one window reach the
    # ceiling; once it is reached no failure is logged any more, and the lock stays until a
    # password reset or unlock_staff. One indexed query, on at most a window's failures.
    failures = AccessFailureLog.objects.filter(username=username).count()
    return failures >= settings.LOGIN_ACCOUNT_FAILURE_LIMIT


def clear_account_failures(username):
    """Forget the account's failed sign-ins from all addresses, which unlocks it."""
    count, _ = AccessFailureLog.objects.filter(username=username).delete()
    return count


def check_own_password(request, staff, password):
    """Check a signed-in person's password as the login page does, lockouts and all."""
    # Refused, whatever the password, while the email is locked out; a wrong one
    # counts as a failed sign-in, in axes' records and the audit trail.
    return authenticate(request, username=staff.email, password=password) == staff


class AccountLockoutHandler(AxesDatabaseHandler):
    """Axes' lockout per email and IP, and a ceiling on an account's failures from every IP."""

    def is_locked(self, request, credentials=None):
        if account_is_locked(get_client_username(request, credentials)):
            request.account_locked_out = True
            return True
        return super().is_locked(request, credentials)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        # Counted, not refused during a lockout: this failure may be the one that
        # reaches the ceiling. Then it is answered with the lockout page already.
        if request is None or request.axes_failures_since_start is None:
            return
        username = get_client_username(request, credentials)
        if account_is_locked(username):
            request.axes_locked_out = request.account_locked_out = True
            request.axes_credentials = credentials
            tell_the_owner_of_an_account_lock(request, username)

    def remove_out_of_limit_failure_logs(self, *, username, limit=None):
        """Forget the user's failures older than the window, as each new one is logged.

        Instead of axes' cap of 1,000 rows a user, which deletes rows in no set order
        and so could delete the newest: the rows left are those that count.
        """
        window_start = timezone.now() - settings.LOGIN_ACCOUNT_WINDOW
        count, _ = AccessFailureLog.objects.filter(
            username=username, attempt_time__lt=window_start
        ).delete()
        return count


def tell_the_owner_of_an_account_lock(request, username):
    """Record that failures from every address locked the account, and email its owner."""
    staff = Staff.objects.filter(email=username).first()
    AuditEvent.objects.record(
        AuditEvent.Kind.LOCKED_OUT, staff, request=request, email_typed=typed_email(username)
    )
    if staff is not None:
        emails.send_account_email(
            "account_locked",
            staff.email,
            staff=staff,
            failure_limit=settings.LOGIN_ACCOUNT_FAILURE_LIMIT,
            hours=int(settings.LOGIN_ACCOUNT_WINDOW.total_seconds() // 3600),
        )
