"""Indexes that find a word inside staff names and emails, which B-tree indexes cannot.

SQLite: an FTS5 table with the trigram tokenizer over first name, last name and
email, its content read from accounts_staff and kept in step by triggers.
PostgreSQL: a pg_trgm GIN index on the three columns joined by spaces, in upper
case, as accounts.forms.staff.StaffListFilterForm searches them with `icontains`
(`UPPER(…) LIKE UPPER(%s)`). One index, not one per column: the planner
estimates an OR of three trigram scans dearer than reading the table, and
chooses it, though it takes five times as long. Where the extension
cannot be created (a role without the CREATE privilege on the database), the
indexes are left out and search scans, as before. Other databases: nothing.

A later migration that remakes accounts_staff on SQLite drops the triggers with
the old table: accounts/tests/test_staff_search.py checks that they exist.
"""

from django.db import DatabaseError, migrations, transaction

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE staff_search USING fts5("
    "first_name, last_name, email, content='accounts_staff', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER staff_search_insert AFTER INSERT ON accounts_staff BEGIN "
    "INSERT INTO staff_search(rowid, first_name, last_name, email) "
    "VALUES (new.id, new.first_name, new.last_name, new.email); END",
    "CREATE TRIGGER staff_search_delete AFTER DELETE ON accounts_staff BEGIN "
    "INSERT INTO staff_search(staff_search, rowid, first_name, last_name, email) "
    "VALUES ('delete', old.id, old.first_name, old.last_name, old.email); END",
    "CREATE TRIGGER staff_search_update AFTER UPDATE OF first_name, last_name, email "
    "ON accounts_staff BEGIN "
    "INSERT INTO staff_search(staff_search, rowid, first_name, last_name, email) "
    "VALUES ('delete', old.id, old.first_name, old.last_name, old.email); "
    "INSERT INTO staff_search(rowid, first_name, last_name, email) "
    "VALUES (new.id, new.first_name, new.last_name, new.email); END",
    "INSERT INTO staff_search(staff_search) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS staff_search_insert",
    "DROP TRIGGER IF EXISTS staff_search_delete",
    "DROP TRIGGER IF EXISTS staff_search_update",
    "DROP TABLE IF EXISTS staff_search",
]
# The expression of StaffListFilterForm.search_text, as Django writes it.
POSTGRESQL_FORWARD = [
    "CREATE INDEX IF NOT EXISTS staff_search_trgm ON accounts_staff USING gin "
    "(UPPER((first_name || ' ' || last_name || ' ' || email)::text) gin_trgm_ops)"
]
POSTGRESQL_BACKWARD = ["DROP INDEX IF EXISTS staff_search_trgm"]


def has_trigrams(cursor):
    """Make pg_trgm available if this role may, and say whether it is."""
    try:
        with transaction.atomic(using=cursor.db.alias):
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError:
        pass
    cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    return cursor.fetchone() is not None


def create_search_indexes(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            statements = SQLITE_FORWARD
        elif connection.vendor == "postgresql" and has_trigrams(cursor):
            statements = POSTGRESQL_FORWARD
        else:
            statements = []
        for statement in statements:
            cursor.execute(statement)


def drop_search_indexes(apps, schema_editor):
    connection = schema_editor.connection
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD}
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_staff_list_indexes_for_every_sort"),
    ]

    operations = [
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
