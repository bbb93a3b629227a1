"""Staff read from a CSV file: every row checked first, then all written at once."""

import codecs
import csv
import io
import re
import secrets
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from audit.models import AuditEvent
from lists.spreadsheets import without_formula_guard
from records.validators import validate_name
from subjects.models import SubjectGroup, name_key

from .models import Staff

SAVE_AS_CSV = "Save the spreadsheet as “CSV UTF-8 (comma delimited)” and upload that."


class RowError(NamedTuple):
    line: int
    reason: str

    def __str__(self):
        return f"Line {self.line}: {self.reason}"


class ImportCounts(NamedTuple):
    create: int
    update: int
    unchanged: int


def column_key(name):
    """The name of a header cell without case, spaces, underscores or hyphens."""
    return re.sub(r"[\s_-]+", "", name).lower()


NAME_PROBLEMS = {
    "invisible_character": "{what} holds a line break, control or invisible character "
    "(U+{code:04X}).",
    "invisible_name": "{what} has no visible character.",
}


def name_errors(name, what):
    """Why `name` breaks the name rules, as sentences about `what`: "The first name …"."""
    try:
        validate_name(name)
    except ValidationError as error:
        for problem in error.error_list:
            yield NAME_PROBLEMS[problem.code].format(what=what, **(problem.params or {}))


def is_blank(cells):
    return not any(cell.strip() for cell in cells)


def cell_value(cells, index):
    """A cell trimmed, or "" when the row is too short to have it."""
    return without_formula_guard(cells[index].strip()) if index < len(cells) else ""


def group_key(group):
    """A subject group cell as the import keeps it: None keeps the member's group, "" is none."""
    return None if group is None else name_key(group)


