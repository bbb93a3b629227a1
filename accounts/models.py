import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction
from django.db.models import Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.functions import Lower, Trim
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from schoolstaff.validators import validate_name, validate_year_in_range
from schoolstaff.versioning import VersionedModel

from . import audit, emails


class StaffQuerySet(models.QuerySet):
    def with_powers(self):
        """Annotate `holds_powers` (see Staff.has_powers), for lists that show what one may do."""
        Staff = self.model
        groups = Staff.groups.through.objects.filter(
            **{Staff.groups.field.m2m_field_name(): OuterRef("pk")}
        )
        permissions = Staff.user_permissions.through.objects.filter(
            **{Staff.user_permissions.field.m2m_field_name(): OuterRef("pk")}
        )
        powers = (
            Q(is_staff=True) | Q(is_superuser=True) | Q(Exists(groups)) | Q(Exists(permissions))
        )
        return self.annotate(
            holds_powers=ExpressionWrapper(powers, output_field=models.BooleanField())
        )


class StaffManager(BaseUserManager.from_queryset(StaffQuerySet)):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        """Lower-case and trim, so that one address is one account however it is typed."""
        return (email or "").strip().lower()

    def get_by_natural_key(self, email):
        return self.get(email=self.normalize_email(email))

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields.get("is_staff") is not True:
            raise ValueError("Superuser must have is_staff=True.")
        if extra_fields.get("is_superuser") is not True:
            raise ValueError("Superuser must have is_superuser=True.")
        if password is not None:
            # `createsuperuser` lets an operator bypass the password rules; the
            # most powerful account must not.
            validate_password(password, self.model(email=email, **extra_fields))
        return self._create_user(email, password, **extra_fields)

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("The email address must be set.")
        staff = self.model(email=email, **extra_fields)
        staff.set_password(password)
        staff.save(using=self._db)
        return staff


class AuditedModel:
    """Record each save in the audit trail, with the fields it changed and their old values.

    The values as loaded are kept on the instance (`from_db`), so that a save
    finds what it changed without reading the row again. Deletions are recorded
    by a `post_delete` receiver, which sees the admin's bulk deletions too.
    """

    # Not worth recording, or (a password hash) never to be stored.
    audit_ignored_fields = frozenset()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance.audit_snapshot = instance.audit_values()
        return instance

    def save(self, *args, **kwargs):
        adding = self._state.adding
        kind, changes = self.audit_kind_and_changes(adding, kwargs.get("update_fields"))
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        # The change and its record commit together, or neither does. Without a
        # savepoint: inside a request's transaction this costs no query.
        with transaction.atomic(using=using, savepoint=False):
            super().save(*args, **kwargs)
            if kind:
                AuditEvent.objects.record(kind, self, changes)
        self.audit_snapshot = self.audit_values()

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using, fields, from_queryset)
        values = self.audit_values()
        if fields is not None:
            attnames = {self._meta.get_field(name).attname for name in fields}
            values = {key: value for key, value in values.items() if key in attnames}
        self.audit_snapshot = {**getattr(self, "audit_snapshot", {}), **values}

    def audit_label(self):
        return str(self)

    @classmethod
    def audited_fields(cls):
        return [
            field
            for field in cls._meta.concrete_fields
            if not field.primary_key and field.name not in cls.audit_ignored_fields
        ]

    def audit_values(self):
        """The audited fields' values as they are now (those loaded, for a deferred field)."""
        return {
            field.attname: self.__dict__[field.attname]
            for field in self.audited_fields()
            if field.attname in self.__dict__
        }

    def audit_kind_and_changes(self, adding, update_fields=None, related_labels=None):
        """What a save now would record: its kind, and each field's old and new value.

        `related_labels` ({"subject_group_id": {pk: name}}) saves looking names up.
        """
        if adding:
            fields = [
                field
                for field in self.audited_fields()
                # Not worth saying: empty values, defaults, and the moment of creation.
                if getattr(self, field.attname) not in (None, "")
                and not (field.has_default() and callable(field.default))
                and getattr(self, field.attname) != field.get_default()
            ]
            return AuditEvent.Kind.CREATED, self.audit_changes(fields, {}, related_labels)
        old = getattr(self, "audit_snapshot", {})
        fields = [
            field
            for field in self.audited_fields()
            if field.attname in old
            and (update_fields is None or field.name in update_fields)
            and getattr(self, field.attname) != old[field.attname]
        ]
        # A change nobody can see is none: the admin's form drops date_joined's microseconds.
        changes = [
            change
            for change in self.audit_changes(fields, old, related_labels)
            if change["old"] != change["new"]
        ]
        if not changes:
            return None, []
        if [change["field"] for change in changes] == ["is_active"]:
            kind = AuditEvent.Kind.ACTIVATED if self.is_active else AuditEvent.Kind.DEACTIVATED
            return kind, changes
        return AuditEvent.Kind.CHANGED, changes

    def audit_changes(self, fields, old, related_labels=None):
        """Each field's label and its old and new value, readable: a group by its name."""
        labels = dict(related_labels or {})
        for field in fields:
            if field.is_relation and field.attname not in labels:
                labels[field.attname] = self._related_labels(field, old.get(field.attname))
        return [
            {
                "field": field.name,
                "label": str(capfirst(field.verbose_name)),
                "old": readable(field, old.get(field.attname), labels.get(field.attname)),
                "new": readable(field, getattr(self, field.attname), labels.get(field.attname)),
            }
            for field in fields
        ]

    def _related_labels(self, field, old_pk):
        """Names of the old and new related objects: the new one is usually loaded already."""
        new = field.get_cached_value(self, default=None)
        labels = {new.pk: str(new)} if new is not None else {}
        wanted = {old_pk, getattr(self, field.attname)} - {None, *labels}
        if wanted:
            found = field.related_model._base_manager.in_bulk(wanted)
            labels.update((pk, str(obj)) for pk, obj in found.items())
        return labels


