"""After the password, a code: from the app or a recovery code, once each, within minutes."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from pytest_django.asserts import assertContains, assertRedirects

from audit.models import AuditEvent

from .conftest import make_step_overdue

pytestmark = pytest.mark.django_db

WRONG_CODE = "000000"


def signed_in(client):
    return SESSION_KEY in client.session


def verified(client):
    return DEVICE_ID_SESSION_KEY in client.session


def wrong_code_for(device, code):
    right = code(device)
    return WRONG_CODE if right != WRONG_CODE else "111111"


def test_the_password_leads_to_the_second_step(after_password, superuser, app_of):
    app_of(superuser)
    client = after_password(superuser)

    response = client.get(reverse("home"))

    assertRedirects(response, f"{reverse('two_factor:verify')}?next=%2F")
    assert signed_in(client) and not verified(client)


@pytest.mark.parametrize(
    "url_name", ["home", "staff:list", "password_change", "two_factor:security", "audit:list"]
)
def test_nothing_else_opens_before_the_second_step(after_password, superuser, app_of, url_name):
    app_of(superuser)
    client = after_password(superuser)

    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor:verify"))


def test_the_right_code_finishes_signing_in_under_a_new_session_key(
    after_password, superuser, app_of, code, type_code
):
    device = app_of(superuser)
    client = after_password(superuser)
    key_after_password = client.session.session_key

    response = type_code(client, code(device), next_url=reverse("staff:list"))

    assertRedirects(response, reverse("staff:list"))
    assert verified(client)
    assert client.session.session_key != key_after_password
    assert client.get(reverse("home")).status_code == 200


def test_spaces_in_a_typed_code_do_not_matter(after_password, superuser, app_of, code, type_code):
    device = app_of(superuser)
    client = after_password(superuser)
    typed = code(device)

    type_code(client, f" {typed[:3]} {typed[3:]} ")

    assert verified(client)


def test_a_wrong_code_is_refused_recorded_and_counted_as_a_failed_sign_in(
    after_password, superuser, app_of, code, type_code
):
    device = app_of(superuser)
    client = after_password(superuser)

    response = type_code(client, wrong_code_for(device, code))

    assertContains(response, "That code is not valid.")
    assert not verified(client)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SECOND_STEP_FAILED).count() == 1
    # Once, as what it is, not also as a wrong password.
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILED).exists()
    assert AccessAttempt.objects.get(username=superuser.email).failures_since_start == 1
    # And towards the account's ceiling, from every address.
    assert AccessFailureLog.objects.filter(username=superuser.email).count() == 1


def test_a_code_works_once(after_password, superuser, app_of, code, type_code):
    device = app_of(superuser)
    first = after_password(superuser)
    typed = code(device)
    type_code(first, typed)
    second = after_password(superuser)

    response = type_code(second, typed)

    assertContains(response, "That code is not valid.")
    assert verified(first) and not verified(second)


def test_a_code_from_a_minute_and_a_half_ago_has_expired(
    after_password, superuser, app_of, code, type_code
):
    device = app_of(superuser)
    client = after_password(superuser)

    type_code(client, code(device, steps_ahead=-3))

    assert not verified(client)


def test_the_previous_code_still_works_for_a_slow_typist(
    after_password, superuser, app_of, code, type_code
):
    device = app_of(superuser)
    client = after_password(superuser)

    type_code(client, code(device, steps_ahead=-1))

    assert verified(client)


def test_five_wrong_codes_lock_the_email_out_and_end_the_session(
    after_password, superuser, app_of, code, type_code, password
):
    device = app_of(superuser)
    client = after_password(superuser)
    wrong = wrong_code_for(device, code)

    statuses = [type_code(client, wrong).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]

    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert not signed_in(client)
    # The password step is locked too, and so is the right code.
    again = Client().post(reverse("login"), {"username": superuser.email, "password": password})
    assert again.status_code == 429


def test_retyping_the_password_gives_no_fresh_tries_at_the_code(
    after_password, superuser, app_of, code, type_code
):
    device = app_of(superuser)
    wrong = wrong_code_for(device, code)
    client = after_password(superuser)
    for _ in range(3):
        type_code(client, wrong)
    client = after_password(superuser)  # Axes forgets failures when a password is right.
    type_code(client, wrong)

    response = type_code(client, wrong)

    assert response.status_code == 429
    assert not signed_in(client)
    assert type_code(after_password(superuser), code(device)).status_code == 429


def test_wrong_codes_from_another_address_do_not_lock_this_one(
    after_password, superuser, app_of, code, type_code
):
    device = app_of(superuser)
    wrong = wrong_code_for(device, code)
    attacker = after_password(superuser, REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        type_code(attacker, wrong, REMOTE_ADDR="203.0.113.9")

    client = after_password(superuser)
    type_code(client, code(device))

    assert verified(client)


def test_the_second_step_times_out(after_password, superuser, app_of):
    app_of(superuser)
    client = after_password(superuser)
    make_step_overdue(client)

    response = client.get(reverse("staff:list"), follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assertContains(response, "timed out")
    assert not signed_in(client)


def test_logging_out_is_possible_in_the_middle(after_password, superuser, app_of):
    app_of(superuser)
    client = after_password(superuser)

    client.post(reverse("logout"))

    assert not signed_in(client)


@pytest.mark.parametrize(
    "bad_next", ["//evil.example", "https://evil.example/", "javascript:alert(1)", "\\\\evil"]
)
def test_the_second_step_never_leads_off_the_site(
    after_password, superuser, app_of, code, type_code, bad_next
):
    device = app_of(superuser)
    client = after_password(superuser)

    response = type_code(client, code(device), next_url=bad_next)

    assertRedirects(response, reverse("home"))


def test_a_verified_session_skips_the_second_step_page(client_as, superuser):
    client = client_as(superuser)

    response = client.get(reverse("two_factor:verify"))

    assertRedirects(response, reverse("home"))


def test_plain_staff_without_a_factor_go_straight_in(after_password, plain_staff):
    client = after_password(plain_staff)

    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("two_factor:verify")).status_code == 302
