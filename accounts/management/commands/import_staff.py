from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.staff_import import StaffImport
from audit.actors import acting_as


class Command(BaseCommand):
    help = (
        "Create and update staff from a CSV file whose first line names the columns email, "
        "first_name, last_name and, optionally, subject_group. Rows are matched by email. "
        "Nothing is written unless every row is valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A CSV file in UTF-8, with commas or semicolons.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and count; write nothing."
        )
        parser.add_argument(
            "--create-groups",
            action="store_true",
            help="Create the subject groups that do not exist yet, instead of refusing the rows.",
        )

    def handle(self, *args, file, dry_run, create_groups, **options):
        try:
            with open(file, "rb") as csv_file:
                staff_import = StaffImport.from_file(csv_file, create_groups=create_groups)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error
        except ValidationError as error:
            raise CommandError(f"{file}: {' '.join(error.messages)}") from error

        if staff_import.new_group_names:
            names = ", ".join(staff_import.new_group_names)
            self.stdout.write(f"Subject groups to create: {names}.")
        if staff_import.errors or dry_run:
            create, update, unchanged = staff_import.counts
            self.stdout.write(f"Would create {create}, update {update}; {unchanged} unchanged.")
        for error in staff_import.errors:
            self.stderr.write(str(error))
        if staff_import.errors:
            count = len(staff_import.errors)
            raise CommandError(f"{count} problem{'s' if count > 1 else ''}: nothing was imported.")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        with acting_as("command import_staff"):
            created, updated, unchanged = staff_import.save()
        self.stdout.write(
            self.style.SUCCESS(f"Created {created}, updated {updated}; {unchanged} unchanged.")
        )
