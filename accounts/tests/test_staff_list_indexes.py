"""The staff are found through indexes: every sort, status, group and search of the list, at any
page, and the check for the last superuser."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains

from accounts.forms.staff import StaffListFilterForm
from accounts.models import Staff
from accounts.tests.factories import StaffFactory, staff_for_postgresql_plans
from subjects.tests.factories import SubjectGroupFactory

SORTS = ["first_name", "last_name", "email", "subject_group"]
SORTS_BOTH_WAYS = [*SORTS, *(f"-{sort}" for sort in SORTS)]
STATUSES = ["active", "inactive", "all"]


def listed(response):
    return [member.email for member in response.context["staff_list"]]


# Sorting by subject group, a group at a time
# ------------------------------------------------------------------------------
@pytest.fixture
def staff_in_groups_of_every_size(db):
    """57 staff: groups of 1, 2, 13 and 30 members (names out of creation order), 11 in none."""
    groups = [SubjectGroupFactory(name=name) for name in ("Music", "art", "Drama", "Biology")]
    sizes = {"Music": 30, "art": 1, "Drama": 13, "Biology": 2}
    number = 0
    for group in [*groups, None]:
        for _ in range(sizes[group.name] if group else 11):
            # Some names shared, so that the primary key decides between them.
            StaffFactory(
                subject_group=group,
                last_name=["Smith", "Jones", "Ng"][number % 3],
                first_name=["Ann", "Bo"][number % 2],
                is_active=number % 7 != 0,
            )
            number += 1


def whole_list_in_order(**params):
    """The list's order as sorting every row (by group name, say) would give it."""
    form = StaffListFilterForm(params)
    return list(form.filter(Staff.objects.all()).values_list("email", flat=True))


def every_page(client, rows, **params):
    """The emails the list shows, page after page, each page saying it holds `rows` in all."""
    shown = []
    for page in range(1, -(-rows // 25) + 1):
        response = client.get(reverse("staff:list"), {**params, "page": page})
        shown += listed(response)
        assert response.context["paginator"].count == rows
    return shown


@pytest.mark.parametrize("sort", ["subject_group", "-subject_group"])
@pytest.mark.parametrize("params", [{}, {"status": "all"}, {"status": "inactive"}, {"q": "smith"}])
def test_pages_sorted_by_group_are_the_whole_list_sorted_and_cut_into_pages(
    client_as, manager, staff_in_groups_of_every_size, sort, params
):
    expected = whole_list_in_order(sort=sort, **params)

    shown = every_page(client_as(manager), len(expected), sort=sort, **params)

    assert shown == expected


def test_staff_without_a_group_come_last_and_first_when_reversed(
    client_as, manager, staff_in_groups_of_every_size
):
    client = client_as(manager)

    last_page = client.get(reverse("staff:list"), {"sort": "subject_group", "page": 3})
    first_page = client.get(reverse("staff:list"), {"sort": "-subject_group"})

    assert [member.subject_group for member in last_page.context["staff_list"]][-1] is None
    assert [member.subject_group for member in first_page.context["staff_list"]][0] is None


def test_an_empty_list_sorted_by_group_shows_no_staff(client_as, manager):
    response = client_as(manager).get(
        reverse("staff:list"), {"sort": "subject_group", "q": "nobody-is-called-this"}
    )

    assert listed(response) == []
    assert response.context["paginator"].count == 0


@pytest.mark.parametrize("sort", [sort for sort in SORTS_BOTH_WAYS if "subject_group" not in sort])
@pytest.mark.parametrize("params", [{}, {"status": "all"}, {"q": "smith"}, {"group": "none"}])
def test_pages_read_from_either_end_are_the_whole_list_cut_into_pages(
    client_as, manager, staff_in_groups_of_every_size, sort, params
):
    expected = whole_list_in_order(sort=sort, **params)

    shown = every_page(client_as(manager), len(expected), sort=sort, **params)

    assert shown == expected


@pytest.fixture
def inactive_and_invited_over_pages(db):
    """53 inactive and 53 invited staff among 159, names shared: three pages of each."""
    for number in range(159):
        member = StaffFactory(
            last_name=["Smith", "Jones", "Ng"][number % 3],
            first_name=["Ann", "Bo"][number % 2],
            is_active=number % 3 != 0,
        )
        if number % 3 == 1:
            member.set_unusable_password()
            member.save()


@pytest.mark.parametrize("status", ["inactive", "invited"])
@pytest.mark.parametrize("sort", [sort for sort in SORTS_BOTH_WAYS if "subject_group" not in sort])
def test_pages_of_the_inactive_and_the_invited_are_their_whole_list_cut_into_pages(
    client_as, manager, inactive_and_invited_over_pages, sort, status
):
    expected = whole_list_in_order(sort=sort, status=status)

    shown = every_page(client_as(manager), len(expected), sort=sort, status=status)

    assert shown == expected
    assert len(expected) == 53


@pytest.mark.parametrize("common", [10000, 0], ids=["sorted once found", "read in order"])
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("sort", [sort for sort in SORTS_BOTH_WAYS if "subject_group" not in sort])
def test_pages_of_a_search_are_the_whole_list_cut_into_pages_however_they_are_read(
    client_as, manager, staff_in_groups_of_every_size, monkeypatch, sort, status, common
):
    # PostgreSQL sorts a search's rows once found when they are few (COMMON_ON_POSTGRESQL).
    monkeypatch.setattr("accounts.forms.staff.COMMON_ON_POSTGRESQL", common)
    params = {"q": "smith", "sort": sort, "status": status}
    expected = whole_list_in_order(**params)

    shown = every_page(client_as(manager), len(expected), **params)

    assert shown == expected != []


# Query plans
# ------------------------------------------------------------------------------
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's plans; PostgreSQL's are in docs/performance.md"
)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's plans and trigram index"
)