def in_batches(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class StaffImport:
    """Staff from CSV text, matched by email: new ones created, known ones updated.

    The constructor reads the text without touching the database and raises
    ValidationError when it is no staff CSV at all. `errors` then checks every
    row against the database, and `save()` writes them, all or nothing.
    """

    required_columns = ("email", "first_name", "last_name")
    optional_columns = ("subject_group",)
    # Emails looked up, and staff created or updated, per query.
    batch_size = 500

    # No staff file needs more: a longer row or line is something else, or an attack.
    max_cells = 50
    max_line_length = 10_000

    def __init__(self, text="", *, rows=None, create_groups=False, editor=None):
        self.create_groups = create_groups
        # Who imports, on the site; None for the command, which an operator runs.
        self.editor = editor
        # (line, email, first name, last name, subject group: None without the column),
        # read from the text, or as read before (`rows`, kept between preview and confirm).
        self.rows = list(self._read(text)) if rows is None else [tuple(row) for row in rows]
        self._errors = None

    @classmethod
    def from_file(cls, file, **kwargs):
        return cls(cls.decode(file), **kwargs)

    @staticmethod
    def decode(file):
        """The text of an uploaded or opened binary file, if it can be a CSV file in UTF-8."""
        limit = settings.STAFF_IMPORT_MAX_BYTES
        content = file.read(limit + 1)
        if len(content) > limit:
            raise ValidationError(
                f"The file is larger than {filesizeformat(limit)}, the limit. "
                "Split it into smaller files.",
                code="too_large",
            )
        if not content.removeprefix(codecs.BOM_UTF8).strip():
            raise ValidationError("The file is empty.", code="empty")
        if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise ValidationError(f"The file is in UTF-16, not UTF-8. {SAVE_AS_CSV}", code="utf16")
        # Text never holds a NUL byte; spreadsheets (.xlsx, .xls) and PDFs do.
        if b"\0" in content:
            raise ValidationError(f"This is not a CSV file. {SAVE_AS_CSV}", code="not_csv")
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = content.count(b"\n", 0, error.start) + 1
            raise ValidationError(
                f"The file is not in UTF-8 (line {line} is not). {SAVE_AS_CSV}",
                code="not_utf8",
            ) from error

    def _read(self, text):
        """Yield a row for each line below the header that is not blank."""
        # The header holds no commas or semicolons but those between its names.
        header_line = text.lstrip().partition("\n")[0]
        delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
        for number, physical_line in enumerate(text.splitlines(), start=1):
            if len(physical_line) > self.max_line_length:
                raise ValidationError(
                    f"Line {number} is longer than {self.max_line_length:,} characters: this "
                    f"is not a staff file. {SAVE_AS_CSV}",
                    code="line_too_long",
                )
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        count = 0
        try:
            header = next((row for row in reader if not is_blank(row)), [])
            self._check_cell_count(header, reader.line_num)
            positions = self._column_positions(header)
            has_group_column = "subject_group" in positions
            line = reader.line_num + 1
            for cells in reader:
                self._check_cell_count(cells, line)
                if not is_blank(cells):
                    count += 1
                    if count > settings.STAFF_IMPORT_MAX_ROWS:
                        raise ValidationError(
                            f"The file has more than {settings.STAFF_IMPORT_MAX_ROWS:,} staff "
                            "rows, the limit. Split it into smaller files.",
                            code="too_many_rows",
                        )
                    yield (
                        line,
                        *(cell_value(cells, positions[name]) for name in self.required_columns),
                        cell_value(cells, positions["subject_group"]) if has_group_column else None,
                    )
                line = reader.line_num + 1
        except csv.Error as error:
            raise ValidationError(
                f"Line {reader.line_num} is not valid CSV ({error}). {SAVE_AS_CSV}",
                code="not_csv",
            ) from error
        if not count:
            raise ValidationError("The file has no staff rows below its header.", code="no_rows")

    def _check_cell_count(self, cells, line):
        if len(cells) > self.max_cells:
            raise ValidationError(
                f"Line {line} has {len(cells):,} cells; a staff file has at most "
                f"{self.max_cells}. {SAVE_AS_CSV}",
                code="too_many_cells",
            )

    def _column_positions(self, header):
        """Map each column we know to its index in the header."""
        known = {column_key(name): name for name in self.required_columns + self.optional_columns}
        positions = {}
        for index, cell in enumerate(header):
            column = known.get(column_key(cell))
            if column in positions:
                raise ValidationError(
                    f"The header names the column {column} twice.", code="duplicate_column"
                )
            if column:
                positions[column] = index
        missing = [column for column in self.required_columns if column not in positions]
        if missing:
            raise ValidationError(
                f"The header lacks the column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}. The first line must name the columns email, "
                "first_name, last_name and, if you like, subject_group.",
                code="missing_columns",
            )
        return positions

    @property
    def errors(self):
        """Every problem, by line; the rows are checked against the database the first time."""
        self._check_once()
        return self._errors

    @property
    def counts(self):
        self._check_once()
        return ImportCounts(len(self.new_rows), len(self.changed_staff), self.unchanged_count)

    @property
    def new_group_names(self):
        self._check_once()
        return sorted(self.new_groups.values(), key=str.lower)

    def _check_once(self):
        if self._errors is not None:
            return
        self._errors = []
        self.group_ids = self._group_ids()
        # Lower-cased name to name as first written, for groups to create.
        self.new_groups = {}
        valid_rows = []
        first_line_of_email = {}
        for line, email, first_name, last_name, group in self.rows:
            email = Staff.objects.normalize_email(email)
            reasons = [
                *self._email_errors(email, first_line_of_email),
                *self._name_errors(first_name, "first_name"),
                *self._name_errors(last_name, "last_name"),
                *self._group_errors(group),
            ]
            first_line_of_email.setdefault(email, line)
            self._errors += [RowError(line, reason) for reason in reasons]
            if not reasons:
                valid_rows.append((line, email, first_name, last_name, group))
        self._sort_out(valid_rows)
        self._errors.sort(key=lambda error: error.line)

    def _email_errors(self, email, first_line_of_email):
        max_length = Staff._meta.get_field("email").max_length
        if not email:
            yield "The email is missing."
        elif len(email) > max_length:
            yield f"The email is longer than {max_length} characters."
        elif email in first_line_of_email:
            yield f"The email {email} is also on line {first_line_of_email[email]}."
        else:
            try:
                validate_email(email)
            except ValidationError:
                yield f"“{email}” is not a valid email address."

    def _name_errors(self, name, field_name):
        field = Staff._meta.get_field(field_name)
        if not name:
            yield f"The {field.verbose_name} is missing."
        elif len(name) > field.max_length:
            yield f"The {field.verbose_name} is longer than {field.max_length} characters."
        else:
            yield from name_errors(name, f"The {field.verbose_name}")

    def _group_errors(self, group):
        if not group:
            return
        max_length = SubjectGroup._meta.get_field("name").max_length
        key = group_key(group)
        if len(group) > max_length:
            yield f"The subject group is longer than {max_length} characters."
        elif errors := list(name_errors(group, "The subject group")):
            yield from errors
        elif key not in self.group_ids and key not in self.new_groups:
            if self.create_groups:
                # Created once, named as first written, however later rows write it.
                self.new_groups[key] = group
            else:
                yield (
                    f"There is no subject group “{group}”. Add it first, or choose to create "
                    "subject groups that do not exist yet."
                )

    def _sort_out(self, valid_rows):
        """Split the valid rows into staff to create, staff to update and unchanged staff."""
        self.new_rows = []
        self.changed_staff = []
        self.unchanged_count = 0
        fields = ["email", "first_name", "last_name", "subject_group", "is_superuser", "is_staff"]
        existing = {}
        for emails in in_batches([row[1] for row in valid_rows], self.batch_size):
            found = Staff.objects.with_powers().filter(email__in=emails).only(*fields)
            existing.update((staff.email, staff) for staff in found)
        for line, email, first_name, last_name, group in valid_rows:
            staff = existing.get(email)
            if staff is None:
                self.new_rows.append((email, first_name, last_name, group_key(group)))
            elif (staff.first_name, staff.last_name) == (first_name, last_name) and (
                self._keeps_group(staff, group)
            ):
                self.unchanged_count += 1
            elif self.editor and (refusal := staff.refusal_to_change_by(self.editor)):
                self._errors.append(RowError(line, refusal))
            else:
                staff.first_name, staff.last_name = first_name, last_name
                self.changed_staff.append((staff, group_key(group)))

    def _keeps_group(self, staff, group):
        if group is None:  # The file has no subject_group column.
            return True
        key = group_key(group)
        return key not in self.new_groups and self.group_ids.get(key) == staff.subject_group_id

    def _group_ids(self):
        return dict(SubjectGroup.objects.values_list("name_key", "pk"))

    def save(self):
        """Create and update the staff and groups in one transaction; return the counts."""
        if self.errors:
            raise ValueError("A staff import with errors cannot be saved.")
        # An import changes no one's email or password, so it sends no email: new
        # staff hear of their account when they ask for a password reset, or when
        # a manager resends their invitation.
        with transaction.atomic():
            if self.new_groups:
                SubjectGroup.create_in_bulk(
                    [SubjectGroup(name=name) for name in self.new_groups.values()],
                    kind=AuditEvent.Kind.IMPORTED,
                )
                self.group_ids = self._group_ids()
            Staff.create_in_bulk(
                [self._new_staff(*row) for row in self.new_rows],
                kind=AuditEvent.Kind.IMPORTED,
                batch_size=self.batch_size,
            )
            for staff, group in self.changed_staff:
                if group is not None:
                    staff.subject_group_id = self.group_ids.get(group)
            # Names and group only: an import never touches sign-in details or privileges.
            Staff.update_in_bulk(
                [staff for staff, _ in self.changed_staff],
                ["first_name", "last_name", "subject_group"],
                kind=AuditEvent.Kind.IMPORT_CHANGED,
                batch_size=self.batch_size,
            )
        return self.counts

    def _new_staff(self, email, first_name, last_name, group):
        return Staff(
            email=email,
            first_name=first_name,
            last_name=last_name,
            subject_group_id=self.group_ids.get(group),
            # Unusable, as make_password(None) makes it, and different for each
            # member: they choose their password through password reset. Built from
            # one call to the system's random source rather than forty, which makes
            # the difference at 10,000 rows.
            password=UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(20),
            is_staff=False,
            is_superuser=False,
        )
