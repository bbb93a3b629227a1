from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count

from audit.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Delete audit events older than the retention period (DJANGO_AUDIT_RETENTION_DAYS, "
        "730 days unless set) and say how many of each kind were removed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep this many days instead of the configured retention period.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be removed; delete nothing."
        )

    def handle(self, *args, days, dry_run, **options):
        days = settings.AUDIT_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("The retention period must be at least one day.")
        with transaction.atomic():
            old = AuditEvent.objects.older_than(days)
            counts = dict(old.order_by("kind").values_list("kind").annotate(count=Count("pk")))
            if not dry_run:
                old.delete()
        total = sum(counts.values())
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(
            f"{verb} {total} audit event{'s' if total != 1 else ''} older than {days} days."
        )
        labels = dict(AuditEvent.Kind.choices)
        for kind, count in sorted(counts.items()):
            self.stdout.write(f"  {labels.get(kind, kind)}: {count}")
