"""Sessions start fresh at sign-in and end when idle, when old, or when the account goes.

That a password change ends the other sessions but keeps this one is in test_auth.py.
"""

import time

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from accounts.models import Staff

pytestmark = pytest.mark.django_db

EXPIRED = "Your session has expired. Please log in again."
real_time = time.time


@pytest.fixture
def clock(monkeypatch):
    """Move forward the clock that times sessions, as if time had passed."""

    class Clock:
        offset = 0

        def time(self):
            return real_time() + self.offset

        def advance(self, hours=0, minutes=0, seconds=0):
            self.offset += hours * 3600 + minutes * 60 + seconds

    clock = Clock()
    monkeypatch.setattr("accounts.middleware.time.time", clock.time)
    return clock


def signed_in(ada, password):
    """A browser in which Ada signed in through the login page."""
    client = Client()
    response = client.post(reverse("login"), {"username": ada.email, "password": password})
    assertRedirects(response, reverse("home"))
    return client


def is_signed_in(client):
    response = client.get(reverse("home"))
    return response.status_code == 200 and response.context["user"].is_authenticated


def assert_sent_to_login_saying_expired(client):
    url = reverse("staff:list")

    response = client.get(url, follow=True)

    assert response.redirect_chain == [(f"{reverse('login')}?next={url}", 302)]
    assertContains(response, EXPIRED)
    assert response.context["user"].is_anonymous
    assert SESSION_KEY not in client.session


# Signing in starts a new session and a new CSRF token
# ------------------------------------------------------------------------------


def test_csrf_token_changes_at_sign_in(ada, password):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    token_before = client.cookies[settings.CSRF_COOKIE_NAME].value

    response = client.post(
        reverse("login"),
        {"username": ada.email, "password": password, "csrfmiddlewaretoken": token_before},
    )

    assertRedirects(response, reverse("home"))
    token_after = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert token_after != token_before


def test_csrf_token_from_before_sign_in_no_longer_works(ada, password):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    token_before = client.cookies[settings.CSRF_COOKIE_NAME].value
    client.post(
        reverse("login"),
        {"username": ada.email, "password": password, "csrfmiddlewaretoken": token_before},
    )
    assert client.cookies[settings.CSRF_COOKIE_NAME].value != token_before

    # A page that planted or read the old token tries it on the signed-in browser.
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": token_before})

    assert response.status_code == 403
    assert is_signed_in(client)


def test_session_key_from_before_sign_in_does_not_carry_the_sign_in(ada, password):
    client = Client()
    client.get(reverse("login"))
    client.session.save()
    key_before = client.session.session_key
    client.post(reverse("login"), {"username": ada.email, "password": password})

    # Someone who planted the session key before sign-in tries it afterwards.
    planted = Client()
    planted.cookies[settings.SESSION_COOKIE_NAME] = key_before

    assert is_signed_in(client)
    assert not is_signed_in(planted)


# Idle expiry
# ------------------------------------------------------------------------------


def test_session_ends_after_30_minutes_without_requests(ada, password, clock):
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    client = signed_in(ada, password)

    clock.advance(minutes=30, seconds=5)

    assert_sent_to_login_saying_expired(client)


def test_session_lives_29_minutes_without_requests(ada, password, clock):
    client = signed_in(ada, password)

    clock.advance(minutes=29)

    assert is_signed_in(client)


def test_requests_within_the_idle_window_keep_the_session_alive_past_30_minutes(
    ada, password, clock
):
    client = signed_in(ada, password)

    for _ in range(4):
        clock.advance(minutes=20)
        assert is_signed_in(client)


def test_idle_timeout_follows_the_setting(ada, password, clock, settings):
    settings.SESSION_IDLE_TIMEOUT = 5 * 60
    client = signed_in(ada, password)

    clock.advance(minutes=5, seconds=5)

    assert_sent_to_login_saying_expired(client)


def test_signing_in_again_after_idle_expiry_works(ada, password, clock):
    client = signed_in(ada, password)
    clock.advance(minutes=31)
    client.get(reverse("home"))

    response = client.post(reverse("login"), {"username": ada.email, "password": password})

    assertRedirects(response, reverse("home"))
    assert is_signed_in(client)


# Absolute expiry
# ------------------------------------------------------------------------------


def test_session_ends_12_hours_after_sign_in_despite_constant_activity(ada, password, clock):
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 12 * 3600
    client = signed_in(ada, password)
    for _ in range(28):  # Every 25 minutes, up to 11h 40m.
        clock.advance(minutes=25)
        assert is_signed_in(client)

    clock.advance(minutes=20, seconds=5)

    assert_sent_to_login_saying_expired(client)


def test_absolute_timeout_counts_from_sign_in_through_force_login(ada, clock, settings):
    settings.SESSION_ABSOLUTE_TIMEOUT = 60 * 60
    client = Client()
    client.force_login(ada)
    for _ in range(2):
        clock.advance(minutes=25)
        assert is_signed_in(client)

    clock.advance(minutes=10, seconds=5)

    assert_sent_to_login_saying_expired(client)


# Deactivation and deletion
# ------------------------------------------------------------------------------


def deactivate(staff):
    # As another process would: straight to the database.
    Staff.objects.filter(pk=staff.pk).update(is_active=False)


def delete(staff):
    Staff.objects.filter(pk=staff.pk).delete()


@pytest.mark.parametrize("end_account", [deactivate, delete])
def test_ending_an_account_signs_out_all_its_sessions_on_the_next_request(
    ada, password, end_account
):
    browsers = [signed_in(ada, password), signed_in(ada, password)]

    end_account(ada)

    for browser in browsers:
        url = reverse("staff:list")
        assertRedirects(browser.get(url), f"{reverse('login')}?next={url}")


def test_deactivating_with_save_signs_out_the_session(ada, password):
    client = signed_in(ada, password)
    staff = Staff.objects.get(pk=ada.pk)

    staff.is_active = False
    staff.save()

    assert not is_signed_in(client)


def test_deactivation_does_not_end_other_peoples_sessions(ada, password, plain_staff):
    other = signed_in(plain_staff, password)

    deactivate(ada)

    assert is_signed_in(other)


def test_session_ended_by_deactivation_does_not_come_back_with_reactivation(ada, password):
    client = signed_in(ada, password)
    deactivate(ada)
    assert not is_signed_in(client)

    Staff.objects.filter(pk=ada.pk).update(is_active=True)

    assert not is_signed_in(client)
