"""One owner for every change to a kept record.

Saving a staff member or a subject group, on any path (a site form, the admin,
an import, a command), goes through `TrackedRecord.save()` for one record, or
`create_in_bulk()` and `update_in_bulk()` for many. Each, in one transaction,
records the audit events, advances the versions that edit forms check, and
adds a mark that moves on the version under which the lists keep their pages
(`lists.models.DirectoryChange`). Emails to an account's owner are sent by the
forms and views that make the change, never from here.
"""

from django.db import models, router, transaction

from audit.models import AuditedModel, AuditEvent
from lists.models import DirectoryChange
from records.versioning import VersionedModel


class TrackedRecord(AuditedModel, VersionedModel):
    class Meta:
        abstract = True

    def save(self, *args, audit_kind=None, **kwargs):
        """Save; record what changed (as `audit_kind`, a password reset say, if given)."""
        adding = self._state.adding
        update_fields = kwargs.get("update_fields")
        kind, changes = self.audit_kind_and_changes(adding, update_fields)
        if kind and audit_kind:
            kind = audit_kind
        # A save of some fields only (the last sign-in, the active flag) leaves the
        # fields an edit form shows alone, and so leaves the version.
        advanced = not adding and update_fields is None
        if advanced:
            self.version += 1
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        # The change and its record commit together, or neither does. Without a
        # savepoint: inside a request's transaction this costs no query.
        with transaction.atomic(using=using, savepoint=False):
            super().save(*args, **kwargs)
            if kind:
                AuditEvent.objects.record(kind, self, changes)
            # A sign-in saves its time, which no list shows.
            if adding or advanced or kind:
                DirectoryChange.objects.using(using).record()
        self.audit_snapshot = self.audit_values()

    @classmethod
    def create_in_bulk(cls, records, kind=AuditEvent.Kind.CREATED, batch_size=500):
        """Create many records in a few queries, with an event each."""
        if not records:
            return []
        with transaction.atomic(savepoint=False):
            # SQLite and PostgreSQL give bulk-created rows their primary keys.
            created = cls._default_manager.bulk_create(records, batch_size=batch_size)
            labels = cls.audit_related_labels(created)
            AuditEvent.objects.record_many(
                kind,
                [
                    (record, record.audit_kind_and_changes(True, related_labels=labels)[1])
                    for record in created
                ],
                batch_size=batch_size,
            )
            DirectoryChange.objects.record()
        return created

    @classmethod
    def update_in_bulk(cls, records, fields, kind=AuditEvent.Kind.CHANGED, batch_size=500):
        """Write `fields` of many records, as loaded and then changed, with an event each."""
        if not records:
            return []
        with transaction.atomic(savepoint=False):
            labels = cls.audit_related_labels(records)
            # Each record's values as loaded are the old values.
            changes = [
                (record, record.audit_kind_and_changes(False, fields, related_labels=labels)[1])
                for record in records
            ]
            for record in records:
                # An edit form opened before this must not save over it.
                record.version = models.F("version") + 1
            cls._default_manager.bulk_update(records, [*fields, "version"], batch_size=batch_size)
            AuditEvent.objects.record_many(kind, changes, batch_size=batch_size)
            DirectoryChange.objects.record()
        for record in records:
            record.audit_snapshot = {
                **getattr(record, "audit_snapshot", {}),
                **record.audit_values(),
            }
        return records
