"""The staff list's stretches count each member from the mark before them, after any write;
a page far into a long list is walked to from the nearest mark."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import STRETCHED_FIELDS, Staff, StaffMark, StaffStretch
from accounts.tests.factories import StaffFactory
from accounts.tests.staff_writes import WRITES, counted_one_by_one, stretched

SORTS = [*STRETCHED_FIELDS, *(f"-{field}" for field in STRETCHED_FIELDS)]


@pytest.fixture
def marked(monkeypatch):
    """Marks two staff apart, so that a few staff make many stretches."""
    monkeypatch.setattr("accounts.models.STAFF_PER_STRETCH", 2)

    def mark():
        for field in STRETCHED_FIELDS:
            StaffStretch.objects.mark(field)

    return mark


@pytest.mark.parametrize("write", WRITES)
def test_the_stretches_count_each_member_from_the_mark_before_them_after_any_write(
    school, marked, write
):
    marked()
    assert StaffMark.objects.count() >= 3 * 5
    assert stretched() == counted_one_by_one()

    write(school)

    assert stretched() == counted_one_by_one()


def test_before_any_mark_every_member_is_in_the_first_stretch(school):
    assert not StaffMark.objects.exists()
    assert {mark for _, mark, _ in stretched()} == {""}
    assert stretched() == counted_one_by_one()


def test_a_reader_sets_the_marks_once_a_stretch_has_grown_too_long(school, monkeypatch):
    monkeypatch.setattr("accounts.models.STAFF_PER_STRETCH", 2)  # 4 * 2: at most 8 a stretch.
    active = Staff.objects.filter(is_active=True).count()

    sizes = StaffStretch.objects.filter(is_active=True).sizes("last_name")

    assert StaffMark.objects.filter(field="last_name").exists()
    assert sum(staff for _, staff in sizes) == active
    assert max(staff for _, staff in sizes) <= 8
    assert [mark for mark, _ in sizes] == sorted(mark for mark, _ in sizes)
    assert stretched() == counted_one_by_one()


def test_a_stretch_of_one_name_too_long_to_cut_is_marked_only_once(db, monkeypatch):
    monkeypatch.setattr("accounts.models.STAFF_PER_STRETCH", 2)  # 4 * 2: at most 8 a stretch.
    StaffFactory.create_batch(12, last_name="Smith")
    StaffFactory.create_batch(3, last_name="Jones")
    StaffStretch.objects.sizes("last_name")
    assert StaffMark.objects.get(field="last_name", value="Smith").staff == 12

    with CaptureQueriesContext(connection) as queries:
        sizes = StaffStretch.objects.sizes("last_name")

    assert len(queries) == 1  # Read, not marked again.
    assert dict(sizes)["Smith"] == 12


def test_a_reader_compacts_the_stretches_once_they_have_grown(school, marked, monkeypatch):
    marked()
    monkeypatch.setattr("accounts.models.COMPACT_COUNTS_AFTER", 0)
    for member in Staff.objects.all():  # 18 staff: rows for each of the three fields.
        member.is_active = not member.is_active
        member.save()
    before = stretched()
    assert StaffStretch.objects.count() > 20

    StaffStretch.objects.sizes("last_name")

    assert StaffStretch.objects.count() == len(before)
    assert stretched() == before


def test_stretches_already_compacted_are_read_without_compacting_them_again(
    school, marked, monkeypatch
):
    marked()  # A row for each kind: more rows than this, but no more than one a kind.
    monkeypatch.setattr("accounts.models.COMPACT_COUNTS_AFTER", 5)

    with CaptureQueriesContext(connection) as queries:
        StaffStretch.objects.sizes("email")

    assert not [query for query in queries if "DELETE" in query["sql"]]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's flush truncates")
@pytest.mark.parametrize("stretches_first", [True, False])
def test_a_flush_leaves_nobody_in_a_stretch_whatever_order_it_empties_the_tables_in(
    school, stretches_first
):
    tables = ["accounts_staff", "accounts_staffstretch"]
    with connection.cursor() as cursor:
        for table in reversed(tables) if stretches_first else tables:
            cursor.execute(f"DELETE FROM {table}")

    assert not StaffStretch.objects.exists()


# Pages far into a list are walked to from a mark
# ------------------------------------------------------------------------------
@pytest.fixture
def long_list(db, monkeypatch):
    """160 staff, 64 of them inactive, names shared; marks 3 apart; any page far from the ends."""
    for number in range(160):
        StaffFactory(
            last_name=["Smith", "Jones", "Ng", "O'Neill", "de Vries"][number % 5],
            first_name=["Ann", "Bo", "Cy"][number % 3],
            is_active=number % 5 not in (1, 3),
        )
    monkeypatch.setattr("accounts.models.STAFF_PER_STRETCH", 3)
    monkeypatch.setattr("lists.views.NEAR_AN_END", 0)


def whole_list_in_order(status, sort):
    from accounts.forms.staff import StaffListFilterForm

    form = StaffListFilterForm({"status": status, "sort": sort})
    return list(form.filter(Staff.objects.all()).values_list("email", flat=True))


def every_page(client, per_page=25, **params):
    shown, page = [], 1
    while True:
        response = client.get(reverse("staff:list"), {**params, "page": page})
        shown += [member.email for member in response.context["staff_list"]]
        if not response.context["page_obj"].has_next():
            return shown
        page += 1


@pytest.mark.parametrize("status", ["active", "inactive", "all"])
@pytest.mark.parametrize("sort", SORTS)
def test_pages_walked_from_a_mark_are_the_whole_list_cut_into_pages(
    client_as, manager, long_list, sort, status
):
    client = client_as(manager)
    expected = whole_list_in_order(status, sort)

    assert every_page(client, status=status, sort=sort) == expected
    # Marked by the first reader; and after changes the triggers counted.
    assert StaffMark.objects.filter(field=sort.removeprefix("-")).exists()
    for member in Staff.objects.exclude(pk=manager.pk).order_by("pk")[::4]:
        member.last_name, member.email = f"Moved{member.pk}", f"moved{member.pk}@school.example"
        member.is_active = not member.is_active
        member.save()
    StaffFactory.create_batch(7, last_name="Ng")
    Staff.objects.filter(pk__in=Staff.objects.order_by("-pk").values("pk")[:5]).delete()

    assert every_page(client, status=status, sort=sort) == whole_list_in_order(status, sort)


@pytest.mark.parametrize("sort", ["last_name", "-email"])
def test_a_page_far_into_the_list_walks_from_a_mark(client_as, manager, long_list, sort, settings):
    settings.LIST_CACHE_SECONDS = 0
    client = client_as(manager)
    client.get(reverse("staff:list"), {"sort": sort, "page": 2})  # Sets the marks.

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("staff:list"), {"sort": sort, "page": 2})

    field = connection.ops.quote_name(sort.removeprefix("-"))
    walked = [query["sql"] for query in queries if f"{field} >=" in query["sql"]]
    assert len(walked) == 1, [query["sql"] for query in queries]


@pytest.mark.parametrize(
    "params",
    [{"q": "smith"}, {"group": "none"}, {"status": "invited"}, {"sort": "subject_group"}],
)
def test_lists_the_stretches_do_not_divide_read_no_stretches(client_as, manager, long_list, params):
    with CaptureQueriesContext(connection) as queries:
        client_as(manager).get(reverse("staff:list"), {**params, "page": 2})

    assert not [query for query in queries if "accounts_staffstretch" in query["sql"]]