def page_keys_plan(params, offset=1000, backwards=False, from_mark=None):
    """SQLite's plan for a deep page's keys, as the staff list asks for them."""
    form = StaffListFilterForm(params)
    keys = form.filter(Staff.objects.all()).values("pk")
    if backwards:
        keys = keys.reverse()
    if from_mark:  # Walked from a mark (KeysFirstPaginator.keys_from_a_mark).
        keys = keys.filter(**{f"{params['sort'].removeprefix('-')}__gte": from_mark})
    return keys[offset : offset + 25].explain()


@sqlite_only
@pytest.mark.parametrize("backwards", [False, True], ids=["from the start", "from the end"])
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("sort", [sort for sort in SORTS_BOTH_WAYS if "subject_group" not in sort])
def test_every_sort_and_status_walks_an_index_without_sorting(db, sort, status, backwards):
    plan = page_keys_plan({"sort": sort, "status": status}, backwards=backwards)

    # The inactive in their own index, in each order; the rest in the sort's.
    index = "staff_inactive_by_" if status == "inactive" else "staff_by_"
    assert f"USING COVERING INDEX {index}{sort.removeprefix('-')}" in plan
    assert "TEMP B-TREE" not in plan


@sqlite_only
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("sort", [sort for sort in SORTS_BOTH_WAYS if "subject_group" not in sort])
def test_a_page_walked_from_a_mark_starts_at_the_mark_in_the_index(db, sort, status):
    # A descending list is walked from a mark in ascending order, reversed.
    plan = page_keys_plan(
        {"sort": sort, "status": status}, offset=100, backwards=sort.startswith("-"), from_mark="M"
    )

    index = "staff_inactive_by_" if status == "inactive" else "staff_by_"
    field = sort.removeprefix("-")
    assert f"USING COVERING INDEX {index}{field} ({field}>?)" in plan
    assert "TEMP B-TREE" not in plan


@sqlite_only
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("group", ["1", "none"])
@pytest.mark.parametrize("sort", [sort for sort in SORTS_BOTH_WAYS if "subject_group" not in sort])
def test_a_group_in_every_sort_walks_an_index_of_the_group_without_sorting(db, sort, status, group):
    SubjectGroupFactory(pk=1)

    plan = page_keys_plan({"sort": sort, "status": status, "group": group}, offset=100)

    assert f"USING COVERING INDEX staff_group_by_{sort.removeprefix('-')}" in plan
    assert "TEMP B-TREE" not in plan


