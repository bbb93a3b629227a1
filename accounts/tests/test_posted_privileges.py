"""Privileges posted to a form that does not offer them change nothing."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.asserts import assertRedirects

from accounts.models import Staff
from accounts.tests.factories import NEW_PASSWORD, StaffFactory, edit_data
from accounts.tokens import invitation_token_generator

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited(db):
    return Staff.objects.create_user("ivy@school.example", first_name="Ivy", last_name="Invited")


# Posted privileges change nothing
# ------------------------------------------------------------------------------


def privileges_of(staff):
    staff = Staff.objects.get(pk=staff.pk)
    return {
        "is_superuser": staff.is_superuser,
        "is_staff": staff.is_staff,
        "is_active": staff.is_active,
        "groups": set(staff.groups.values_list("name", flat=True)),
        "user_permissions": set(staff.user_permissions.values_list("codename", flat=True)),
    }


@pytest.fixture
def posted_privileges(db):
    governors = Group.objects.create(name="Governors")
    governors.permissions.set(Permission.objects.all())
    return {
        "is_superuser": "on",
        "is_staff": "on",
        "groups": [governors.pk, Group.objects.get(name="Staff managers").pk],
        "user_permissions": list(Permission.objects.values_list("pk", flat=True)),
    }


def test_set_password_form_ignores_posted_privileges(client_as, manager, posted_privileges):
    member = StaffFactory()
    before = privileges_of(member)
    data = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, **posted_privileges}

    response = client_as(manager).post(
        reverse("staff:set_password", kwargs={"pk": member.pk}), data
    )

    assertRedirects(response, member.get_absolute_url())
    assert Staff.objects.get(pk=member.pk).check_password(NEW_PASSWORD)
    assert privileges_of(member) == before


def test_password_change_form_ignores_posted_privileges(
    client_as, plain_staff, password, posted_privileges
):
    before = privileges_of(plain_staff)
    data = {
        "old_password": password,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        **posted_privileges,
    }

    response = client_as(plain_staff).post(reverse("password_change"), data)

    assertRedirects(response, reverse("password_change_done"))
    assert Staff.objects.get(pk=plain_staff.pk).check_password(NEW_PASSWORD)
    assert privileges_of(plain_staff) == before


def test_editing_ones_own_account_ignores_posted_privileges(client_as, manager, posted_privileges):
    before = privileges_of(manager)
    data = edit_data(manager, first_name="Maria", **posted_privileges)

    response = client_as(manager).post(reverse("staff:update", kwargs={"pk": manager.pk}), data)

    assertRedirects(response, manager.get_absolute_url())
    assert Staff.objects.get(pk=manager.pk).first_name == "Maria"
    assert privileges_of(manager) == before


def test_accepting_an_invitation_ignores_posted_privileges(client, invited, posted_privileges):
    before = privileges_of(invited)
    uidb64 = urlsafe_base64_encode(force_bytes(invited.pk))
    token = invitation_token_generator.make_token(invited)
    form_page = client.get(
        reverse("invitation_accept", kwargs={"uidb64": uidb64, "token": token}), follow=True
    )
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, **posted_privileges}

    response = client.post(form_page.redirect_chain[-1][0], data)

    assertRedirects(response, reverse("home"))
    assert Staff.objects.get(pk=invited.pk).check_password(NEW_PASSWORD)
    assert privileges_of(invited) == before


def test_password_reset_form_ignores_posted_privileges(
    client, plain_staff, posted_privileges, mailoutbox
):
    before = privileges_of(plain_staff)
    client.post(reverse("password_reset"), {"email": plain_staff.email})
    link = next(line for line in mailoutbox[0].body.splitlines() if "/accounts/reset/" in line)
    form_page = client.get(link.strip(), follow=True)
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, **posted_privileges}

    response = client.post(form_page.redirect_chain[-1][0], data)

    assertRedirects(response, reverse("password_reset_complete"))
    assert Staff.objects.get(pk=plain_staff.pk).check_password(NEW_PASSWORD)
    assert privileges_of(plain_staff) == before
