"""Nobody takes over an account more powerful than a plain member's.

A manager keeps plain members' accounts; only a superuser changes an account that
holds any power (staff status, a group, a permission), on the site, in the admin
and through the import, so that no manager can climb through someone else's account.
"""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Staff
from accounts.staff_import import StaffImport
from accounts.tests.admin_forms import admin_change_data
from accounts.tests.factories import NEW_PASSWORD, StaffFactory, edit_data
from accounts.tokens import invitation_token_generator
from audit.models import AuditEvent
from subjects.models import SubjectGroup

pytestmark = pytest.mark.django_db

REFUSAL = "Only a superuser can change an account with administrative powers."


def with_staff_status():
    return StaffFactory(email="it@school.example", last_name="Admin", is_staff=True)


def with_one_permission():
    staff = StaffFactory(email="clerk@school.example", last_name="Clerk")
    staff.user_permissions.add(Permission.objects.get(codename="view_staff"))
    return staff


def fellow_manager():
    staff = StaffFactory(email="fellow@school.example", last_name="Fellow")
    staff.groups.add(Group.objects.get(name="Staff managers"))
    return staff


POWERFUL = [
    pytest.param(with_staff_status, id="staff-status"),
    pytest.param(with_one_permission, id="one-permission"),
    pytest.param(fellow_manager, id="fellow-manager"),
]


def site_actions(staff):
    """Each way the site changes an account: (name, method, url, data)."""
    return [
        ("edit", "post", "staff:update", edit_data(staff, email="mine@evil.example")),
        (
            "set password",
            "post",
            "staff:set_password",
            {"password1": NEW_PASSWORD} | {"password2": NEW_PASSWORD},
        ),
        ("resend invitation", "post", "staff:resend_invitation", {}),
        ("deactivate", "post", "staff:deactivate", {}),
        ("reactivate", "post", "staff:activate", {}),
        ("delete", "post", "staff:delete", {}),
        ("open the edit form", "get", "staff:update", {}),
        ("open the password form", "get", "staff:set_password", {}),
    ]


def snapshot(staff):
    return Staff.objects.filter(pk=staff.pk).values().first()


# On the site
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("make_target", POWERFUL)
@pytest.mark.parametrize("action", range(8))
def test_a_manager_is_refused_every_change_to_an_account_with_powers(
    client_as, manager, make_target, action
):
    target = make_target()
    before = snapshot(target)
    _, method, url, data = site_actions(target)[action]

    response = getattr(client_as(manager), method)(reverse(url, kwargs={"pk": target.pk}), data)

    assert response.status_code == 403
    assertContains(response, REFUSAL, status_code=403)
    assert snapshot(target) == before


@pytest.mark.parametrize("action", range(8))
def test_a_manager_keeps_full_control_of_plain_members(client_as, manager, action):
    target = StaffFactory(email="plain.member@school.example", password=None)
    _, method, url, data = site_actions(target)[action]

    response = getattr(client_as(manager), method)(reverse(url, kwargs={"pk": target.pk}), data)

    assert response.status_code in {200, 302}


@pytest.mark.parametrize("make_target", POWERFUL)
def test_a_superuser_may_change_an_account_with_powers(client_as, superuser, make_target):
    target = make_target()

    response = client_as(superuser).post(
        reverse("staff:update", kwargs={"pk": target.pk}), edit_data(target, last_name="Changed")
    )

    assertRedirects(response, reverse("staff:detail", kwargs={"pk": target.pk}))
    assert Staff.objects.get(pk=target.pk).last_name == "Changed"


@pytest.mark.parametrize("make_target", POWERFUL)
def test_a_manager_sees_no_button_that_would_be_refused(client_as, manager, make_target):
    target = make_target()
    client = client_as(manager)

    page = client.get(reverse("staff:detail", kwargs={"pk": target.pk}))
    listed = client.get(reverse("staff:list"))

    for url in ["update", "set_password", "deactivate", "delete"]:
        assertNotContains(page, reverse(f"staff:{url}", kwargs={"pk": target.pk}))
    assertNotContains(listed, reverse("staff:update", kwargs={"pk": target.pk}))


def test_a_manager_sees_the_buttons_for_a_plain_member(client_as, manager, ada):
    page = client_as(manager).get(reverse("staff:detail", kwargs={"pk": ada.pk}))

    for url in ["update", "set_password", "deactivate", "delete"]:
        assertContains(page, reverse(f"staff:{url}", kwargs={"pk": ada.pk}))


