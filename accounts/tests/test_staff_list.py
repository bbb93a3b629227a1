"""The staff list at scale: search, filters, sorting and pages that keep each other."""

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains

from accounts.models import Staff, StaffTally
from accounts.tests.factories import StaffFactory
from accounts.tests.pages import listed_staff
from subjects.tests.factories import SubjectGroupFactory


@pytest.fixture
def viewer(client_as, plain_staff):
    """A signed-in client; the viewer is Pat Plain, an active member without a group."""
    return client_as(plain_staff)


def listed(response):
    return listed_staff(response)


def list_staff(client, **params):
    return client.get(reverse("staff:list"), params)


# Search
# ------------------------------------------------------------------------------
@pytest.fixture
def ada_and_alan(db):
    StaffFactory(email="ada@school.example", first_name="Ada", last_name="Lovelace")
    StaffFactory(email="alan@school.example", first_name="Alan", last_name="Turing")


@pytest.mark.parametrize(
    "query",
    [
        "ada",
        "ADA",
        "lovelace",
        "Love",
        "ada love",
        "  ada   LOVELACE ",
        "ada@school",
        "Lovelace Ada",
    ],
)
def test_search_matches_first_last_and_full_names_and_email_ignoring_case(
    viewer, ada_and_alan, query
):
    response = list_staff(viewer, q=query)

    assert listed(response) == ["ada@school.example"]


def test_search_needs_every_word_to_match(viewer, ada_and_alan):
    response = list_staff(viewer, q="ada turing")

    assert listed(response) == []
    assertContains(response, "No staff members match.")


def test_search_box_keeps_what_was_typed(viewer, ada_and_alan):
    response = list_staff(viewer, q="love")

    assertContains(response, 'value="love"')


def test_an_overlong_search_is_cut_short_not_refused(viewer, ada_and_alan):
    response = list_staff(viewer, q="ada" + " x" * 500)

    assert response.status_code == 200


# Filters
# ------------------------------------------------------------------------------
@pytest.fixture
def maths_science_and_none(db):
    maths = SubjectGroupFactory(name="Mathematics")
    science = SubjectGroupFactory(name="Science")
    StaffFactory(email="euler@school.example", subject_group=maths)
    StaffFactory(email="curie@school.example", subject_group=science)
    return maths


def test_group_filter_shows_only_that_groups_members(viewer, maths_science_and_none):
    response = list_staff(viewer, group=maths_science_and_none.pk)

    assert listed(response) == ["euler@school.example"]


def test_group_none_shows_staff_without_a_group(viewer, maths_science_and_none):
    response = list_staff(viewer, group="none")

    assert listed(response) == ["plain@school.example"]


@pytest.mark.parametrize("group", ["xyz", "999999", "1.5", "-1"])
def test_an_unknown_group_is_ignored_and_said_so(viewer, maths_science_and_none, group):
    response = list_staff(viewer, group=group)

    assert response.status_code == 200
    assert len(listed(response)) == 3
    assertContains(response, "Ignored the unknown subject group")


@pytest.fixture
def retired(db):
    return StaffFactory(email="retired@school.example", is_active=False)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, ["plain@school.example"]),
        ("active", ["plain@school.example"]),
        ("inactive", ["retired@school.example"]),
        ("all", ["plain@school.example", "retired@school.example"]),
    ],
)
def test_status_filter_defaults_to_active(viewer, retired, status, expected):
    params = {"status": status} if status else {}

    response = list_staff(viewer, **params)

    assert sorted(listed(response)) == expected


def test_the_invited_are_the_active_staff_with_no_password_of_their_own_yet(viewer, retired):
    for email, active in [("invited@school.example", True), ("gone@school.example", False)]:
        member = StaffFactory(email=email, is_active=active)
        member.set_unusable_password()
        member.save()

    response = list_staff(viewer, status="invited")

    assert listed(response) == ["invited@school.example"]
    assertContains(response, '<option value="invited" selected>Invited</option>', html=True)


def test_an_unknown_status_falls_back_to_active_and_says_so(viewer, retired):
    response = list_staff(viewer, status="asleep")

    assert listed(response) == ["plain@school.example"]
    assertContains(response, "Ignored the unknown status")


def test_inactive_staff_are_marked_inactive(viewer, retired):
    response = list_staff(viewer, status="all")

    assertContains(response, "Inactive</span>", count=1)


