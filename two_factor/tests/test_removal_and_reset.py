"""Removing one's own factor, and a superuser's reset of someone's factors for a lost device."""

import pytest
from axes.models import AccessAttempt
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

REMOVE = reverse("two_factor:remove_app")
SECURITY = reverse("two_factor:security")


def reset_url(staff):
    return reverse("two_factor:reset", kwargs={"pk": staff.pk})


def has_devices(staff):
    return (
        TOTPDevice.objects.filter(user=staff).exists()
        or StaticDevice.objects.filter(user=staff).exists()
    )


# Removal
# ------------------------------------------------------------------------------


def test_someone_the_policy_does_not_cover_removes_their_app_with_a_fresh_code(
    client_as, plain_staff, app_of, code, mailoutbox, committed
):
    device = app_of(plain_staff)
    client = client_as(plain_staff)
    client.post(reverse("two_factor:recovery_codes"))
    assertContains(client.get(SECURITY), "Remove the authenticator app")

    with committed():
        response = client.post(REMOVE, {"otp_token": code(device, steps_ahead=1)})

    assertRedirects(response, SECURITY)
    assert not has_devices(plain_staff)  # The recovery codes go with it.
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TWO_FACTOR_REMOVED).count() == 1
    assert [m.subject for m in mailoutbox] == [
        "A second factor was removed from your schoolstaff account"
    ]
    assert "your recovery codes were removed too" in mailoutbox[0].body
    assert client.get(reverse("home")).status_code == 200


def test_removal_without_the_right_code_removes_nothing_and_counts_as_a_failure(
    client_as, plain_staff, app_of
):
    app_of(plain_staff)
    client = client_as(plain_staff)

    response = client.post(REMOVE, {"otp_token": "999999"})

    assertContains(response, "That code is not valid.")
    assert has_devices(plain_staff)
    assert AccessAttempt.objects.get(username=plain_staff.email).failures_since_start == 1


def test_nobody_removes_their_last_factor_while_the_policy_covers_them(client_as, superuser, code):
    client = client_as(superuser)
    device = TOTPDevice.objects.get(user=superuser)

    response = client.post(REMOVE, {"otp_token": code(device, steps_ahead=1)}, follow=True)

    assertContains(response, "cannot be removed")
    assert TOTPDevice.objects.filter(user=superuser).exists()


# Reset by a superuser
# ------------------------------------------------------------------------------


def test_a_superuser_resets_someones_factors_after_confirming(
    client_as, superuser, other_superuser, app_of, mailoutbox, committed
):
    app_of(other_superuser)
    client = client_as(superuser)

    confirm = client.get(reset_url(other_superuser))
    assertContains(confirm, "Reset the second factors of Grace Hopper?")
    assert has_devices(other_superuser)
    with committed():
        response = client.post(reset_url(other_superuser))

    assertRedirects(response, reverse("staff:detail", kwargs={"pk": other_superuser.pk}))
    assert not has_devices(other_superuser)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.TWO_FACTOR_RESET)
    assert (event.actor, event.target_id) == (superuser, other_superuser.pk)
    assert str(event) == "Sam Super reset the second factors of Grace Hopper"
    assert [(m.to, m.subject) for m in mailoutbox] == [
        ([other_superuser.email], "The second factors of your schoolstaff account were reset")
    ]


def test_after_a_reset_the_person_sets_up_a_new_factor_at_their_next_sign_in(
    client_as, after_password, superuser, other_superuser, app_of
):
    app_of(other_superuser)
    client_as(superuser).post(reset_url(other_superuser))

    response = after_password(other_superuser).get(reverse("home"))

    assert response.url.startswith(reverse("two_factor:setup_app"))


def test_a_reset_ends_the_verification_of_the_persons_open_sessions(
    client_as, superuser, other_superuser
):
    theirs = client_as(other_superuser)
    mine = Client()
    mine.force_login(superuser)

    mine.post(reset_url(other_superuser))

    assert theirs.get(reverse("home")).url.startswith(reverse("two_factor:setup_app"))


@pytest.mark.parametrize("role", ["plain", "manager"])
def test_only_superusers_reset(client_as, users_by_role, other_superuser, app_of, role):
    app_of(other_superuser)
    client = client_as(users_by_role[role])

    assert client.get(reset_url(other_superuser)).status_code == 403
    assert client.post(reset_url(other_superuser)).status_code == 403
    assert has_devices(other_superuser)


def test_nobody_resets_their_own(client_as, superuser):
    client = client_as(superuser)

    assert client.post(reset_url(superuser)).status_code == 403
    assert has_devices(superuser)


def test_the_reset_button_is_on_the_staff_page_for_superusers_only(
    client_as, superuser, manager, ada
):
    ada_page = reverse("staff:detail", kwargs={"pk": ada.pk})
    own_page = reverse("staff:detail", kwargs={"pk": superuser.pk})

    assertContains(client_as(superuser).get(ada_page), "Reset second factors")
    assertNotContains(client_as(superuser).get(own_page), "Reset second factors")
    assertNotContains(client_as(manager).get(ada_page), "Reset second factors")


def test_reset_two_factor_command(ada, app_of, capsys, mailoutbox, committed):
    app_of(ada)

    with committed():
        call_command("reset_two_factor", " ADA@school.example ")

    assert not has_devices(ada)
    assert "Reset the second factors of ada@school.example" in capsys.readouterr().out
    assert len(mailoutbox) == 1
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.TWO_FACTOR_RESET)
    assert event.actor is None and event.target_id == ada.pk


def test_reset_two_factor_command_refuses_an_unknown_email(db):
    with pytest.raises(CommandError, match="No account"):
        call_command("reset_two_factor", "nobody@school.example")