def readable(field, value, labels=None):
    """A field's value as the audit trail shows it; None for no value."""
    if value is None or value == "":
        return None
    if labels is not None:
        return labels.get(value, f"#{value}")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


class Staff(AuditedModel, VersionedModel, AbstractUser):
    username = None
    email = models.EmailField(
        "email",
        unique=True,
        error_messages={"unique": "A staff member with this email already exists."},
    )
    first_name = models.CharField("first name", max_length=150, validators=[validate_name])
    last_name = models.CharField("last name", max_length=150, validators=[validate_name])
    date_joined = models.DateTimeField(
        "date joined", default=timezone.now, validators=[validate_year_in_range]
    )
    last_login = models.DateTimeField(
        "last login", blank=True, null=True, validators=[validate_year_in_range]
    )
    must_change_password = models.BooleanField(
        "must change password",
        default=False,
        help_text="Set when someone else chose the password: the owner must replace it "
        "at the next sign-in.",
    )
    subject_group = models.ForeignKey(
        "subjects.SubjectGroup",
        verbose_name="subject group",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
    )

    objects = StaffManager()

    # The password is recorded as changed, never its hash; sign-ins are
    # recorded as account events.
    audit_ignored_fields = frozenset({"password", "last_login", "must_change_password", "version"})
    # How a password change is recorded; forms for resets and invitations say otherwise.
    audit_password_kind = "password_changed"

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        verbose_name = "staff member"
        verbose_name_plural = "staff"
        ordering = ["last_name", "first_name"]
        # The staff list shows active staff by name. Partial indexes, because
        # SQLite uses an index on `is_active` for neither the sort nor the
        # filter; `id` and `email` in them let a page's rows and a search be
        # found in the index alone.
        indexes = [
            models.Index(
                fields=["last_name", "first_name", "id", "email"],
                condition=models.Q(is_active=True),
                name="staff_active_by_last_name",
            ),
            models.Index(
                fields=["first_name", "last_name", "id", "email"],
                condition=models.Q(is_active=True),
                name="staff_active_by_first_name",
            ),
            # Each subject group's count of active staff.
            models.Index(fields=["subject_group", "is_active"], name="staff_group_active"),
        ]
        constraints = [
            # With every address stored in lower case, the unique index on
            # `email` is unique without regard to case.
            models.CheckConstraint(
                condition=models.Q(email=Lower(Trim("email"))),
                name="staff_email_lower_case_and_trimmed",
                violation_error_message="Email addresses are stored in lower case.",
            ),
        ]

    def __str__(self):
        return self.get_full_name()

    @classmethod
    def from_db(cls, db, field_names, values):
        staff = super().from_db(db, field_names, values)
        staff._remember_sign_in()
        return staff

    def save(self, *args, **kwargs):
        self.email = type(self).objects.normalize_email(self.email)
        saved_email, saved_password = getattr(self, "_saved_sign_in", (None, None))
        # A first password (an invitation accepted) changes nothing the owner had.
        password_changed = (
            self._password is not None
            and saved_password is not None
            and is_password_usable(saved_password)
        )
        super().save(*args, **kwargs)
        # The owner hears of every change to how they sign in, whoever made it.
        if password_changed:
            emails.send_account_email("password_changed", self.email, staff=self)
        if saved_email and saved_email != self.email:
            emails.send_account_email(
                "email_changed", saved_email, staff=self, old_email=saved_email
            )
        self._remember_sign_in()

    def _remember_sign_in(self):
        self._saved_sign_in = (self.__dict__.get("email"), self.__dict__.get("password"))

    def get_absolute_url(self):
        return reverse("staff:detail", kwargs={"pk": self.pk})

    def audit_label(self):
        return f"{self} ({self.email})"

    def audit_kind_and_changes(self, adding, update_fields=None, related_labels=None):
        kind, changes = super().audit_kind_and_changes(adding, update_fields, related_labels)
        # set_password() keeps the new password in `_password` until the save. A
        # hash upgraded at sign-in saves only the hash, with `_password` cleared:
        # the same password, no change.
        saved_password = getattr(self, "_saved_sign_in", (None, None))[1]
        hash_replaced = saved_password is not None and self.password != saved_password
        password_changed = self._password is not None or (
            hash_replaced and set(update_fields or ()) != {"password"}
        )
        if adding or not password_changed:
            return kind, changes
        changes.append({"field": "password", "label": "Password", "old": None, "new": None})
        return (self.audit_password_kind if len(changes) == 1 else AuditEvent.Kind.CHANGED), changes

    @property
    def is_invited(self):
        """Invited and not signed in yet: no password of their own so far."""
        return not self.has_usable_password()

    def clean(self):
        super().clean()  # Normalises the email.
        if self.pk and not (self.is_active and self.is_superuser):
            active_superusers = Staff.objects.filter(is_active=True, is_superuser=True)
            if list(active_superusers.values_list("pk", flat=True)[:2]) == [self.pk]:
                field = "is_superuser" if not self.is_superuser else "is_active"
                raise ValidationError(
                    {field: "This is the last active superuser: the site needs at least one."},
                    code="last_superuser",
                )

    @property
    def has_powers(self):
        """Whether this account holds any power: staff status, superuser status, a group or a
        permission. Only a superuser may change such an account (`refusal_to_change_by`)."""
        if "holds_powers" in self.__dict__:  # Annotated by Staff.objects.with_powers().
            return self.holds_powers
        return (
            self.is_staff
            or self.is_superuser
            or self.groups.exists()
            or self.user_permissions.exists()
        )

    def refusal_to_change_by(self, user):
        """Say why `user` may not change this account, or return "" if they may.

        The one rule of authority, which the site, the admin and the import all ask:
        a manager keeps plain members' accounts; only a superuser changes an account
        that holds powers, lest a manager take it over and, through it, more powers
        than their own. Owners still change their own name and password.
        """
        if user.is_superuser or self.pk == user.pk:
            return ""
        if self.is_superuser:
            return "Only a superuser can change or delete a superuser's account."
        if self.has_powers:
            return "Only a superuser can change an account with administrative powers."
        return ""

    def refusal_to_delete_by(self, user):
        """Say why `user` may not delete this account, or return "" if they may."""
        # Nobody deletes their own account, so the last active superuser
        # cannot be deleted either: only another active superuser could.
        if self.pk == user.pk:
            return "You cannot delete your own account."
        return self.refusal_to_change_by(user)


