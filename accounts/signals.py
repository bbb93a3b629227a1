import time

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.text import capfirst

from audit.models import AuditEvent
from lists.models import DirectoryChange
from subjects.models import SubjectGroup

from . import emails
from .lockout import typed_email
from .models import Staff


@receiver(user_locked_out)
def tell_the_owner_of_a_lockout(sender, request, username, ip_address, **kwargs):
    # Axes signals again for each attempt during the lockout, without counting
    # it: only the failure that caused the lockout has been counted.
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    staff = Staff.objects.filter(email=username).first()
    # One email an account per cool-off, however many addresses a guesser locks.
    told_already = (
        staff is not None
        and AuditEvent.objects.about(staff)
        .filter(
            kind=AuditEvent.Kind.LOCKED_OUT,
            created_at__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
        )
        .exists()
    )
    AuditEvent.objects.record(
        AuditEvent.Kind.LOCKED_OUT, staff, request=request, email_typed=typed_email(username)
    )
    if staff is not None and not told_already:
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


@receiver(post_delete, sender=Staff)
@receiver(post_delete, sender=SubjectGroup)
def outdate_the_cached_lists(sender, **kwargs):
    # A deletion, also the admin's "delete selected", which never calls Model.delete():
    # saves outdate the lists themselves (changes.models.TrackedRecord).
    DirectoryChange.objects.record()


@receiver(m2m_changed, sender=Staff.groups.through)
@receiver(m2m_changed, sender=Staff.user_permissions.through)
def outdate_the_cached_lists_of_buttons(sender, action, **kwargs):
    # Who holds powers decides whose Edit button a manager sees.
    if action in {"post_add", "post_remove", "post_clear"}:
        DirectoryChange.objects.record()


# The audit trail
# ------------------------------------------------------------------------------
@receiver(user_logged_in)
def record_sign_in(sender, request, user, **kwargs):
    AuditEvent.objects.record(AuditEvent.Kind.LOGIN, user, request=request, actor=user)


@receiver(user_login_failed)
def record_failed_sign_in(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; the email box may
    # hold one too, so only what may be an address is kept.
    typed = typed_email(credentials.get("username"))
    staff = Staff.objects.filter(email=Staff.objects.normalize_email(typed)).first()
    AuditEvent.objects.record(
        AuditEvent.Kind.LOGIN_FAILED, staff, request=request, email_typed=typed
    )


@receiver(user_logged_out)
def record_sign_out(sender, request, user, **kwargs):
    if user is not None:
        AuditEvent.objects.record(AuditEvent.Kind.LOGOUT, user, request=request, actor=user)


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


# Permission groups: whoever changes them changes what everyone in them may do.
# ------------------------------------------------------------------------------
@receiver(post_save, sender=Group)
def record_a_new_permission_group(sender, instance, created, raw=False, **kwargs):
    # Not when loading fixtures (`raw`), which are no one's change.
    if created and not raw:
        AuditEvent.objects.record(AuditEvent.Kind.CREATED, instance)


@receiver(pre_save, sender=Group)
def record_a_renamed_permission_group(sender, instance, raw=False, **kwargs):
    if raw:
        return
    # Recorded before the save, in its transaction: a save that fails takes it back.
    old_name = Group.objects.filter(pk=instance.pk).values_list("name", flat=True).first()
    if instance.pk and old_name is not None and old_name != instance.name:
        change = {"field": "name", "label": "Name", "old": old_name, "new": instance.name}
        AuditEvent.objects.record(AuditEvent.Kind.CHANGED, instance, [change])


@receiver(post_delete, sender=Group)
def record_a_deleted_permission_group(sender, instance, **kwargs):
    AuditEvent.objects.record(AuditEvent.Kind.DELETED, instance)


@receiver(m2m_changed, sender=Group.permissions.through)
def record_a_permission_groups_permissions(
    sender, instance, action, reverse, model, pk_set, **kwargs
):
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    if reverse:  # permission.group_set.add(group, …): `instance` is the permission.
        groups = (
            instance.group_set.all()
            if action == "pre_clear"
            else Group.objects.filter(pk__in=pk_set)
        )
        names = [str(instance)]
    else:
        groups = [instance]
        related = (
            instance.permissions.all()
            if action == "pre_clear"
            else model.objects.filter(pk__in=pk_set)
        )
        names = [str(permission) for permission in related]
    if not names:
        return
    listed = ", ".join(names)
    added = action == "post_add"
    change = {
        "field": "permissions",
        "label": "Permissions",
        "old": None if added else listed,
        "new": listed if added else None,
    }
    AuditEvent.objects.record_many(
        AuditEvent.Kind.PERMISSIONS_CHANGED, ((group, [change]) for group in groups)
    )
