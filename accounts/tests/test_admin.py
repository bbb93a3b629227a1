import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Staff
from accounts.tests.admin_forms import admin_change_data
from accounts.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

LAST_SUPERUSER = "This is the last active superuser: the site needs at least one."
SUPERUSER_ONLY_FIELDS = ["is_superuser", "groups", "user_permissions"]


def change_url(staff):
    return reverse("admin:accounts_staff_change", args=[staff.pk])


def delete_url(staff):
    return reverse("admin:accounts_staff_delete", args=[staff.pk])


def password_url(staff):
    return reverse("admin:auth_user_password_change", args=[staff.pk])


@pytest.fixture
def staff_manager(manager):
    """The manager, allowed into the admin."""
    manager.is_staff = True
    manager.save()
    return manager


# Pages render for a superuser
# ------------------------------------------------------------------------------


def test_staff_changelist_lists_every_staff_member_for_a_superuser(client_as, users_by_role):
    response = client_as(users_by_role["superuser"]).get(reverse("admin:accounts_staff_changelist"))

    assert response.status_code == 200
    for staff in users_by_role.values():
        assertContains(response, staff.email)


def test_staff_changelist_search_finds_by_email_and_names(client_as, superuser, plain_staff):
    other = StaffFactory(email="other@school.example", first_name="Olive", last_name="Other")
    client = client_as(superuser)

    for query in ["PLAIN@school", "Pat", "plain"]:
        response = client.get(reverse("admin:accounts_staff_changelist"), {"q": query})
        assert response.status_code == 200
        assertContains(response, plain_staff.email)
        assertNotContains(response, other.email)


@pytest.mark.parametrize(
    ("filter_name", "expected", "not_expected"),
    [
        ("subject_group", "in.group@school.example", "plain@school.example"),
        ("is_active", "plain@school.example", "inactive@school.example"),
        ("is_staff", "root@school.example", "plain@school.example"),
        ("groups", "manager@school.example", "plain@school.example"),
    ],
)
def test_staff_changelist_filters_narrow_the_list(
    client_as, users_by_role, subject_group, filter_name, expected, not_expected
):
    StaffFactory(email="in.group@school.example", subject_group=subject_group)
    StaffFactory(email="inactive@school.example", is_active=False)
    query = {
        "subject_group": {"subject_group__id__exact": subject_group.pk},
        "is_active": {"is_active__exact": "1"},
        "is_staff": {"is_staff__exact": "1"},
        "groups": {"groups__id__exact": Group.objects.get(name="Staff managers").pk},
    }[filter_name]

    response = client_as(users_by_role["superuser"]).get(
        reverse("admin:accounts_staff_changelist"), query
    )

    assert response.status_code == 200
    assertContains(response, expected)
    assertNotContains(response, not_expected)


def test_staff_add_page_has_two_password_fields(client_as, superuser):
    response = client_as(superuser).get(reverse("admin:accounts_staff_add"))

    assert response.status_code == 200
    assertContains(response, 'name="password1"')
    assertContains(response, 'name="password2"')
    assertContains(response, 'name="email"')
    assertNotContains(response, 'name="usable_password"')


def test_staff_change_page_shows_every_field_to_a_superuser(client_as, superuser, plain_staff):
    response = client_as(superuser).get(change_url(plain_staff))

    assert response.status_code == 200
    assertContains(response, plain_staff.email)
    form_fields = response.context["adminform"].form.fields
    for field in ["email", "first_name", "last_name", "subject_group", *SUPERUSER_ONLY_FIELDS]:
        assert field in form_fields


def test_staff_password_page_renders_for_a_superuser(client_as, superuser, plain_staff):
    response = client_as(superuser).get(password_url(plain_staff))

    assert response.status_code == 200
    assertContains(response, 'name="password1"')


# Adding through the admin
# ------------------------------------------------------------------------------


def test_admin_add_form_creates_a_staff_member_with_a_lower_cased_email(
    client_as, superuser, subject_group, password
):
    response = client_as(superuser).post(
        reverse("admin:accounts_staff_add"),
        {
            "email": "  Ada.Lovelace@School.EXAMPLE ",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "subject_group": subject_group.pk,
            "password1": password,
            "password2": password,
        },
    )

    ada = Staff.objects.get(email="ada.lovelace@school.example")
    assertRedirects(response, change_url(ada))
    assert ada.get_full_name() == "Ada Lovelace"
    assert ada.subject_group == subject_group
    assert ada.check_password(password)
    assert not ada.is_superuser


def test_admin_add_form_refuses_an_existing_email_in_another_case(
    client_as, superuser, plain_staff, password
):
    response = client_as(superuser).post(
        reverse("admin:accounts_staff_add"),
        {
            "email": "PLAIN@School.Example",
            "first_name": "Pat",
            "last_name": "Twin",
            "password1": password,
            "password2": password,
        },
    )

    assert response.status_code == 200
    assertContains(response, "A staff member with this email already exists.")
    assert Staff.objects.filter(email="plain@school.example").count() == 1
    assert Staff.objects.count() == 2