@sqlite_only
@pytest.mark.parametrize("backwards", [False, True], ids=["from the start", "from the end"])
@pytest.mark.parametrize("sort", [sort for sort in SORTS_BOTH_WAYS if "subject_group" not in sort])
def test_the_invited_are_walked_in_their_own_index_in_every_order(db, sort, backwards):
    plan = page_keys_plan({"sort": sort, "status": "invited"}, offset=100, backwards=backwards)

    assert f"USING INDEX staff_invited_by_{sort.removeprefix('-')}" in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.parametrize(
    ("params", "expected"), [({}, 27), ({"status": "all"}, 30), ({"status": "inactive"}, 3)]
)
def test_the_total_under_the_list_counts_the_listed(client_as, manager, params, expected):
    StaffFactory.create_batch(26)
    StaffFactory.create_batch(3, is_active=False)

    response = client_as(manager).get(reverse("staff:list"), params)

    assert response.context["paginator"].count == expected
    assertContains(response, f"of {expected} in all" if expected > 25 else f"{expected} in all")


@sqlite_only
def test_saving_a_member_looks_for_the_last_superuser_in_their_own_index(db):
    plan = Staff.objects.active_superusers()[:2].explain()

    assert "USING INDEX staff_active_superusers" in plan
    assert "TEMP B-TREE" not in plan


