"""The staff list as a CSV file: what it holds, whom it is for, and how it is sent."""

import codecs
import csv
import io

import pytest
from django.db import connection
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.staff_export import StaffExport
from accounts.tests.factories import StaffFactory
from accounts.tests.pages import has_next_page, listed_staff
from subjects.tests.factories import SubjectGroupFactory

HEADER = ["email", "first_name", "last_name", "subject_group", "is_active"]
QUOTED_HEADER = b'"email","first_name","last_name","subject_group","is_active"\r\n'


def export(client, **params):
    return client.get(reverse("staff:export"), params)


def content_of(response):
    return b"".join(response.streaming_content)


def rows_of(response):
    """The CSV rows below the header."""
    text = content_of(response).decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(text, newline=""))
    assert header == HEADER
    return rows


def emails_of(response):
    return [row[0] for row in rows_of(response)]


def listed_on_every_page(client, params):
    """The emails the staff list shows with these parameters, page after page."""
    emails, page = [], 1
    while True:
        response = client.get(reverse("staff:list"), {**params, "page": page})
        emails += listed_staff(response)
        if not has_next_page(response):
            return emails
        page += 1


@pytest.fixture
def exporter(client_as, manager):
    return client_as(manager)


# What the file holds
# ------------------------------------------------------------------------------
def test_export_is_a_streamed_csv_attachment_named_staff_csv(exporter):
    response = export(exporter)

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="staff.csv"'


def test_export_starts_with_a_utf8_byte_order_mark_then_the_header(exporter):
    content = content_of(export(exporter))

    assert content.startswith(codecs.BOM_UTF8 + QUOTED_HEADER)
    assert content.startswith(codecs.BOM_UTF8 + QUOTED_HEADER)


def test_export_has_each_members_email_names_group_and_status(exporter, manager, subject_group):
    StaffFactory(
        email="ada@school.example",
        first_name="Ada",
        last_name="Lovelace",
        subject_group=subject_group,
    )
    StaffFactory(email="zoe@school.example", first_name="Zoë", last_name="Ørsted", is_active=False)

    rows = rows_of(export(exporter, status="all"))

    assert rows == [
        ["ada@school.example", "Ada", "Lovelace", "Mathematics", "true"],
        ["manager@school.example", "Mary", "Manager", "", "true"],
        ["zoe@school.example", "Zoë", "Ørsted", "", "false"],
    ]


def test_export_encodes_accented_names_in_utf8(exporter):
    StaffFactory(email="zoe@school.example", first_name="Zoë", last_name="Ørsted")

    content = content_of(export(exporter))

    assert '"Zoë","Ørsted"'.encode() in content


# The list as filtered and sorted, every page
# ------------------------------------------------------------------------------
@pytest.fixture
def thirty_staff(db, manager):
    """Thirty staff over two pages of the list: some in Maths, some in Science, some inactive."""
    maths = SubjectGroupFactory(name="Maths")
    science = SubjectGroupFactory(name="Science")
    for number in range(29):
        StaffFactory(
            email=f"member{number:02}@school.example",
            first_name=["Ada", "Alan", "Grace"][number % 3],
            subject_group=[maths, science, None][number % 3],
            is_active=number % 5 != 0,
        )
    return {"maths": maths.pk, "science": science.pk}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "ada"},
        {"q": "member1"},
        {"group": "maths"},
        {"group": "none"},
        {"status": "inactive"},
        {"status": "all", "sort": "-email"},
        {"sort": "subject_group"},
        {"sort": "-first_name", "status": "all"},
        {"sort": "nonsense", "group": "xyz", "page": "abc"},
    ],
)
def test_export_holds_the_list_as_filtered_and_sorted_on_every_page(exporter, thirty_staff, params):
    if params.get("group") in thirty_staff:
        params = {**params, "group": thirty_staff[params["group"]]}

    exported = emails_of(export(exporter, **params))

    assert exported == listed_on_every_page(exporter, params)


def test_export_holds_every_page_whatever_page_the_list_is_on(exporter, thirty_staff):
    exported = emails_of(export(exporter, status="all", page=2))

    assert len(exported) == 30


