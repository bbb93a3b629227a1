import time

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils.text import capfirst

from subjects.models import SubjectGroup

from . import emails
from .models import AuditEvent, DirectoryVersion, Staff


@receiver(user_locked_out)
def tell_the_owner_of_a_lockout(sender, request, username, ip_address, **kwargs):
    # Axes signals again for each attempt during the lockout, without counting
    # it: only the failure that caused the lockout has been counted.
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    staff = Staff.objects.filter(email=username).first()
    AuditEvent.objects.record(
        AuditEvent.Kind.LOCKED_OUT, staff, request=request, email_typed=username or ""
    )
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


# The audit trail
# ------------------------------------------------------------------------------
@receiver(user_logged_in)
def record_sign_in(sender, request, user, **kwargs):
    AuditEvent.objects.record(AuditEvent.Kind.LOGIN, user, request=request, actor=user)


@receiver(user_login_failed)
def record_failed_sign_in(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the email is kept.
    typed = credentials.get("username") or ""
    staff = Staff.objects.filter(email=Staff.objects.normalize_email(typed)).first()
    AuditEvent.objects.record(
        AuditEvent.Kind.LOGIN_FAILED, staff, request=request, email_typed=typed
    )


@receiver(user_logged_out)
def record_sign_out(sender, request, user, **kwargs):
    if user is not None:
        AuditEvent.objects.record(AuditEvent.Kind.LOGOUT, user, request=request, actor=user)


@receiver(emails.invitation_sent)
def record_invitation(sender, staff, request, **kwargs):
    AuditEvent.objects.record(AuditEvent.Kind.INVITATION_SENT, staff, request=request)


@receiver(post_delete, sender=Staff)
@receiver(post_delete, sender=SubjectGroup)
def record_deletion(sender, instance, **kwargs):
    # Also for the admin's "delete selected", which never calls Model.delete().
    AuditEvent.objects.record(AuditEvent.Kind.DELETED, instance)


@receiver(pre_delete, sender=SubjectGroup)
def record_members_leaving_a_deleted_group(sender, instance, **kwargs):
    """Each member's history says that they lost their group, which the database does quietly."""
    members = instance.staff.only("first_name", "last_name", "email")
    change = {"field": "subject_group", "label": "Subject group", "old": str(instance), "new": None}
    AuditEvent.objects.record_many(
        AuditEvent.Kind.CHANGED, ((member, [change]) for member in members)
    )


@receiver(m2m_changed, sender=Staff.groups.through)
@receiver(m2m_changed, sender=Staff.user_permissions.through)
def record_groups_and_permissions(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    field = "groups" if sender is Staff.groups.through else "user_permissions"
    if reverse:  # group.user_set.add(staff, …): `instance` is the group or permission.
        names = [str(instance)]
        if action == "pre_clear":
            members = instance.user_set.all()
        else:
            members = Staff.objects.filter(pk__in=pk_set)
    else:
        if action == "pre_clear":
            related = getattr(instance, field).all()
        else:
            related = model.objects.filter(pk__in=pk_set)
        names = [str(obj) for obj in related]
        members = [instance]
    if not names:
        return
    listed = ", ".join(names)
    added = action == "post_add"
    change = {
        "field": field,
        "label": str(capfirst(Staff._meta.get_field(field).verbose_name)),
        "old": None if added else listed,
        "new": listed if added else None,
    }
    AuditEvent.objects.record_many(
        AuditEvent.Kind.PERMISSIONS_CHANGED, ((member, [change]) for member in members)
    )