class EmailRequestQuerySet(models.QuerySet):
    def allow(self, kind, email, ip, per_email, per_ip, window=timedelta(hours=1)):
        """Record a request for an email of `kind`, unless it would pass a limit.

        Kept in the database, so that every worker process sees every request.
        Requests for one address, or from one IP, wait for each other from the
        count to the record, so that parallel requests cannot all pass a limit.
        """
        with transaction.atomic(using=self.db):
            lock_for_this_transaction(self.db, f"{kind}:{email}", f"{kind}:{ip}")
            return self._allow(kind, email, ip, per_email, per_ip, window)

    def _allow(self, kind, email, ip, per_email, per_ip, window):
        recent = self.filter(kind=kind)
        recent.filter(created_at__lt=timezone.now() - window).delete()
        if (
            recent.filter(email=email).count() >= per_email
            or recent.filter(ip=ip).count() >= per_ip
        ):
            return False
        self.create(kind=kind, email=email, ip=ip)
        return True


def lock_for_this_transaction(using, *names):
    """Hold a lock on each name until the transaction ends.

    PostgreSQL: advisory locks, taken in one order so that two requests never
    wait for each other. SQLite needs none: a transaction that writes holds the
    whole database (IMMEDIATE, see settings).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in sorted(set(names)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


class EmailRequest(models.Model):
    """A request that sends an email to an address: a password reset or an invitation."""

    kind = models.CharField(max_length=20)
    email = models.EmailField()
    ip = models.GenericIPAddressField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = EmailRequestQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["kind", "email"]),
            models.Index(fields=["kind", "ip"]),
        ]

    def __str__(self):
        return f"{self.kind} for {self.email} from {self.ip}"


class DirectoryVersionQuerySet(models.QuerySet):
    def current(self):
        """The token of the staff and groups as they are now, or None if there is none."""
        return self.filter(pk=1).values_list("token", flat=True).first()

    def bump(self):
        """Record that staff or groups changed, in the transaction that changes them."""
        if not self.filter(pk=1).update(token=uuid.uuid4()):
            self.get_or_create(pk=1, defaults={"token": uuid.uuid4()})


class DirectoryVersion(models.Model):
    """A token that changes with every change to staff or subject groups.

    The list pages keep their rendered content in the cache under it (see
    schoolstaff.views.CachedListMixin). It lives in the database, so that every
    worker process and app server sees a change at once, and is a random token
    rather than a counter, so that a rolled-back change or a restored backup
    can never bring back an old page.
    """

    token = models.UUIDField(default=uuid.uuid4)

    objects = DirectoryVersionQuerySet.as_manager()

    def __str__(self):
        return str(self.token)


class AuditEventQuerySet(models.QuerySet):
    def record(self, kind, target=None, changes=(), *, request=None, actor=None, email_typed=""):
        """Record one event, made by `actor`, the request's user or the current command."""
        event = self.model.build(kind, target, changes, request, actor, email_typed)
        # Saved with the change, in its transaction: no record without it, nor it without one.
        event.save(using=self.db)
        audit.log_on_commit([event], using=self.db)
        return event

    def record_many(self, kind, targets_and_changes, batch_size=500):
        """Record one event per (target, changes), in a few queries: for imports."""
        events = [
            self.model.build(kind, target, changes) for target, changes in targets_and_changes
        ]
        self.bulk_create(events, batch_size=batch_size)
        audit.log_on_commit(events, using=self.db)
        return events

    def about(self, target):
        return self.filter(
            target_type=ContentType.objects.get_for_model(target), target_id=target.pk
        )

    def older_than(self, days):
        return self.filter(created_at__lt=timezone.now() - timedelta(days=days))


