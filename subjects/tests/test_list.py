"""The subject-group list: active staff counted in one query, searched, sorted, paged."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains

from accounts.tests.factories import StaffFactory
from subjects.models import SubjectGroup
from subjects.tests.factories import SubjectGroupFactory


@pytest.fixture
def viewer(client_as, plain_staff):
    return client_as(plain_staff)


def list_groups(client, **params):
    return client.get(reverse("subjects:list"), params)


def listed(response):
    return [(group.name, group.staff_count) for group in response.context["subjectgroup_list"]]


@pytest.fixture
def groups(db):
    maths = SubjectGroupFactory(name="Mathematics")
    music = SubjectGroupFactory(name="Music")
    SubjectGroupFactory(name="Art")
    StaffFactory.create_batch(3, subject_group=maths)
    StaffFactory(subject_group=maths, is_active=False)
    StaffFactory(subject_group=music)


def test_list_counts_only_active_staff(viewer, groups):
    response = list_groups(viewer)

    assert listed(response) == [("Art", 0), ("Mathematics", 3), ("Music", 1)]


def test_search_matches_part_of_the_name_ignoring_case(viewer, groups):
    response = list_groups(viewer, q="MU")

    assert listed(response) == [("Music", 1)]


def test_a_search_that_matches_nothing_says_so(viewer, groups):
    response = list_groups(viewer, q="latin")

    assertContains(response, "No subject groups match.")


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Art", "Mathematics", "Music"]),
        ("-name", ["Music", "Mathematics", "Art"]),
        ("staff_count", ["Art", "Music", "Mathematics"]),
        ("-staff_count", ["Mathematics", "Music", "Art"]),
    ],
)
def test_list_sorts_by_name_or_staff_count(viewer, groups, sort, expected):
    response = list_groups(viewer, sort=sort)

    assert [name for name, _ in listed(response)] == expected


def test_an_unknown_sort_falls_back_to_name_and_says_so(viewer, groups):
    response = list_groups(viewer, sort="id")

    assert [name for name, _ in listed(response)] == ["Art", "Mathematics", "Music"]
    assertContains(response, "sorted the usual way instead")


def test_pages_keep_the_search_and_sort_and_forgive_bad_numbers(viewer):
    SubjectGroupFactory.create_batch(30)

    response = list_groups(viewer, q="subject", sort="-name", page="abc")

    assert response.context["page_obj"].number == 1
    assertContains(response, 'href="?q=subject&amp;sort=-name&amp;page=2"')


def test_list_counts_staff_in_the_same_queries_for_few_and_many_groups(viewer):
    SubjectGroupFactory.create_batch(2)
    with CaptureQueriesContext(connection) as with_two:
        list_groups(viewer)

    for group in SubjectGroupFactory.create_batch(20):
        StaffFactory.create_batch(2, subject_group=group)
    with CaptureQueriesContext(connection) as with_twenty_two:
        response = list_groups(viewer)

    assert len(response.context["subjectgroup_list"]) == 22
    assert len(with_twenty_two) == len(with_two)


def test_a_groups_page_lists_members_a_page_at_a_time(viewer):
    group = SubjectGroupFactory()
    StaffFactory.create_batch(30, subject_group=group)
    url = reverse("subjects:detail", kwargs={"pk": group.pk})

    first = viewer.get(url)
    past_the_end = viewer.get(url, {"page": 99})

    assert len(first.context["object_list"]) == 25
    assert past_the_end.context["page_obj"].number == 2
    assert SubjectGroup.objects.with_staff_count().get(pk=group.pk).staff_count == 30


def test_a_groups_page_counts_its_members_from_the_tally_and_shows_each_once(viewer):
    group = SubjectGroupFactory()
    StaffFactory.create_batch(20, subject_group=group)
    StaffFactory.create_batch(10, subject_group=group, is_active=False)
    StaffFactory.create_batch(5)
    url = reverse("subjects:detail", kwargs={"pk": group.pk})

    with CaptureQueriesContext(connection) as queries:
        first = viewer.get(url)
    second = viewer.get(url, {"page": 2})

    assert not [
        query["sql"]
        for query in queries
        if "COUNT(" in query["sql"] and '"accounts_staff"' in query["sql"]
    ]
    assert first.context["paginator"].count == 30
    shown = [member.pk for page in (first, second) for member in page.context["object_list"]]
    assert shown == list(
        group.staff.order_by("last_name", "first_name", "pk").values_list("pk", flat=True)
    )


def test_the_active_staff_header_is_aligned_right_as_its_numbers(viewer, groups):
    response = list_groups(viewer)

    header = re.search(r'<th scope="col"([^>]*)>\s*<a[^>]*>\s*Active staff', response.text)
    assert header is not None
    assert 'class="text-end"' in header.group(1)
    assertContains(response, '<td class="text-end">', count=len(listed(response)))


def test_each_groups_active_staff_are_summed_from_the_tally_not_counted_one_by_one(viewer, groups):
    with CaptureQueriesContext(connection) as queries:
        list_groups(viewer)

    [listing] = [query["sql"] for query in queries if "staff_count" in query["sql"]]
    assert '"accounts_stafftally"' in listing
    assert '"accounts_staff"' not in listing