# Sorting
# ------------------------------------------------------------------------------
@pytest.fixture
def three_people(db):
    physics = SubjectGroupFactory(name="Physics")
    art = SubjectGroupFactory(name="Art")
    StaffFactory(email="b@school.example", first_name="Zoe", last_name="Adams", subject_group=art)
    StaffFactory(email="c@school.example", first_name="Amy", last_name="Brown")
    StaffFactory(
        email="a@school.example", first_name="Max", last_name="Clark", subject_group=physics
    )


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["b", "c", "a"]),
        ("last_name", ["b", "c", "a"]),
        ("-last_name", ["a", "c", "b"]),
        ("first_name", ["c", "a", "b"]),
        ("email", ["a", "b", "c"]),
        ("-email", ["c", "b", "a"]),
        ("subject_group", ["b", "a", "c"]),
        ("-subject_group", ["c", "a", "b"]),
    ],
)
def test_list_sorts_by_the_chosen_column(client_as, three_people, sort, expected):
    viewer = client_as(Staff.objects.get(email="a@school.example"))
    params = {"sort": sort} if sort else {}

    response = list_staff(viewer, **params)

    assert listed(response) == [f"{letter}@school.example" for letter in expected]


@pytest.mark.parametrize("sort", ["password", "-is_superuser", "subject_group__name", "--email"])
def test_an_unknown_sort_falls_back_to_names_and_says_so(client_as, three_people, sort):
    viewer = client_as(Staff.objects.get(email="a@school.example"))

    response = list_staff(viewer, sort=sort)

    assert listed(response) == ["b@school.example", "c@school.example", "a@school.example"]
    assertContains(response, "sorted the usual way instead")


def test_column_header_links_reverse_the_current_sort_and_keep_the_filters(viewer):
    response = list_staff(viewer, q="pat", status="all", sort="email", page="1")

    assertContains(response, 'href="?q=pat&amp;status=all&amp;sort=-email"')
    assertContains(response, 'aria-sort="ascending"')


# Pages
# ------------------------------------------------------------------------------
@pytest.fixture
def sixty_smiths(db):
    StaffFactory.create_batch(60, last_name="Smith")


def test_list_shows_25_a_page_with_the_total(viewer, sixty_smiths):
    response = list_staff(viewer)

    assert len(listed(response)) == 25
    assertContains(response, "Showing 1–25 of 61")


def test_pages_cover_every_member_once(viewer, sixty_smiths):
    pages = [listed(list_staff(viewer, page=number)) for number in (1, 2, 3)]

    everyone = [email for page in pages for email in page]
    assert sorted(everyone) == sorted(Staff.objects.values_list("email", flat=True))


def test_page_links_keep_the_search_filters_and_sort(viewer, sixty_smiths):
    response = list_staff(viewer, q="smith", status="active", sort="-email", page=2)

    assertContains(response, 'href="?q=smith&amp;status=active&amp;sort=-email&amp;page=3"')
    assertContains(response, 'href="?q=smith&amp;status=active&amp;sort=-email&amp;page=1"')


@pytest.mark.parametrize(("page", "shown"), [("abc", 1), ("0", 1), ("-3", 1), ("99999", 3)])
def test_a_page_that_does_not_exist_shows_the_nearest(viewer, sixty_smiths, page, shown):
    response = list_staff(viewer, page=page)

    assert response.status_code == 200
    assert response.context["page_obj"].number == shown


def test_the_last_page_can_be_asked_for_by_name(viewer, sixty_smiths):
    response = list_staff(viewer, page="last")

    assert response.context["page_obj"].number == 3
    assertContains(response, "Showing 51–61 of 61 in all.")
    assert not response.context["notices"]


# A search in many rows is counted only as far as needed
# ------------------------------------------------------------------------------
@pytest.fixture
def counted_at_least_40(monkeypatch, sixty_smiths):
    """Searches counted at least 40 rows far, rather than 10,000; 60 Smiths to find.

    (On PostgreSQL, as far as the rows it sorts once found, so those too.)
    """
    monkeypatch.setattr("lists.views.COUNTED_AT_LEAST", 40)
    monkeypatch.setattr("accounts.forms.staff.COMMON_ON_POSTGRESQL", 40)


