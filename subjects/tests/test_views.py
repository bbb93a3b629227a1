"""The subject-group pages, as each kind of user meets them."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Staff
from accounts.tests.factories import StaffFactory
from subjects.models import SubjectGroup
from subjects.tests.factories import SubjectGroupFactory

UNKNOWN_PK = 999_999
PAGES_WITHOUT_A_TARGET = {"subjects:list", "subjects:create"}
ALREADY_EXISTS = "A subject group with this name already exists."


def page_url(url_name, group):
    if url_name in PAGES_WITHOUT_A_TARGET:
        return reverse(url_name)
    return reverse(url_name, kwargs={"pk": group.pk})


def group_names():
    return sorted(SubjectGroup.objects.values_list("name", flat=True))


# Who may open which page
# ------------------------------------------------------------------------------
ROLES = ("plain", "manager", "superuser")
EXPECTED_STATUS = {
    # page:                    plain, manager, superuser
    "subjects:list": (200, 200, 200),
    "subjects:detail": (200, 200, 200),
    "subjects:create": (403, 200, 200),
    "subjects:update": (403, 200, 200),
    "subjects:delete": (403, 200, 200),
}


@pytest.mark.parametrize("url_name", EXPECTED_STATUS)
def test_anonymous_visitors_are_sent_to_the_login_page(client, subject_group, url_name):
    url = page_url(url_name, subject_group)

    response = client.get(url)

    assertRedirects(response, f"{reverse('login')}?next={url}")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", EXPECTED_STATUS)
def test_each_role_gets_the_expected_status(
    client_as, users_by_role, subject_group, url_name, role
):
    response = client_as(users_by_role[role]).get(page_url(url_name, subject_group))

    assert response.status_code == EXPECTED_STATUS[url_name][ROLES.index(role)]


def test_plain_staff_cannot_add_a_group(client_as, plain_staff):
    response = client_as(plain_staff).post(reverse("subjects:create"), {"name": "Physics"})

    assertContains(response, "Not allowed", status_code=403)
    assert not SubjectGroup.objects.exists()


def test_plain_staff_cannot_rename_a_group(client_as, plain_staff, subject_group):
    url = reverse("subjects:update", kwargs={"pk": subject_group.pk})

    response = client_as(plain_staff).post(url, {"name": "Physics"})

    assert response.status_code == 403
    assert group_names() == ["Mathematics"]


def test_plain_staff_cannot_delete_a_group(client_as, plain_staff, subject_group):
    url = reverse("subjects:delete", kwargs={"pk": subject_group.pk})

    response = client_as(plain_staff).post(url)

    assert response.status_code == 403
    assert group_names() == ["Mathematics"]


def test_anonymous_post_to_delete_deletes_nothing(client, subject_group):
    response = client.post(reverse("subjects:delete", kwargs={"pk": subject_group.pk}))

    assert response.status_code == 302
    assert group_names() == ["Mathematics"]


# Creating
# ------------------------------------------------------------------------------
def test_manager_can_add_a_group(client_as, manager):
    response = client_as(manager).post(
        reverse("subjects:create"), {"name": "Mathematics"}, follow=True
    )

    group = SubjectGroup.objects.get()
    assertRedirects(response, reverse("subjects:detail", kwargs={"pk": group.pk}))
    assertContains(response, "Subject group Mathematics created.")
    assert group.name == "Mathematics"


def test_names_are_stored_trimmed(client_as, manager):
    client_as(manager).post(reverse("subjects:create"), {"name": "  Mathematics \t"})

    assert group_names() == ["Mathematics"]


def test_a_60_character_name_is_accepted(client_as, manager):
    response = client_as(manager).post(reverse("subjects:create"), {"name": "M" * 60})

    assert response.status_code == 302
    assert group_names() == ["M" * 60]


@pytest.mark.parametrize(
    "duplicate", ["Mathematics", "mathematics", "MATHEMATICS", "  Mathematics  ", " mathematics"]
)
def test_add_form_refuses_a_duplicate_name(client_as, manager, subject_group, duplicate):
    response = client_as(manager).post(reverse("subjects:create"), {"name": duplicate})

    assertContains(response, ALREADY_EXISTS)
    assert "name" in response.context["form"].errors
    assert group_names() == ["Mathematics"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("", "This field is required.", id="empty"),
        pytest.param("   ", "This field is required.", id="only-spaces"),
        pytest.param(
            "M" * 61, "Ensure this value has at most 60 characters (it has 61).", id="61-characters"
        ),
    ],
)
def test_add_form_refuses_a_bad_name(client_as, manager, name, message):
    response = client_as(manager).post(reverse("subjects:create"), {"name": name})

    assertContains(response, message)
    assert "name" in response.context["form"].errors
    assert not SubjectGroup.objects.exists()


# Editing
# ------------------------------------------------------------------------------
def test_manager_can_rename_a_group(client_as, manager):
    group = SubjectGroupFactory(name="Maths")

    response = client_as(manager).post(
        reverse("subjects:update", kwargs={"pk": group.pk}),
        {"name": "Mathematics", "version": group.version},
        follow=True,
    )

    assertRedirects(response, reverse("subjects:detail", kwargs={"pk": group.pk}))
    assertContains(response, "Subject group Mathematics updated.")
    group.refresh_from_db()
    assert group.name == "Mathematics"


@pytest.mark.parametrize("same_name", ["Mathematics", "MATHEMATICS", " Mathematics "])
def test_editing_a_group_may_keep_its_own_name(client_as, manager, subject_group, same_name):
    url = reverse("subjects:update", kwargs={"pk": subject_group.pk})

    response = client_as(manager).post(url, {"name": same_name, "version": 1})

    assertRedirects(response, reverse("subjects:detail", kwargs={"pk": subject_group.pk}))
    subject_group.refresh_from_db()
    assert subject_group.name == same_name.strip()


def test_edit_form_refuses_another_groups_name_in_another_case(client_as, manager, subject_group):
    physics = SubjectGroupFactory(name="Physics")

    response = client_as(manager).post(
        reverse("subjects:update", kwargs={"pk": physics.pk}),
        {"name": " MATHEMATICS ", "version": physics.version},
    )

    assertContains(response, ALREADY_EXISTS)
    assert group_names() == ["Mathematics", "Physics"]


@pytest.mark.parametrize("name", ["", "M" * 61])
def test_edit_form_refuses_a_bad_name(client_as, manager, subject_group, name):
    url = reverse("subjects:update", kwargs={"pk": subject_group.pk})

    response = client_as(manager).post(url, {"name": name, "version": subject_group.version})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert group_names() == ["Mathematics"]


# Deleting
# ------------------------------------------------------------------------------
def test_delete_page_says_how_many_staff_will_lose_the_group(client_as, manager, subject_group):
    StaffFactory.create_batch(3, subject_group=subject_group)

    response = client_as(manager).get(reverse("subjects:delete", kwargs={"pk": subject_group.pk}))

    assertContains(response, "Delete Mathematics?")
    assertContains(response, "3 staff members will lose this group")
    assert group_names() == ["Mathematics"]


def test_delete_page_of_an_empty_group_says_nobody_is_in_it(client_as, manager, subject_group):
    response = client_as(manager).get(reverse("subjects:delete", kwargs={"pk": subject_group.pk}))

    assertContains(response, "Nobody is in this group.")
    assertNotContains(response, "will lose this group")


def test_manager_can_delete_a_group_and_its_staff_stay(client_as, manager, subject_group):
    members = StaffFactory.create_batch(3, subject_group=subject_group)

    response = client_as(manager).post(
        reverse("subjects:delete", kwargs={"pk": subject_group.pk}), follow=True
    )

    assertRedirects(response, reverse("subjects:list"))
    assertContains(response, "Subject group Mathematics deleted.")
    assert not SubjectGroup.objects.exists()
    remaining = Staff.objects.filter(pk__in=[member.pk for member in members])
    assert list(remaining.values_list("subject_group", flat=True)) == [None, None, None]


# The list
# ------------------------------------------------------------------------------
def test_list_shows_each_groups_staff_count(client_as, plain_staff, subject_group):
    StaffFactory.create_batch(2, subject_group=subject_group)
    physics = SubjectGroupFactory(name="Physics")

    response = client_as(plain_staff).get(reverse("subjects:list"))

    for group, count in ((subject_group, 2), (physics, 0)):
        assertContains(
            response,
            f'<tr><td><a href="{group.get_absolute_url()}">{group.name}</a></td>'
            f'<td class="text-end">{count}</td><td class="text-end text-nowrap"></td></tr>',
            html=True,
        )


def test_list_is_ordered_by_name(client_as, plain_staff):
    for name in ("Zoology", "Art", "Music"):
        SubjectGroupFactory(name=name)

    response = client_as(plain_staff).get(reverse("subjects:list"))

    shown = [group.name for group in response.context["subjectgroup_list"]]
    assert shown == ["Art", "Music", "Zoology"]


def test_empty_list_says_so_and_offers_add_to_managers(client_as, manager):
    response = client_as(manager).get(reverse("subjects:list"))

    assertContains(response, "There are no subject groups yet.")
    assertContains(response, f'href="{reverse("subjects:create")}"')
    # The header's button, and the next step under the empty list.
    assertContains(response, "Add the first subject group")


def test_empty_list_offers_no_add_button_to_plain_staff(client_as, plain_staff):
    response = client_as(plain_staff).get(reverse("subjects:list"))

    assertContains(response, "There are no subject groups yet.")
    assertNotContains(response, reverse("subjects:create"))


def test_list_paginates_at_25(client_as, plain_staff):
    SubjectGroupFactory.create_batch(30)
    client = client_as(plain_staff)

    first_page = client.get(reverse("subjects:list"))
    second_page = client.get(reverse("subjects:list"), {"page": 2})

    assert len(first_page.context["subjectgroup_list"]) == 25
    assert len(second_page.context["subjectgroup_list"]) == 5
    assertContains(second_page, "Showing 26–30 of 30")


# Measured at 8; the slack allows for a new site-wide query, while a query per row
# (25 on a full page, 5 on the small one) still breaks the budget.
SUBJECT_LIST_QUERY_BUDGET = 10


@pytest.mark.parametrize("group_count", [5, 40])
def test_list_needs_a_constant_number_of_queries(
    client_as, manager, django_assert_max_num_queries, group_count
):
    for group in SubjectGroupFactory.create_batch(group_count):
        StaffFactory.create_batch(2, subject_group=group)
    client = client_as(manager)

    with django_assert_max_num_queries(SUBJECT_LIST_QUERY_BUDGET):
        response = client.get(reverse("subjects:list"))

    assert response.status_code == 200
    assert all(group.staff_count == 2 for group in response.context["subjectgroup_list"])


@pytest.mark.parametrize("url_name", ["subjects:list", "subjects:detail"])
def test_plain_staff_see_no_add_edit_or_delete_buttons(
    client_as, plain_staff, subject_group, url_name
):
    response = client_as(plain_staff).get(page_url(url_name, subject_group))

    assertContains(response, "Mathematics")
    assertNotContains(response, reverse("subjects:create"))
    for action in ("subjects:update", "subjects:delete"):
        assertNotContains(response, reverse(action, kwargs={"pk": subject_group.pk}))


@pytest.mark.parametrize("url_name", ["subjects:list", "subjects:detail"])
def test_managers_see_edit_and_delete_buttons(client_as, manager, subject_group, url_name):
    response = client_as(manager).get(page_url(url_name, subject_group))

    for action in ("subjects:update", "subjects:delete"):
        assertContains(response, reverse(action, kwargs={"pk": subject_group.pk}))


# The detail page
# ------------------------------------------------------------------------------
def test_detail_page_lists_the_groups_members_only(client_as, plain_staff, subject_group):
    StaffFactory(first_name="Ada", last_name="Lovelace", subject_group=subject_group)
    StaffFactory(first_name="Alan", last_name="Turing", subject_group=subject_group)
    StaffFactory(first_name="Marie", last_name="Curie", subject_group=SubjectGroupFactory())

    response = client_as(plain_staff).get(
        reverse("subjects:detail", kwargs={"pk": subject_group.pk})
    )

    assertContains(response, "Ada Lovelace")
    assertContains(response, "Alan Turing")
    assertNotContains(response, "Marie Curie")


def test_detail_page_paginates_members_at_25(client_as, plain_staff, subject_group):
    StaffFactory.create_batch(30, subject_group=subject_group)
    StaffFactory.create_batch(3)  # In no group: not counted.
    url = reverse("subjects:detail", kwargs={"pk": subject_group.pk})
    client = client_as(plain_staff)

    first_page = client.get(url)
    second_page = client.get(url, {"page": 2})

    assert len(first_page.context["object_list"]) == 25
    assert len(second_page.context["object_list"]) == 5
    assertContains(second_page, "Showing 26–30 of 30")
    shown = {*first_page.context["object_list"], *second_page.context["object_list"]}
    assert shown == set(subject_group.staff.all())


def test_empty_group_says_so_and_offers_add_staff_to_managers(client_as, manager, subject_group):
    response = client_as(manager).get(reverse("subjects:detail", kwargs={"pk": subject_group.pk}))

    assertContains(response, "Nobody is in this group yet.")
    assertContains(response, "Add staff member")
    assertContains(response, f'href="{reverse("staff:create")}"')


def test_empty_group_offers_no_add_staff_to_plain_staff(client_as, plain_staff, subject_group):
    response = client_as(plain_staff).get(
        reverse("subjects:detail", kwargs={"pk": subject_group.pk})
    )

    assertContains(response, "Nobody is in this group yet.")
    assertNotContains(response, "Add staff member")
    assertNotContains(response, reverse("staff:create"))


@pytest.mark.parametrize("url_name", ["subjects:detail", "subjects:update", "subjects:delete"])
def test_unknown_id_gives_the_styled_404_page(client_as, manager, url_name):
    response = client_as(manager).get(reverse(url_name, kwargs={"pk": UNKNOWN_PK}))

    assertContains(response, "Page not found", status_code=404)


def test_posting_delete_for_an_unknown_id_deletes_nothing(client_as, manager, subject_group):
    response = client_as(manager).post(reverse("subjects:delete", kwargs={"pk": UNKNOWN_PK}))

    assert response.status_code == 404
    assert group_names() == ["Mathematics"]


def test_a_groups_page_marks_invited_and_inactive_members_with_badges(client_as, manager):
    group = SubjectGroupFactory(name="Geography")
    invited = StaffFactory(subject_group=group)
    invited.set_unusable_password()
    invited.save()
    StaffFactory(subject_group=group, is_active=False)

    response = client_as(manager).get(group.get_absolute_url())

    assertContains(response, '<span class="badge text-bg-info">Invited</span>', count=1, html=True)
    assertContains(
        response, '<span class="badge text-bg-secondary">Inactive</span>', count=1, html=True
    )
