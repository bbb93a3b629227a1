import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import Staff
from accounts.tests.factories import StaffFactory
from lists.views import KeysFirstPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_pages(manager):
    # With the manager, 51 active staff: three pages of 25.
    StaffFactory.create_batch(50)


@pytest.mark.parametrize(
    ("asked", "notice"),
    [
        ("999", "There is no page “999”: showing page 3 of 3."),
        ("-1", "There is no page “-1”: showing page 1 of 3."),
        ("0", "There is no page “0”: showing page 1 of 3."),
        ("abc", "There is no page “abc”: showing page 1 of 3."),
        ("02", "There is no page “02”: showing page 2 of 3."),
    ],
)
def test_a_page_that_does_not_exist_says_which_page_is_shown_even_when_kept_in_the_cache(
    client_as, manager, three_pages, asked, notice
):
    client = client_as(manager)
    # Every page seen once, so that each is kept in the cache.
    for number in (1, 2, 3):
        client.get(reverse("staff:list"), {"page": number})

    response = client.get(reverse("staff:list"), {"page": asked})

    assertContains(response, notice)


def test_a_page_that_exists_has_no_notice(client_as, manager, three_pages):
    response = client_as(manager).get(reverse("staff:list"), {"page": 2})

    assertContains(response, "Page 2 of 3")
    assertNotContains(response, "There is no page")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Sorted once found on PostgreSQL")
@pytest.mark.parametrize("ordering", [["-email"], ["first_name", "-pk"], []], ids=str)
def test_rows_sorted_once_found_come_in_the_lists_order_page_by_page(ordering):
    for number in range(30):
        StaffFactory(last_name=f"Name{29 - number:02}", first_name=["Ann", "Bo"][number % 2])
    # No ordering: the model's own (last name, first name).
    rows = Staff.objects.order_by(*ordering) if ordering else Staff.objects.all()

    shown = []
    for number in (1, 2, 3):
        paginator = KeysFirstPaginator(rows, 10, sorted_when_found=100)
        shown += [member.pk for member in paginator.get_page(number)]

    assert shown == list(rows.values_list("pk", flat=True))
    assert paginator.count == 30


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Sorted once found on PostgreSQL")
@pytest.mark.parametrize("rows", [0, 1, 12, 13, 14, 33, 34])
@pytest.mark.parametrize("asked", ["last", 2, 50], ids=lambda asked: f"page {asked}")
def test_the_last_page_of_rows_sorted_once_found_is_djangos_last_page(rows, asked):
    for number in range(rows):
        StaffFactory(last_name=f"Name{number:02}")
    staff = Staff.objects.order_by("-last_name")
    expected = Paginator(staff, 10, orphans=3)
    paginator = KeysFirstPaginator(staff, 10, orphans=3, sorted_when_found=100)

    with CaptureQueriesContext(connection) as queries:
        # How the list pages ask for the last page: its number first.
        page = paginator.get_page(paginator.num_pages if asked == "last" else asked)
        shown = list(page)

    # Found, counted and sorted in one query; then the rows by their keys, if any.
    assert [query["sql"][:10] for query in queries][:1] == ["WITH found"]
    assert len(queries) == (2 if shown else 1)

    last = expected.get_page(asked if asked != "last" else expected.num_pages)
    assert (paginator.count, paginator.num_pages) == (expected.count, expected.num_pages)
    assert (page.number, shown) == (last.number, list(last))


def test_a_row_deleted_between_reading_its_key_and_its_row_is_left_out():
    staff = StaffFactory.create_batch(12)
    deleted = staff[3]
    # The rows as read once the keys were: one has gone meanwhile.
    paginator = KeysFirstPaginator(
        Staff.objects.order_by("pk"), 10, rows=Staff.objects.exclude(pk=deleted.pk)
    )

    page = paginator.get_page(1)

    assert [member.pk for member in page] == [
        member.pk for member in staff[:10] if member != deleted
    ]
