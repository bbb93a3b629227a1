import time

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from subjects.models import SubjectGroup

from . import emails
from .models import DirectoryVersion, Staff


@receiver(user_locked_out)
def tell_the_owner_of_a_lockout(sender, request, username, ip_address, **kwargs):
    # Axes signals again for each attempt during the lockout, without counting
    # it: only the failure that caused the lockout has been counted.
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    staff = Staff.objects.filter(email=username).first()
    if staff is not None:
        emails.send_account_email(
            "locked_out",
            staff.email,
            staff=staff,
            failure_limit=settings.AXES_FAILURE_LIMIT,
            minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        )


@receiver(user_logged_in)
def start_the_session_clocks(sender, request, user, **kwargs):
    """Time the session from sign-in, for SessionExpiryMiddleware."""
    request.session["signed_in_at"] = request.session["last_seen_at"] = int(time.time())


@receiver(post_save, sender=Staff)
@receiver(post_save, sender=SubjectGroup)
@receiver(post_delete, sender=Staff)
@receiver(post_delete, sender=SubjectGroup)
def outdate_the_cached_lists(sender, update_fields=None, **kwargs):
    # Signing in records the time, which no list shows.
    if update_fields != frozenset({"last_login"}):
        DirectoryVersion.objects.bump()