def test_admin_add_form_refuses_mismatched_passwords(client_as, superuser, password):
    response = client_as(superuser).post(
        reverse("admin:accounts_staff_add"),
        {
            "email": "ada@school.example",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "password1": password,
            "password2": password + "x",
        },
    )

    assert response.status_code == 200
    assertContains(response, "The two password fields didn’t match.")
    assert not Staff.objects.filter(email="ada@school.example").exists()


def test_admin_change_form_lower_cases_a_changed_email(client_as, superuser, plain_staff):
    response = client_as(superuser).post(
        change_url(plain_staff), admin_change_data(plain_staff, email=" Pat.P@School.Example ")
    )

    assertRedirects(response, reverse("admin:accounts_staff_changelist"))
    plain_staff.refresh_from_db()
    assert plain_staff.email == "pat.p@school.example"


def test_admin_change_form_refuses_another_staff_members_email_in_another_case(
    client_as, superuser, plain_staff, manager
):
    response = client_as(superuser).post(
        change_url(plain_staff), admin_change_data(plain_staff, email="MANAGER@School.Example")
    )

    assert response.status_code == 200
    assertContains(response, "A staff member with this email already exists.")
    plain_staff.refresh_from_db()
    assert plain_staff.email == "plain@school.example"


# A manager in the admin
# ------------------------------------------------------------------------------


def test_manager_can_open_the_staff_changelist(client_as, staff_manager, plain_staff):
    response = client_as(staff_manager).get(reverse("admin:accounts_staff_changelist"))

    assert response.status_code == 200
    assertContains(response, plain_staff.email)


def test_manager_can_change_a_plain_staff_member(client_as, staff_manager, plain_staff):
    response = client_as(staff_manager).post(
        change_url(plain_staff), admin_change_data(plain_staff, first_name="Patricia")
    )

    assertRedirects(response, reverse("admin:accounts_staff_changelist"))
    plain_staff.refresh_from_db()
    assert plain_staff.first_name == "Patricia"


def test_manager_does_not_see_superuser_groups_or_permissions_fields(
    client_as, staff_manager, plain_staff
):
    response = client_as(staff_manager).get(change_url(plain_staff))

    assert response.status_code == 200
    assertContains(response, 'name="first_name"')
    for field in SUPERUSER_ONLY_FIELDS:
        assertNotContains(response, f'name="{field}"')
        assert field not in response.context["adminform"].form.fields


def test_manager_does_not_see_superuser_groups_or_permissions_on_the_add_form(
    client_as, staff_manager
):
    response = client_as(staff_manager).get(reverse("admin:accounts_staff_add"))

    assert response.status_code == 200
    for field in SUPERUSER_ONLY_FIELDS:
        assertNotContains(response, f'name="{field}"')


def test_manager_posting_superuser_groups_and_permissions_changes_nothing_of_them(
    client_as, staff_manager, plain_staff
):
    managers_group = Group.objects.get(name="Staff managers")
    permission = Permission.objects.get(codename="delete_staff")

    response = client_as(staff_manager).post(
        change_url(plain_staff),
        admin_change_data(
            plain_staff,
            first_name="Patricia",
            is_superuser="on",
            groups=[managers_group.pk],
            user_permissions=[permission.pk],
        ),
    )

    assertRedirects(response, reverse("admin:accounts_staff_changelist"))
    plain_staff.refresh_from_db()
    assert plain_staff.first_name == "Patricia"
    assert not plain_staff.is_superuser
    assert not plain_staff.groups.exists()
    assert not plain_staff.user_permissions.exists()


def test_manager_cannot_make_themselves_superuser_in_the_admin(client_as, staff_manager):
    response = client_as(staff_manager).post(
        change_url(staff_manager),
        admin_change_data(staff_manager, is_superuser="on"),
    )

    assertRedirects(response, reverse("admin:accounts_staff_changelist"))
    staff_manager.refresh_from_db()
    assert not staff_manager.is_superuser
    assert list(staff_manager.groups.values_list("name", flat=True)) == ["Staff managers"]


def test_manager_sees_a_superuser_read_only(client_as, staff_manager, superuser):
    response = client_as(staff_manager).get(change_url(superuser))

    assert response.status_code == 200
    assertContains(response, "View staff member")
    assertNotContains(response, 'name="_save"')
    assertNotContains(response, 'name="email"')


def test_manager_cannot_change_a_superuser_by_post(client_as, staff_manager, superuser):
    response = client_as(staff_manager).post(
        change_url(superuser), admin_change_data(superuser, first_name="Hacked", is_active=None)
    )

    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.first_name == "Sam"
    assert superuser.is_active