def test_the_edit_button_goes_once_a_member_is_given_a_group(client_as, manager, ada):
    client = client_as(manager)
    assertContains(client.get(reverse("staff:list")), reverse("staff:update", args=[ada.pk]))

    ada.groups.add(Group.objects.get(name="Staff managers"))

    assertNotContains(client.get(reverse("staff:list")), reverse("staff:update", args=[ada.pk]))


def test_the_owner_still_changes_their_own_name(client_as, manager):
    response = client_as(manager).post(
        reverse("staff:update", kwargs={"pk": manager.pk}), edit_data(manager, first_name="May")
    )

    assertRedirects(response, reverse("staff:detail", kwargs={"pk": manager.pk}))
    assert Staff.objects.get(pk=manager.pk).first_name == "May"


# The takeover the rule stops: a new email, then a reset link sent there
# ------------------------------------------------------------------------------
def test_a_manager_cannot_send_an_administrators_reset_link_to_themselves(
    client_as, manager, mailoutbox, django_capture_on_commit_callbacks
):
    target = with_staff_status()
    client_as(manager).post(
        reverse("staff:update", kwargs={"pk": target.pk}),
        edit_data(target, email="manager.owns.this@evil.example"),
    )

    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("password_reset"), {"email": "manager.owns.this@evil.example"})

    assert Staff.objects.get(pk=target.pk).email == "it@school.example"
    assert not [mail for mail in mailoutbox if "evil.example" in ",".join(mail.to)]


# In the admin
# ------------------------------------------------------------------------------
@pytest.fixture
def admin_manager(manager):
    """A manager allowed into the admin, holding `auth.change_group` too."""
    manager.is_staff = True
    manager.save()
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_group", "view_group", "add_group"])
    )
    return manager


