"""Searching staff through an index, with the matching rules of a plain search."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import ProgrammingError, connection
from django.db.backends.utils import CursorWrapper
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.forms.staff import StaffListFilterForm
from accounts.models import Staff
from accounts.tests.factories import StaffFactory, staff_for_postgresql_plans
from lists.forms import ListFilterForm


class PlainSearch(ListFilterForm):
    """The rules: each word in first name, last name or email, ignoring case (icontains)."""

    search_fields = StaffListFilterForm.search_fields
    sort_orders = {"email": ["email"]}
    default_sort = "email"


def found(form_class, q):
    form = form_class({"q": q, "status": "all", "sort": "email"})
    return list(form.filter(Staff.objects.all()).values_list("email", flat=True))


@pytest.fixture
def people(db):
    for first, last, email in [
        ("Ada", "Lovelace", "ada@school.example"),
        ("Adam", "Smith", "a.smith@school.example"),
        ("Alan", "Turing", "alan.turing@maths.example"),
        ("Zara", "Wood", "zwood@school.example"),
        ("Mo", "Smithson", "mo@ad.example"),
        ("Élodie", "O'Brien", "elodie.obrien@school.example"),
        ("Ed", "Ad", "ed@school.example"),
    ]:
        StaffFactory(first_name=first, last_name=last, email=email)


@pytest.mark.parametrize(
    "q",
    [
        "smith",
        "SMITH",
        "mit",
        "smith ad",
        "ad smith",
        "ad",
        "a",
        "zara wood",
        "wood zara",
        "zara smith",
        "school.example",
        "lovelace ada",
        "o'brien",
        'sm"ith',
        "100%",
        "a_s",
        "nobody",
        "ada@school",
        "ring@maths",
    ],
)
@pytest.mark.parametrize("common", [5000, 1], ids=["through the index", "in many rows"])
def test_search_finds_exactly_what_a_plain_search_finds(people, monkeypatch, q, common):
    # Words in more rows than `COMMON` are looked for without the index on SQLite.
    monkeypatch.setattr("accounts.forms.staff.COMMON", common)

    assert found(StaffListFilterForm, q) == found(PlainSearch, q)


@pytest.fixture
def renamed_and_removed(people):
    ada = Staff.objects.get(email="ada@school.example")
    ada.last_name = "Byron"
    ada.save()
    Staff.objects.filter(last_name="Wood").update(email="zara.w@school.example")
    Staff.objects.get(last_name="Turing").delete()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("byron", ["ada@school.example"]),
        ("lovelace", []),
        ("zara.w", ["zara.w@school.example"]),
        ("zwood", []),
        ("turing", []),
    ],
)
def test_search_follows_changes_names_emails_and_deletions(renamed_and_removed, q, expected):
    assert found(StaffListFilterForm, q) == expected


# The index
# ------------------------------------------------------------------------------
SEARCH_TRIGGERS = {"staff_search_insert", "staff_search_delete", "staff_search_update"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's full-text index")
def test_the_search_index_triggers_exist_after_every_migration(db):
    # A migration that remakes accounts_staff on SQLite drops them silently.
    executor = MigrationExecutor(connection)
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'accounts_staff'"
        )
        triggers = {name for (name,) in cursor.fetchall()}

    assert SEARCH_TRIGGERS <= triggers


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's full-text index")
def test_a_search_reads_the_full_text_index_on_sqlite(people):
    form = StaffListFilterForm({"q": "smith"})

    plan = form.filter(Staff.objects.all()).explain()

    assert "SCAN staff_search VIRTUAL TABLE INDEX" in plan
    assert "SCAN accounts_staff" not in plan.replace("SCAN accounts_staff USING", "")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigram indexes")
def test_a_search_reads_the_trigram_index_on_postgresql(people):
    # Rows with their statistics, and scans made dear: a test's table is small.
    staff_for_postgresql_plans(1000, lambda number: f"Name{number}")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    form = StaffListFilterForm({"q": "smith", "status": "all"})

    plan = form.filter(Staff.objects.all()).order_by().values("pk").explain()

    assert "Bitmap Index Scan on staff_search_trgm" in plan


def test_a_search_is_run_for_the_count_and_the_pages_keys_not_again_for_its_rows(
    client_as, manager, people
):
    with CaptureQueriesContext(connection) as queries:
        response = client_as(manager).get(reverse("staff:list"), {"q": "smith"})

    searching = [query["sql"] for query in queries if "smith" in query["sql"].lower()]
    # SQLite first asks how many rows the index finds (COMMON), then counts and pages;
    # PostgreSQL counts and sorts what it finds in one query.
    assert len(searching) == (3 if connection.vendor == "sqlite" else 1)
    assert len(response.context["staff_list"]) == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigram indexes")
def test_where_pg_trgm_cannot_be_created_the_index_is_left_out_and_search_still_works(
    people, monkeypatch
):
    migration = importlib.import_module("accounts.migrations.0011_staff_search")
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION IF EXISTS pg_trgm CASCADE")
    execute = CursorWrapper.execute

    def refuse_extensions(self, sql, params=None):
        if sql.startswith("CREATE EXTENSION"):
            raise ProgrammingError('permission denied to create extension "pg_trgm"')
        return execute(self, sql, params)

    # As for a role without the CREATE privilege on the database.
    monkeypatch.setattr(CursorWrapper, "execute", refuse_extensions)
    with connection.schema_editor() as schema_editor:
        migration.create_search_indexes(django_apps, schema_editor)
    monkeypatch.undo()

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'staff_search_trgm'")
        assert cursor.fetchone() is None
    assert found(StaffListFilterForm, "smith") == found(PlainSearch, "smith") != []