class AuditEvent(models.Model):
    """Who changed which staff record or group, when and from where; and account events.

    Our own model, rather than django-simple-history or django-auditlog: those
    see neither the import's bulk queries nor sign-ins, lockouts and invitations.
    Events are written once and never changed; `prune_audit` removes old ones.
    """

    class Kind(models.TextChoices):
        CREATED = "created", "Added"
        CHANGED = "changed", "Changed"
        DEACTIVATED = "deactivated", "Deactivated"
        ACTIVATED = "activated", "Reactivated"
        DELETED = "deleted", "Deleted"
        IMPORTED = "imported", "Added by import"
        IMPORT_CHANGED = "import_changed", "Changed by import"
        PERMISSIONS_CHANGED = "permissions_changed", "Groups or permissions changed"
        LOGIN = "login", "Signed in"
        LOGIN_FAILED = "login_failed", "Sign-in failed"
        LOCKED_OUT = "locked_out", "Locked out"
        LOGOUT = "logout", "Signed out"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_RESET = "password_reset", "Password reset"
        INVITATION_SENT = "invitation_sent", "Invitation sent"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"

    OWNER_PROVED_BY_LINK = {Kind.PASSWORD_RESET, Kind.INVITATION_ACCEPTED}

    created_at = models.DateTimeField("when", default=timezone.now)
    kind = models.CharField("what", max_length=30, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="who",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept when the actor's account is deleted; a command's name when no person acted.
    actor_label = models.CharField("who (as recorded)", max_length=254, blank=True)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    # No foreign key to the target: its history outlives it.
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField("record", max_length=320, blank=True)
    email_typed = models.CharField("email typed", max_length=254, blank=True)
    # [{"field": "subject_group", "label": "Subject group", "old": "Science", "new": "Maths"}]
    changes = models.JSONField(default=list, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "audit event"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["target_type", "target_id", "-created_at", "-id"], name="audit_by_target"
            ),
            models.Index(fields=["actor", "-created_at"], name="audit_by_actor"),
            models.Index(fields=["kind", "-created_at"], name="audit_by_kind"),
            models.Index(fields=["-created_at", "-id"], name="audit_newest_first"),
        ]

    def __str__(self):
        return self.description

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Audit events are never changed.")
        super().save(*args, **kwargs)

    @classmethod
    def build(cls, kind, target=None, changes=(), request=None, actor=None, email_typed=""):
        who = audit.actor_of_request(request) if request is not None else audit.current_actor()
        if actor is None and who.staff is None and kind in cls.OWNER_PROVED_BY_LINK:
            # Only the owner holds the emailed link, and they are not signed in yet.
            actor = target
        if actor is not None:
            who = who._replace(staff=actor, label=actor.email)
        return cls(
            kind=kind,
            actor=who.staff,
            actor_label=who.label,
            ip=who.ip,
            target_type=ContentType.objects.get_for_model(target) if target else None,
            target_id=target.pk if target else None,
            target_label=label_of(target)[:320] if target else "",
            email_typed=email_typed[:254],
            changes=list(changes),
        )

    @property
    def actor_name(self):
        return str(self.actor) if self.actor else (self.actor_label or "Someone")

    @property
    def target_name(self):
        """The target as recorded, without the email that the label adds for staff."""
        if self.target_type_id == ContentType.objects.get_for_model(Staff).pk:
            return self.target_label.rsplit(" (", 1)[0]
        return self.target_label or "someone"

    @property
    def description(self):
        """The event as a sentence: 'Ada Lovelace changed Subject group from Science to Maths'."""
        Kind = self.Kind
        actor, target = self.actor_name, self.target_name
        own = self.actor_id is not None and self.actor_id == self.target_id
        sentences = {
            Kind.CREATED: f"{actor} added {target}",
            Kind.CHANGED: f"{actor} changed {self.changes_text}",
            Kind.DEACTIVATED: f"{actor} deactivated {target}",
            Kind.ACTIVATED: f"{actor} reactivated {target}",
            Kind.DELETED: f"{actor} deleted {target}",
            Kind.IMPORTED: f"{actor} added {target} by import",
            Kind.IMPORT_CHANGED: f"{actor} changed {self.changes_text} by import",
            Kind.PERMISSIONS_CHANGED: f"{actor} {self.changes_text}",
            Kind.LOGIN: f"{actor} signed in",
            Kind.LOGIN_FAILED: f"Failed sign-in as “{self.email_typed}”",
            Kind.LOCKED_OUT: f"Sign-in as “{self.email_typed}” locked after repeated failures",
            Kind.LOGOUT: f"{actor} signed out",
            Kind.PASSWORD_CHANGED: f"{actor} changed their password"
            if own
            else f"{actor} set the password of {target}",
            Kind.PASSWORD_RESET: f"{target} reset their password with an emailed link",
            Kind.INVITATION_SENT: f"{actor} sent an invitation to {target}",
            Kind.INVITATION_ACCEPTED: f"{target} accepted the invitation and chose a password",
        }
        # "System changed …", "Command import_staff added …": a sentence starts with a capital.
        return capfirst(sentences.get(self.kind, f"{actor}: {self.get_kind_display()}"))

    @property
    def changes_text(self):
        """'Subject group from Science to Mathematics and the password', or the like."""
        phrases = [change_phrase(change) for change in self.changes]
        if len(phrases) < 2:
            return "".join(phrases) or "nothing"
        return f"{', '.join(phrases[:-1])} and {phrases[-1]}"

    @property
    def created_with(self):
        """The values a record was created with: 'Email ada@…, Subject group Mathematics'."""
        return ", ".join(f"{change['label']} {change['new']}" for change in self.changes)


def label_of(target):
    """How the trail names a record: its own label, or (a permission group) its name."""
    return target.audit_label() if hasattr(target, "audit_label") else str(target)


def change_phrase(change):
    if change["field"] == "password":
        return "the password"
    if change["field"] in {"groups", "user_permissions", "permissions"}:
        if change["new"]:
            return f"added {change['new']} to {change['label']}"
        return f"removed {change['old']} from {change['label']}"
    return f"{change['label']} from {change['old'] or 'none'} to {change['new'] or 'none'}"
