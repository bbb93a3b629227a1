"""The staff list as a CSV file."""

from lists.spreadsheets import SpreadsheetExport, spreadsheet_safe

COLUMNS = ("email", "first_name", "last_name", "subject_group", "is_active")


class StaffExport(SpreadsheetExport):
    """The staff of a queryset, in its order."""

    columns = COLUMNS

    def rows(self):
        # values_list() joins the subject group in the same query, and skips
        # building a model instance per row.
        values = self.queryset.values_list(
            "email", "first_name", "last_name", "subject_group__name", "is_active"
        )
        for email, first_name, last_name, group, is_active in values.iterator(self.chunk_size):
            yield [
                *(spreadsheet_safe(cell) for cell in (email, first_name, last_name, group or "")),
                "true" if is_active else "false",
            ]