def test_export_of_a_search_that_matches_nothing_is_the_header_alone(exporter):
    content = content_of(export(exporter, q="nobody-at-all"))

    assert content == codecs.BOM_UTF8 + QUOTED_HEADER


# Formula injection
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("https://evil.example","Click")',
        "+1+1",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_export_prefixes_a_quote_to_cells_a_spreadsheet_would_run(exporter, name):
    StaffFactory(email="eve@school.example", first_name=name, last_name=name)

    [row] = [row for row in rows_of(export(exporter)) if row[0] == "eve@school.example"]

    assert row[1] == row[2] == f"'{name}"


def test_export_makes_group_names_and_emails_safe_too(exporter):
    group = SubjectGroupFactory(name="=cmd|' /C calc'!A0")
    StaffFactory(email="-eve@school.example", last_name="Eve", subject_group=group)

    [row] = [row for row in rows_of(export(exporter)) if "eve" in row[0]]

    assert row[0] == "'-eve@school.example"
    assert row[3] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize("name", ["O'Brien", "Anne-Marie", "Smith = Jones", "a@b"])
def test_export_leaves_ordinary_cells_alone(exporter, name):
    StaffFactory(email="ord@school.example", first_name=name, last_name="Ordinary")

    [row] = [row for row in rows_of(export(exporter)) if row[0] == "ord@school.example"]

    assert row[1] == name


# Who may export
# ------------------------------------------------------------------------------
def test_anonymous_visitors_are_sent_to_the_login_page(client, db):
    url = reverse("staff:export")

    response = client.get(url)

    assertRedirects(response, f"{reverse('login')}?next={url}")


@pytest.mark.parametrize(("role", "status"), [("plain", 403), ("manager", 200), ("superuser", 200)])
def test_only_those_who_keep_staff_records_may_export(client_as, users_by_role, role, status):
    response = client_as(users_by_role[role]).get(reverse("staff:export"))

    assert response.status_code == status


def test_managers_see_an_export_link_that_keeps_the_lists_search(exporter):
    response = exporter.get(reverse("staff:list"), {"q": "ada", "status": "all", "page": "2"})

    assertContains(response, f'href="{reverse("staff:export")}?q=ada&amp;status=all"')
    assertContains(response, "Export CSV")


def test_plain_staff_see_no_export_link(client_as, plain_staff):
    response = client_as(plain_staff).get(reverse("staff:list"))

    assertNotContains(response, reverse("staff:export"))


# Streaming
# ------------------------------------------------------------------------------
def test_export_is_sent_in_chunks_of_rows(exporter, monkeypatch):
    monkeypatch.setattr(StaffExport, "chunk_size", 2)
    StaffFactory.create_batch(5)  # Six with the manager.

    chunks = list(export(exporter).streaming_content)

    assert len(chunks) == 4  # 2 + 2 + 2 rows, then what is left: nothing.
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == 7  # The header and six rows.


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite streams its rows outside a transaction as well",
)
def test_export_reads_its_rows_in_one_transaction_so_postgresql_streams_them(exporter, monkeypatch):
    seen = []
    rows = StaffExport.rows

    def rows_noting_the_transaction(export):
        # Inside the test's own transaction, the export's opens a savepoint.
        seen.append(len(connection.savepoint_ids))
        yield from rows(export)

    monkeypatch.setattr(StaffExport, "rows", rows_noting_the_transaction)

    assert len(rows_of(export(exporter))) == 1
    assert seen == [1]


# Measured at 8 (session, user, savepoint and release, two for permissions, the
# filter's group choices, then the rows); a query per row breaks it at either size.
EXPORT_QUERY_BUDGET = 10


@pytest.mark.parametrize("staff_count", [5, 60])
def test_export_needs_a_constant_number_of_queries(
    exporter, django_assert_max_num_queries, staff_count
):
    groups = SubjectGroupFactory.create_batch(3)
    for number in range(staff_count):
        StaffFactory(subject_group=groups[number % 3])

    with django_assert_max_num_queries(EXPORT_QUERY_BUDGET):
        rows = rows_of(export(exporter))

    assert len(rows) == staff_count + 1
