"""CSV files that spreadsheets open safely, and that import again unchanged."""

import csv
import io

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP,
# "CSV Injection"); a leading quote makes it plain text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A cell that starts with the quote itself gets one more, so that the import, which
# takes one off such cells, gives back exactly what was exported.
GUARDED = (*FORMULA_TRIGGERS, "'")


def spreadsheet_safe(value):
    """Prefix a quote to a cell that a spreadsheet would run as a formula."""
    return f"'{value}" if value.startswith(GUARDED) else value


def without_formula_guard(value):
    """Undo `spreadsheet_safe`: what was exported imports unchanged."""
    return value[1:] if value.startswith("'") and value[1:].startswith(GUARDED) else value


class SpreadsheetExport:
    """Write the rows of a queryset, in its order, as CSV text a chunk at a time."""

    columns = ()
    # Rows fetched from the database at once, and written out at once.
    chunk_size = 2000

    def __init__(self, queryset):
        self.queryset = queryset

    def rows(self):
        """Yield each row as a list of cells, made `spreadsheet_safe`."""
        raise NotImplementedError

    def chunks(self):
        """Yield the CSV text: a byte-order mark and the header, then the rows in chunks.

        The byte-order mark tells Excel that the file is UTF-8; without it, Excel
        reads accented names in the computer's own legacy encoding.
        """
        buffer = io.StringIO()
        # Every cell quoted: a spreadsheet that splits on ";" (German, French and
        # Dutch settings) would otherwise split "Ada;=1+1" and run its second half.
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
        buffer.write("\ufeff")
        writer.writerow(self.columns)
        for number, row in enumerate(self.rows(), start=1):
            writer.writerow(row)
            if number % self.chunk_size == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
