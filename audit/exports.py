"""The audit trail as a CSV file that spreadsheets open safely."""

from django.utils import timezone

from lists.spreadsheets import SpreadsheetExport, spreadsheet_safe


class AuditExport(SpreadsheetExport):
    """The audit events of a queryset, in its order."""

    columns = (
        "when",
        "kind",
        "description",
        "actor",
        "actor_label",
        "ip",
        "record_type",
        "record_id",
        "record",
        "email_typed",
        "changes",
    )

    def rows(self):
        events = self.queryset.select_related("actor", "target_type")
        for event in events.iterator(self.chunk_size):
            cells = (
                timezone.localtime(event.created_at).isoformat(timespec="seconds"),
                event.kind,
                event.description,
                event.actor_name,
                event.actor_label,
                event.ip or "",
                event.target_type.model if event.target_type else "",
                "" if event.target_id is None else str(event.target_id),
                event.target_label,
                event.email_typed,
                readable_changes(event),
            )
            yield [spreadsheet_safe(cell) for cell in cells]


def readable_changes(event):
    """What changed, as the trail's pages say it: 'First name from Ada to Augusta'."""
    if not event.changes:
        return ""
    if event.kind in {event.Kind.CREATED, event.Kind.IMPORTED}:
        return event.created_with
    return event.changes_text