@sqlite_only
@pytest.mark.parametrize("sort", ["subject_group", "-subject_group"])
@pytest.mark.parametrize("status", STATUSES)
def test_a_page_sorted_by_group_reads_its_rows_through_the_groups_index(
    client_as, manager, staff_in_groups_of_every_size, sort, status
):
    with CaptureQueriesContext(connection) as queries:
        client_as(manager).get(reverse("staff:list"), {"sort": sort, "status": status})

    [rows] = [query["sql"] for query in queries if "IN (SELECT V0" in query["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {rows}")
        plan = [row[-1] for row in cursor.fetchall()]
    assert "SEARCH V0 USING COVERING INDEX staff_group_by_last_name (subject_group_id=?)" in plan
    assert not [step for step in plan if step.startswith("SCAN")]


@pytest.mark.parametrize("sort", ["subject_group", "-subject_group"])
@pytest.mark.parametrize("status", STATUSES)
def test_the_groups_of_a_search_sorted_by_group_are_counted_without_their_keys(
    client_as, manager, staff_in_groups_of_every_size, sort, status
):
    # A list not searched is counted from the tally (test_staff_tally.py).
    with CaptureQueriesContext(connection) as queries:
        client_as(manager).get(
            reverse("staff:list"), {"sort": sort, "status": status, "q": "school"}
        )

    counts = [query["sql"] for query in queries if 'AS "subject_group"' in query["sql"]]
    # COUNT(id) would make PostgreSQL read each row, or a larger index, for the key.
    assert counts
    assert all('COUNT(*) AS "rows"' in sql for sql in counts)


@pytest.fixture
def smiths_last_in_the_alphabet(db):
    """A surname in a third of the rows, all after the rest: PostgreSQL expects them all along."""
    staff_for_postgresql_plans(
        2000, lambda number: "Smith" if number % 3 == 0 else f"Adams{number}"
    )


def page_keys_plans(client, params):
    """PostgreSQL's plans of the queries that find a page's keys, as the list runs them."""
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("staff:list"), params)
    keys = [
        sql
        for sql in (query["sql"] for query in queries)
        if sql.startswith(('SELECT "accounts_staff"."id" AS "pk"', "WITH found")) and "LIMIT" in sql
    ]
    with connection.cursor() as cursor:
        # Scans made dear, as they are at 500,000 staff: a test's table is small.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = []
        for sql in keys:
            cursor.execute(f"EXPLAIN {sql}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@postgresql_only
@pytest.mark.parametrize("page", [1, 25], ids=["from the start", "from the end"])
@pytest.mark.parametrize("sort", [sort for sort in SORTS_BOTH_WAYS if "subject_group" not in sort])
def test_a_page_of_a_search_of_few_rows_reads_the_trigram_index_and_sorts(
    client_as, manager, smiths_last_in_the_alphabet, sort, page
):
    # Found, counted and sorted in one query.
    [plan] = page_keys_plans(client_as(manager), {"q": "smith", "sort": sort, "page": page})

    assert "Bitmap Index Scan on staff_search_trgm" in plan, plan
    assert "staff_by_" not in plan, plan


@postgresql_only
@pytest.mark.parametrize("page", [1, 25, "last", 99, 2**40])
def test_a_search_of_few_rows_is_found_once_for_its_count_and_its_page(
    client_as, manager, smiths_last_in_the_alphabet, page
):
    with CaptureQueriesContext(connection) as queries:
        response = client_as(manager).get(reverse("staff:list"), {"q": "smith", "page": page})

    searched = [query["sql"] for query in queries if "smith" in query["sql"].lower()]
    assert len(searched) == 1, searched
    assert response.context["paginator"].count == 667
    number = response.context["page_obj"].number
    # Past the end is the last page.
    assert number == (page if page in (1, 25) else 27)
    assert listed(response) == whole_list_in_order(q="smith")[(number - 1) * 25 : number * 25]


@postgresql_only
def test_a_search_is_counted_as_far_as_the_rows_it_would_sort(
    client_as, manager, smiths_last_in_the_alphabet, monkeypatch
):
    monkeypatch.setattr("lists.views.COUNTED_AT_LEAST", 40)
    monkeypatch.setattr("accounts.forms.staff.COMMON_ON_POSTGRESQL", 1000)

    response = client_as(manager).get(reverse("staff:list"), {"q": "smith"})

    assertContains(response, "Showing 1–25 of 667 in all.")
    assert listed(response) == whole_list_in_order(q="smith")[:25]


@postgresql_only
def test_a_page_of_a_search_of_many_rows_walks_the_sorts_index(
    client_as, manager, smiths_last_in_the_alphabet, monkeypatch
):
    # The plan the sorted search avoids, found again when the rows found are "many".
    monkeypatch.setattr("accounts.forms.staff.COMMON_ON_POSTGRESQL", 100)

    # Counted first, then walked.
    _, plan = page_keys_plans(client_as(manager), {"q": "smith"})

    assert "Index Only Scan using staff_by_last_name" in plan, plan
    assert "staff_search_trgm" not in plan, plan


# Rendering
# ------------------------------------------------------------------------------
def test_each_row_links_to_the_members_page_and_their_edit_page(client_as, manager):
    ada = StaffFactory(first_name="Ada", last_name="Lovelace")

    response = client_as(manager).get(reverse("staff:list"), {"q": "lovelace"})

    detail = reverse("staff:detail", kwargs={"pk": ada.pk})
    update = reverse("staff:update", kwargs={"pk": ada.pk})
    assertContains(response, f'<a href="{detail}">Ada</a>', html=True)
    assertContains(response, f'<a href="{detail}">Lovelace</a>', html=True)
    assertContains(response, f'href="{update}">Edit<span class="visually-hidden"> Ada Lovelace')


@pytest.mark.parametrize(
    ("params", "selected"),
    [
        ({}, ['<option value="" selected>All subject groups</option>']),
        ({"group": "none"}, ['<option value="none" selected>No subject group</option>']),
        ({"status": "inactive"}, ['<option value="inactive" selected>Inactive</option>']),
        ({"q": '"><b>x'}, ['<input type="search" name="q" value="&quot;&gt;&lt;b&gt;x"']),
        ({"sort": "-email"}, ['<input type="hidden" name="sort" value="-email" id="id_sort">']),
    ],
)
def test_the_filter_bar_shows_what_was_chosen(client_as, manager, params, selected):
    response = client_as(manager).get(reverse("staff:list"), params)

    for html in selected:
        assertContains(response, html)
