"""The subject-group pages of the admin, as a superuser uses them."""

import re

from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.tests.factories import StaffFactory
from subjects.models import SubjectGroup
from subjects.tests.factories import SubjectGroupFactory

CHANGELIST = "admin:subjects_subjectgroup_changelist"


def change_url(group):
    return reverse("admin:subjects_subjectgroup_change", args=[group.pk])


def test_changelist_shows_each_groups_staff_count(client_as, superuser, subject_group):
    StaffFactory.create_batch(3, subject_group=subject_group)
    SubjectGroupFactory(name="Physics")

    response = client_as(superuser).get(reverse(CHANGELIST))

    assertContains(response, "Mathematics")
    assertContains(response, "Physics")
    counts = {group.name: group.staff_count for group in response.context["cl"].result_list}
    assert counts == {"Mathematics": 3, "Physics": 0}
    assertContains(response, '<td class="field-staff_count">3</td>', html=True)


def test_changelist_searches_by_name(client_as, superuser, subject_group):
    SubjectGroupFactory(name="Physics")

    response = client_as(superuser).get(reverse(CHANGELIST), {"q": "math"})

    assert [group.name for group in response.context["cl"].result_list] == ["Mathematics"]
    assertNotContains(response, "Physics")


def test_add_page_creates_a_group(client_as, superuser):
    response = client_as(superuser).post(
        reverse("admin:subjects_subjectgroup_add"), {"name": "  Mathematics "}
    )

    assertRedirects(response, reverse(CHANGELIST))
    assert list(SubjectGroup.objects.values_list("name", flat=True)) == ["Mathematics"]


def test_add_page_refuses_a_duplicate_name_in_another_case(client_as, superuser, subject_group):
    response = client_as(superuser).post(
        reverse("admin:subjects_subjectgroup_add"), {"name": "MATHEMATICS"}
    )

    assertContains(response, "A subject group with this name already exists.")
    assert list(SubjectGroup.objects.values_list("name", flat=True)) == ["Mathematics"]


def test_change_page_shows_the_members_and_links_to_all_of_them(
    client_as, superuser, subject_group
):
    ada = StaffFactory(first_name="Ada", last_name="Lovelace", subject_group=subject_group)
    StaffFactory(first_name="Alan", last_name="Turing", subject_group=subject_group)
    StaffFactory(first_name="Marie", last_name="Curie")

    response = client_as(superuser).get(change_url(subject_group))

    assertContains(response, "Ada Lovelace")
    assertContains(response, "Alan Turing")
    assertNotContains(response, "Marie Curie")
    assertContains(response, reverse("admin:accounts_staff_change", args=[ada.pk]))
    all_members = (
        f"{reverse('admin:accounts_staff_changelist')}?subject_group__id__exact={subject_group.pk}"
    )
    assertContains(response, f'<a href="{all_members}">All 2 members</a>', html=True)


def test_change_page_names_at_most_20_members(client_as, superuser, subject_group):
    StaffFactory.create_batch(25, subject_group=subject_group)

    response = client_as(superuser).get(change_url(subject_group))

    member_link = re.escape(reverse("admin:accounts_staff_change", args=[0])).replace("0", r"\d+")
    assert len(set(re.findall(member_link, response.content.decode()))) == 20
    assertContains(response, "All 25 members")


def test_change_page_of_an_empty_group_says_it_has_no_members(client_as, superuser, subject_group):
    response = client_as(superuser).get(change_url(subject_group))

    assertContains(response, "No members.")
    assertNotContains(response, "All 0 members")


def test_change_page_lists_inactive_members_too(client_as, superuser, subject_group):
    StaffFactory(
        first_name="Retired", last_name="Teacher", subject_group=subject_group, is_active=False
    )

    response = client_as(superuser).get(change_url(subject_group))

    assertContains(response, "Retired Teacher")
    assertContains(response, "All 1 members")


def test_change_page_renames_a_group(client_as, superuser, subject_group):
    response = client_as(superuser).post(change_url(subject_group), {"name": "Maths"})

    assertRedirects(response, reverse(CHANGELIST))
    subject_group.refresh_from_db()
    assert subject_group.name == "Maths"