def test_a_search_in_more_rows_than_counted_says_more_than(viewer, counted_at_least_40):
    with CaptureQueriesContext(connection) as queries:
        response = list_staff(viewer, q="smith")

    assertContains(response, "Showing 1–25 of more than 40.")
    assertContains(response, "Page 1</span>")
    assertContains(response, 'href="?q=smith&amp;page=2" rel="next"')
    assertContains(response, 'href="?q=smith&amp;page=last">Last</a>')
    # (On SQLite, a count of what the full-text index finds comes first.)
    *_, count = [query["sql"] for query in queries if "COUNT(*)" in query["sql"]]
    assert "LIMIT 41" in count


def test_a_page_past_what_was_counted_is_counted_as_far_as_it(viewer, counted_at_least_40):
    response = list_staff(viewer, q="smith", page=2)

    # Page 2 needs 50 rows: 51 are counted, and there are more.
    assertContains(response, "Showing 26–50 of more than 50.")
    assert response.context["page_obj"].has_next()


def test_the_last_page_of_a_search_counts_it_all(viewer, counted_at_least_40):
    response = list_staff(viewer, q="smith", page="last")

    assert response.context["page_obj"].number == 3
    assertContains(response, "Showing 51–60 of 60 in all.")
    assertContains(response, "Page 3 of 3")


def test_the_pages_of_a_search_counted_in_part_are_the_whole_search(viewer, counted_at_least_40):
    shown, response = [], list_staff(viewer, q="smith")
    while True:
        shown += listed(response)
        if not response.context["page_obj"].has_next():
            break
        response = list_staff(viewer, q="smith", page=response.context["page_obj"].number + 1)

    assert shown == list(
        Staff.objects.filter(last_name="Smith")
        .order_by("last_name", "first_name", "pk")
        .values_list("email", flat=True)
    )


# Cost
# ------------------------------------------------------------------------------
def add_staff_in_bulk(count, start=0):
    groups = SubjectGroupFactory.create_batch(5)
    password = make_password(None)
    Staff.objects.bulk_create(
        Staff(
            email=f"teacher{number}@school.example",
            first_name=f"First{number}",
            last_name=f"Smith{number}",
            subject_group=groups[number % 5],
            password=password,
        )
        for number in range(start, start + count)
    )


# Session, user, the directory version, two for permissions, the groups to filter
# by, the count, the page's keys and then its rows: none per row. (The page as
# rendered, not as kept in the cache: adding staff outdates what was kept.) A
# search on SQLite asks first how many rows its index finds, to choose between
# the index and the names (accounts.forms.staff.COMMON): one more. Sorted by
# group, the groups' counts take the place of the page's keys.
LIST_QUERY_BUDGET = 10


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "smith"},
        {"group": "none", "status": "all"},
        {"sort": "subject_group", "page": "3"},
    ],
)
def test_a_page_costs_the_same_queries_for_10_and_10000_staff(client_as, manager, params):
    client = client_as(manager)
    add_staff_in_bulk(10)
    with CaptureQueriesContext(connection) as with_ten:
        list_staff(client, **params)

    add_staff_in_bulk(9_990, start=10)
    # Compacted as the first reader after so many changes would (test_staff_tally.py).
    StaffTally.objects.compact()
    with CaptureQueriesContext(connection) as with_ten_thousand:
        response = list_staff(client, **params)

    assert response.status_code == 200
    assert len(with_ten_thousand) == len(with_ten) <= LIST_QUERY_BUDGET


def test_a_page_far_into_the_list_costs_one_query_more_its_stretches(
    client_as, manager, monkeypatch, settings
):
    settings.LIST_CACHE_SECONDS = 0
    monkeypatch.setattr("lists.views.NEAR_AN_END", 1000)
    client = client_as(manager)
    add_staff_in_bulk(10_000)
    list_staff(client, page="200")  # The first reader sets the marks.

    with CaptureQueriesContext(connection) as near_the_start:
        list_staff(client, page="2")
    with CaptureQueriesContext(connection) as far_in:
        response = list_staff(client, page="200")

    assert response.context["page_obj"].number == 200
    assert len(far_in) == len(near_the_start) + 1 <= LIST_QUERY_BUDGET


# Bad input
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("param", ["q", "sort", "group", "status", "page"])
@pytest.mark.parametrize("url_name", ["staff:list", "staff:export", "subjects:list"])
def test_a_nul_character_in_any_parameter_is_ignored_not_a_500(client_as, manager, url_name, param):
    response = client_as(manager).get(reverse(url_name), {param: "smi\x00th"})

    assert response.status_code == 200
