"""The audit trail: an event for each change to a registered record, and for account events.

Records of any model opt in by inheriting AuditedModel; the trail knows their
fields and labels, never a particular model by name.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst

from lists.queries import in_any_of

from . import actors


class AuditedModel:
    """Say what a save of this record changes: its kind, and each field's old and new value.

    The values as loaded are kept on the instance (`from_db`), so that a save
    finds what it changed without reading the row again. Recording it is the
    job of the change's owner (changes.models.TrackedRecord); deletions are
    recorded by a `post_delete` receiver, which sees the admin's bulk deletions too.
    """

    # Not worth recording, or (a password hash) never to be stored.
    audit_ignored_fields = frozenset()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance.audit_snapshot = instance.audit_values()
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using, fields, from_queryset)
        values = self.audit_values()
        if fields is not None:
            attnames = {self._meta.get_field(name).attname for name in fields}
            values = {key: value for key, value in values.items() if key in attnames}
        self.audit_snapshot = {**getattr(self, "audit_snapshot", {}), **values}

    def audit_label(self):
        """How the trail names this record; kept with each event, as it outlives the record."""
        return str(self)

    @classmethod
    def audit_name_from_label(cls, label):
        """The record's name as a sentence says it, from a label that may say more."""
        return label

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

    @classmethod
    def audit_related_labels(cls, records):
        """Names of the objects the records' relations point to, now and as loaded: for many
        records at once, by one query per relation."""
        labels = {}
        for field in cls.audited_fields():
            if not field.is_relation:
                continue
            keys = set()
            for record in records:
                old = getattr(record, "audit_snapshot", {}).get(field.attname)
                keys |= {getattr(record, field.attname), old}
            found = field.related_model._base_manager.in_bulk(keys - {None})
            labels[field.attname] = {pk: str(obj) for pk, obj in found.items()}
        return labels

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


class AuditEventQuerySet(models.QuerySet):
    def record(self, kind, target=None, changes=(), *, request=None, actor=None, email_typed=""):
        """Record one event, made by `actor`, the request's user or the current command."""
        event = self.model.build(kind, target, changes, request, actor, email_typed)
        # Saved with the change, in its transaction: no record without it, nor it without one.
        event.save(using=self.db)
        actors.log_on_commit([event], using=self.db)
        return event

    def record_many(self, kind, targets_and_changes, batch_size=500):
        """Record one event per (target, changes), in a few queries: for imports."""
        events = [
            self.model.build(kind, target, changes) for target, changes in targets_and_changes
        ]
        self.bulk_create(events, batch_size=batch_size)
        actors.log_on_commit(events, using=self.db)
        return events

    def about(self, target):
        return self.filter(
            target_type=ContentType.objects.get_for_model(target), target_id=target.pk
        )

    def newest(self, kinds, number):
        """The newest `number` events of these kinds.

        Read as the newest `number` of each kind, each from its index, then the
        newest of those: a few rows, where filtering the newest events may step
        through thousands of sign-ins, and reading the kinds' events sorts them all.
        """
        slices = [self.filter(kind=kind).values("pk")[:number] for kind in kinds]
        return self.filter(in_any_of(slices))[:number]

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
        TWO_FACTOR_ADDED = "two_factor_added", "Second factor added"
        TWO_FACTOR_REMOVED = "two_factor_removed", "Second factor removed"
        TWO_FACTOR_RESET = "two_factor_reset", "Second factors reset"
        RECOVERY_CODES_GENERATED = "recovery_codes_generated", "Recovery codes generated"
        RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used"
        SECOND_STEP_FAILED = "second_step_failed", "Second step of sign-in failed"

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
            models.Index(fields=["kind", "-created_at", "-id"], name="audit_by_kind"),
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
        who = actors.actor_of_request(request) if request is not None else actors.current_actor()
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
        """The target as recorded, named as in a sentence: the label less what it adds."""
        # From the content types' cache: a list of events costs no query per event.
        model = (
            ContentType.objects.get_for_id(self.target_type_id).model_class()
            if self.target_type_id
            else None
        )
        if model is not None and issubclass(model, AuditedModel):
            return model.audit_name_from_label(self.target_label)
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
            Kind.TWO_FACTOR_ADDED: f"{actor} added a second factor",
            Kind.TWO_FACTOR_REMOVED: f"{actor} removed a second factor",
            Kind.TWO_FACTOR_RESET: f"{actor} reset the second factors of {target}",
            Kind.RECOVERY_CODES_GENERATED: f"{actor} generated new recovery codes",
            Kind.RECOVERY_CODE_USED: f"{actor} signed in with a recovery code",
            Kind.SECOND_STEP_FAILED: f"{target} typed a wrong code after their password",
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