def test_manager_cannot_open_a_superusers_password_page(client_as, staff_manager, superuser):
    response = client_as(staff_manager).get(password_url(superuser))

    assert response.status_code == 403


def test_manager_cannot_set_a_superusers_password(client_as, staff_manager, superuser, password):
    response = client_as(staff_manager).post(
        password_url(superuser),
        {"password1": "a-brand-new-passphrase-42", "password2": "a-brand-new-passphrase-42"},
    )

    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.check_password(password)


def test_manager_cannot_delete_a_superuser(client_as, staff_manager, superuser):
    response = client_as(staff_manager).post(delete_url(superuser), {"post": "yes"})

    assert response.status_code == 403
    assert Staff.objects.filter(pk=superuser.pk).exists()


# Deleting
# ------------------------------------------------------------------------------


@pytest.fixture
def admin_user_by_role(staff_manager, superuser):
    return {"manager": staff_manager, "superuser": superuser}


@pytest.mark.parametrize("role", ["manager", "superuser"])
def test_nobody_can_open_the_delete_page_for_their_own_account(client_as, admin_user_by_role, role):
    staff = admin_user_by_role[role]

    response = client_as(staff).get(delete_url(staff))

    assert response.status_code == 403


@pytest.mark.parametrize("role", ["manager", "superuser"])
def test_nobody_can_delete_their_own_account_in_the_admin(client_as, admin_user_by_role, role):
    staff = admin_user_by_role[role]

    response = client_as(staff).post(delete_url(staff), {"post": "yes"})

    assert response.status_code == 403
    assert Staff.objects.filter(pk=staff.pk).exists()


def test_admin_refusal_to_delete_ones_own_account_says_why(client_as, superuser):
    response = client_as(superuser).get(delete_url(superuser))

    assert response.status_code == 403
    assertContains(response, "You cannot delete your own account.", status_code=403)


@pytest.mark.parametrize("role", ["manager", "superuser"])
def test_a_plain_staff_member_can_be_deleted_in_the_admin(
    client_as, admin_user_by_role, plain_staff, role
):
    response = client_as(admin_user_by_role[role]).post(delete_url(plain_staff), {"post": "yes"})

    assertRedirects(response, reverse("admin:accounts_staff_changelist"))
    assert not Staff.objects.filter(pk=plain_staff.pk).exists()


def bulk_delete(client, staff, confirm=True):
    data = {"action": "delete_selected", "_selected_action": [member.pk for member in staff]}
    if confirm:
        data["post"] = "yes"
    return client.post(reverse("admin:accounts_staff_changelist"), data)


def test_bulk_delete_refuses_to_delete_ones_own_account(client_as, superuser, plain_staff):
    response = bulk_delete(client_as(superuser), [superuser, plain_staff])

    assert response.status_code == 403
    assert Staff.objects.filter(pk__in=[superuser.pk, plain_staff.pk]).count() == 2


def test_bulk_delete_confirmation_says_own_account_cannot_be_deleted(
    client_as, superuser, plain_staff
):
    response = bulk_delete(client_as(superuser), [superuser, plain_staff], confirm=False)

    assert response.status_code == 200
    assertContains(response, "<h1>Cannot delete staff</h1>", html=True)
    assertNotContains(response, 'name="post"')
    assert Staff.objects.filter(pk__in=[superuser.pk, plain_staff.pk]).count() == 2


def test_bulk_delete_by_a_manager_refuses_a_superuser(client_as, staff_manager, superuser):
    response = bulk_delete(client_as(staff_manager), [superuser])

    assert response.status_code == 403
    assert Staff.objects.filter(pk=superuser.pk).exists()


def test_bulk_delete_of_others_deletes_them(client_as, superuser, plain_staff, manager):
    response = bulk_delete(client_as(superuser), [plain_staff, manager])

    assertRedirects(response, reverse("admin:accounts_staff_changelist"))
    assert list(Staff.objects.all()) == [superuser]


# The last active superuser
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["is_superuser", "is_active"])
def test_admin_refuses_to_remove_a_flag_from_the_last_active_superuser(client_as, superuser, flag):
    response = client_as(superuser).post(
        change_url(superuser), admin_change_data(superuser, **{flag: None})
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[flag] == [LAST_SUPERUSER]
    assertContains(response, LAST_SUPERUSER)
    superuser.refresh_from_db()
    assert superuser.is_superuser
    assert superuser.is_active


@pytest.mark.parametrize("flag", ["is_superuser", "is_active"])
def test_admin_lets_a_superuser_remove_a_flag_from_another_when_one_remains(
    client_as, superuser, flag
):
    other = StaffFactory(email="other.root@school.example", is_superuser=True, is_staff=True)

    response = client_as(superuser).post(
        change_url(other), admin_change_data(other, **{flag: None})
    )

    assertRedirects(response, reverse("admin:accounts_staff_changelist"))
    other.refresh_from_db()
    assert getattr(other, flag) is False