@pytest.mark.parametrize("make_target", POWERFUL)
def test_the_admin_refuses_a_manager_every_change_to_an_account_with_powers(
    client_as, admin_manager, make_target
):
    target = make_target()
    before = snapshot(target)
    client = client_as(admin_manager)

    change = client.post(
        reverse("admin:accounts_staff_change", args=[target.pk]),
        admin_change_data(target, email="mine@evil.example"),
    )
    password = client.post(
        reverse("admin:auth_user_password_change", args=[target.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    delete = client.post(reverse("admin:accounts_staff_delete", args=[target.pk]), {"post": "yes"})

    assert change.status_code == 403
    assert password.status_code == 403
    assertContains(password, REFUSAL, status_code=403)
    assert delete.status_code == 403
    assert snapshot(target) == before


def test_the_admin_never_lets_a_non_superuser_grant_staff_status(client_as, admin_manager, ada):
    client = client_as(admin_manager)
    form = client.get(reverse("admin:accounts_staff_change", args=[ada.pk]))

    client.post(
        reverse("admin:accounts_staff_change", args=[ada.pk]),
        admin_change_data(ada, is_staff="on"),
    )

    assertNotContains(form, 'name="is_staff"')
    assert not Staff.objects.get(pk=ada.pk).is_staff


def test_only_superusers_change_permission_groups_whatever_else_one_holds(client_as, admin_manager):
    group = Group.objects.get(name="Staff managers")
    every_permission = list(Permission.objects.values_list("pk", flat=True))
    client = client_as(admin_manager)

    change = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": group.name, "permissions": every_permission},
    )
    add = client.post(reverse("admin:auth_group_add"), {"name": "Everything"})

    assert change.status_code == 403
    assert add.status_code == 403
    assert group.permissions.count() == 8
    assert not Group.objects.filter(name="Everything").exists()
    assert len(Staff.objects.get(pk=admin_manager.pk).get_all_permissions()) < 56


# Nobody sets their own password over the current one
# ------------------------------------------------------------------------------
def test_the_set_password_page_sends_its_owner_to_the_password_change_form(client_as, manager):
    response = client_as(manager).get(reverse("staff:set_password", kwargs={"pk": manager.pk}))

    assertRedirects(response, reverse("password_change"))


# The import
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("make_target", POWERFUL)
def test_the_import_refuses_a_manager_a_row_for_an_account_with_powers(manager, make_target):
    target = make_target()

    staff_import = StaffImport(
        f"email,first_name,last_name\n{target.email},Taken,Over\n", editor=manager
    )

    assert [(error.line, error.reason) for error in staff_import.errors] == [(2, REFUSAL)]


def test_the_import_still_updates_plain_members_for_a_manager(manager, ada):
    staff_import = StaffImport(
        f"email,first_name,last_name\n{ada.email},Augusta,King\n", editor=manager
    )

    assert staff_import.errors == []
    assert staff_import.counts == (0, 1, 0)


@pytest.fixture
def importer(db):
    """Someone who may add and change staff, and so import them, but not add groups."""
    staff = StaffFactory(email="importer@school.example", last_name="Importer")
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_staff", "change_staff", "view_staff"])
    )
    return staff


def test_creating_subject_groups_on_import_needs_the_permission_to_add_them(client_as, importer):
    form = client_as(importer).get(reverse("staff:import"))

    assert form.status_code == 200
    assertNotContains(form, 'name="create_groups"')


def test_a_manager_who_may_add_groups_is_offered_to_create_them(client_as, manager):
    form = client_as(manager).get(reverse("staff:import"))

    assertContains(form, 'name="create_groups"')


def test_without_the_permission_unknown_groups_are_errors_even_if_asked_to_create(
    client_as, importer
):
    client = client_as(importer)
    upload = SimpleUploadedFile(
        "staff.csv", b"email,first_name,last_name,subject_group\nn@school.example,N,New,Latin\n"
    )
    client.post(reverse("staff:import"), {"file": upload, "create_groups": "on"})

    preview = client.get(reverse("staff:import_preview"))

    assertContains(preview, "There is no subject group “Latin”")
    assert not SubjectGroup.objects.exists()


# Links die with the account
# ------------------------------------------------------------------------------
def link(name, staff, generator):
    uid = urlsafe_base64_encode(force_bytes(staff.pk))
    return reverse(name, kwargs={"uidb64": uid, "token": generator.make_token(staff)})


@pytest.mark.parametrize(
    ("name", "generator"),
    [
        ("password_reset_confirm", default_token_generator),
        ("invitation_accept", invitation_token_generator),
    ],
)
def test_an_emailed_link_does_nothing_once_the_account_is_deactivated(
    client_as, manager, name, generator
):
    staff = StaffFactory(email="leaver@school.example", password=None)
    url = link(name, staff, generator)
    client_as(manager).post(reverse("staff:deactivate", kwargs={"pk": staff.pk}))

    response = Client().get(url, follow=True)

    assert not response.context.get("validlink")
    assert not Staff.objects.get(pk=staff.pk).has_usable_password()


def test_resending_an_invitation_makes_the_earlier_links_invalid(
    client_as, manager, mailoutbox, django_capture_on_commit_callbacks
):
    staff = StaffFactory(email="late@school.example", password=None)
    first = link("invitation_accept", staff, invitation_token_generator)

    with django_capture_on_commit_callbacks(execute=True):
        client_as(manager).post(reverse("staff:resend_invitation", kwargs={"pk": staff.pk}))
    second = re.search(r"http://testserver(/\S+)", mailoutbox[-1].body).group(1)

    assert not Client().get(first, follow=True).context.get("validlink")
    assert Client().get(second, follow=True).context.get("validlink")


# Group permissions are audited
# ------------------------------------------------------------------------------
def test_changes_to_a_permission_groups_permissions_are_recorded_with_who_made_them(
    client_as, superuser
):
    group = Group.objects.get(name="Staff managers")
    permission = Permission.objects.get(codename="view_subjectgroup")

    client_as(superuser).post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {
            "name": "Office managers",
            "permissions": [
                *group.permissions.exclude(pk=permission.pk).values_list("pk", flat=True)
            ],
        },
    )

    events = AuditEvent.objects.about(group)
    assert {event.kind for event in events} == {"changed", "permissions_changed"}
    assert {event.actor for event in events} == {superuser}
    assert "Name from Staff managers to Office managers" in events.get(kind="changed").description


def test_permission_groups_created_and_deleted_are_recorded(client_as, superuser):
    client = client_as(superuser)
    client.post(reverse("admin:auth_group_add"), {"name": "Timetablers"})
    group = Group.objects.get(name="Timetablers")
    client.post(reverse("admin:auth_group_delete", args=[group.pk]), {"post": "yes"})

    kinds = list(AuditEvent.objects.about(group).values_list("kind", flat=True))

    assert sorted(kinds) == ["created", "deleted"]
