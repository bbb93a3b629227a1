"""The staff tally counts each kind of staff (group, active, invited) after any write."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.forms.staff import StaffListFilterForm
from accounts.models import INVITED, Staff, StaffTally
from accounts.tests.staff_writes import (
    WRITES,
    deactivate_a_group_at_once,
    delete_a_group,
    move_everyone_out_of_groups,
    summed,
)
from subjects.models import SubjectGroup


def counted_one_by_one():
    """{(group, active, invited): staff}, counting the staff table itself."""
    staff = Staff.objects.order_by().annotate(invited=Q(password__startswith="!"))
    return {
        (group, active, invited): number
        for group, active, invited, number in staff.values_list(
            "subject_group", "is_active", "invited"
        ).annotate(number=Count("*"))
    }


def tallied():
    """{(group, active, invited): staff}, as the tally has them."""
    return summed(StaffTally)


@pytest.mark.parametrize("write", WRITES)
def test_the_tally_counts_each_kind_of_staff_after_any_write(school, write):
    assert tallied() == counted_one_by_one()

    write(school)

    assert tallied() == counted_one_by_one()


def test_the_home_pages_numbers_are_the_staff_counted_one_by_one(school):
    deactivate_a_group_at_once(school)

    assert StaffTally.objects.counts() == {
        "active": Staff.objects.filter(is_active=True).count(),
        "invited": Staff.objects.filter(INVITED).count(),
        "inactive": Staff.objects.filter(is_active=False).count(),
        "without_group": Staff.objects.filter(is_active=True, subject_group=None).count(),
    }


def test_a_new_name_or_a_sign_in_adds_nothing_to_the_tally(school):
    member = Staff.objects.filter(is_active=True).exclude(INVITED).first()
    before = StaffTally.objects.count()

    member.first_name = "Renamed"
    member.save()
    Staff.objects.filter(pk=member.pk).update(last_login="2026-01-01T09:00:00Z")

    assert StaffTally.objects.count() == before


def test_compacting_keeps_the_counts_in_a_row_for_each_kind(school):
    move_everyone_out_of_groups(school)
    before = tallied()

    StaffTally.objects.compact()

    assert tallied() == before
    assert StaffTally.objects.count() == len(before)


def test_a_reader_compacts_the_tally_once_it_has_grown(school, monkeypatch):
    monkeypatch.setattr("accounts.models.COMPACT_COUNTS_AFTER", 0)
    for member in Staff.objects.all():  # 18 staff: a row each, then two more a change.
        member.is_active = not member.is_active
        member.save()
    before = tallied()
    assert StaffTally.objects.count() > 20

    StaffTally.objects.filter(is_active=True).total()

    assert StaffTally.objects.count() == len(before)
    assert tallied() == before


def test_a_deleted_groups_rows_count_nobody(school):
    deleted = school[0].pk
    delete_a_group(school)

    assert StaffTally.objects.filter(subject_group=deleted).total() == 0
    assert deleted not in StaffTally.objects.by_group()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's flush truncates")
@pytest.mark.parametrize("tally_first", [True, False])
def test_a_flush_leaves_nobody_counted_whatever_order_it_empties_the_tables_in(school, tally_first):
    tables = ["accounts_staff", "accounts_stafftally"]
    with connection.cursor() as cursor:
        for table in reversed(tables) if tally_first else tables:
            cursor.execute(f"DELETE FROM {table}")

    assert not StaffTally.objects.exists()


# The tally's, and the staff list's stretches' (accounts/tests/test_staff_stretches.py).
COUNTING_TRIGGERS = {
    f"staff_{counts}_{event}"
    for counts in ("tally", "stretches")
    for event in ("insert", "delete", "update")
}


def test_the_triggers_that_keep_counts_exist_after_every_migration(db):
    # A migration that remakes accounts_staff on SQLite drops them silently.
    executor = MigrationExecutor(connection)
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'accounts_staff'"
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'accounts_staff'::regclass"
            )
        triggers = {name for (name,) in cursor.fetchall()}

    assert COUNTING_TRIGGERS <= triggers


# The pages that count staff read the tally
# ------------------------------------------------------------------------------
def counts_of_staff_read(queries):
    """The queries that counted the staff table itself."""
    return [
        query["sql"]
        for query in queries
        if "COUNT(" in query["sql"] and '"accounts_staff"' in query["sql"]
    ]


@pytest.mark.parametrize("sort", ["last_name", "-email", "subject_group", "-subject_group"])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "all"},
        {"status": "invited"},
        {"status": "inactive"},
        {"group": "none"},
        {"group": "Mathematics", "status": "all"},
    ],
)
def test_a_list_not_searched_is_counted_from_the_tally(client_as, manager, school, sort, params):
    groups = {group.name: str(group.pk) for group in school}
    params = {**params, "sort": sort}
    if params.get("group") in groups:
        params["group"] = groups[params["group"]]

    with CaptureQueriesContext(connection) as queries:
        response = client_as(manager).get(reverse("staff:list"), params)

    assert not counts_of_staff_read(queries)
    assert (
        response.context["paginator"].count
        == StaffListFilterForm(params).filter(Staff.objects.all()).count()
    )


def test_a_search_is_counted_among_the_staff_found(client_as, manager, school):
    with CaptureQueriesContext(connection) as queries:
        response = client_as(manager).get(reverse("staff:list"), {"q": "school"})

    assert counts_of_staff_read(queries)
    assert response.context["paginator"].count == Staff.objects.filter(is_active=True).count()


def test_the_home_page_and_the_groups_page_count_from_the_tally(client_as, manager, school):
    with CaptureQueriesContext(connection) as queries:
        home = client_as(manager).get(reverse("home"))
        groups = client_as(manager).get(reverse("subjects:list"))

    assert not counts_of_staff_read(queries)
    assert home.context["staff_counts"]["active"] == Staff.objects.filter(is_active=True).count()
    assert {group.name: group.staff_count for group in groups.context["object_list"]} == {
        group.name: group.staff.filter(is_active=True).count()
        for group in SubjectGroup.objects.all()
    }
