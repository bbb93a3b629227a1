"""Repeated failed sign-ins lock an email for one client IP, for a while (django-axes)."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from accounts.security import client_ip
from accounts.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not-the-password"
ATTACKER_IP = "10.0.0.1"
OTHER_IP = "10.0.0.2"
LOCKED_OUT = "Too many attempts"
WAIT_OR_ASK = "ask an administrator to unlock your account"
real_now = timezone.now


@pytest.fixture
def clock(monkeypatch):
    """Move forward the clock that django-axes reads, as if time had passed."""

    class Clock:
        offset = timedelta()

        def now(self):
            return real_now() + self.offset

        def advance(self, **duration):
            self.offset += timedelta(**duration)

    clock = Clock()
    # django-axes imported `now` by name; Django's fields call timezone.now().
    for target in ["axes.handlers.proxy.now", "axes.attempts.now", "django.utils.timezone.now"]:
        monkeypatch.setattr(target, clock.now)
    return clock


def log_in(client, email, password, url_name="login", **extra):
    return client.post(reverse(url_name), {"username": email, "password": password}, **extra)


def fail(times, email, ip=ATTACKER_IP, url_name="login", **extra):
    """Sign in with a wrong password `times` times; return the status codes."""
    return [
        log_in(Client(), email, WRONG_PASSWORD, url_name, REMOTE_ADDR=ip, **extra).status_code
        for _ in range(times)
    ]


def signs_in(email, password, ip=ATTACKER_IP, **extra):
    client = Client()
    response = log_in(client, email, password, REMOTE_ADDR=ip, **extra)
    return response.status_code == 302 and SESSION_KEY in client.session


def main_content(response):
    """The page's <main>, without the CSRF token, which differs on every page."""
    html = response.content.decode()
    main = re.search(r"<main\b.*</main>", html, re.DOTALL).group()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main)


def failures_recorded(username):
    return sum(
        AccessAttempt.objects.filter(username=username).values_list(
            "failures_since_start", flat=True
        )
    )


# Locking
# ------------------------------------------------------------------------------


def test_five_failures_in_mixed_case_lock_the_email_even_for_the_right_password(ada, password):
    for typed in [" ADA@School.example ", "Ada@school.EXAMPLE", "ada@school.example  "]:
        fail(1, typed)
    fail(2, "\tADA@SCHOOL.EXAMPLE")

    client = Client()
    response = log_in(client, "Ada@School.Example", password, REMOTE_ADDR=ATTACKER_IP)

    assertContains(response, LOCKED_OUT, status_code=429)
    assertContains(response, WAIT_OR_ASK, status_code=429)
    assert SESSION_KEY not in client.session


def test_four_failures_do_not_lock(ada, password):
    fail(settings.AXES_FAILURE_LIMIT - 1, " ADA@School.example ")

    assert signs_in(ada.email, password)


def test_the_fifth_failure_is_already_answered_with_the_locked_out_page(ada):
    statuses = fail(settings.AXES_FAILURE_LIMIT, ada.email)

    assert statuses == [200, 200, 200, 200, 429]


def test_failures_are_recorded_under_the_lower_cased_email(ada):
    fail(3, " ADA@School.example ")
    fail(2, "Ada@SCHOOL.example")

    attempt = AccessAttempt.objects.get()
    assert attempt.username == "ada@school.example"
    assert attempt.ip_address == ATTACKER_IP
    assert attempt.failures_since_start == 5


def test_locked_out_page_says_to_wait_or_ask_an_administrator(ada):
    fail(settings.AXES_FAILURE_LIMIT, ada.email)

    response = log_in(Client(), ada.email, WRONG_PASSWORD, REMOTE_ADDR=ATTACKER_IP)

    assertContains(response, "<h1>Too many attempts</h1>", status_code=429, html=True)
    assertContains(response, WAIT_OR_ASK, status_code=429)
    # The cool-off in words a person reads, not as an ISO 8601 duration.
    assertContains(response, "15 minutes", status_code=429)
    assertNotContains(response, "PT15M", status_code=429)


def test_locked_out_page_is_the_same_for_an_unknown_email(ada):
    unknown = "nobody@school.example"
    fail(settings.AXES_FAILURE_LIMIT, ada.email)
    fail(settings.AXES_FAILURE_LIMIT, unknown)

    known_page = log_in(Client(), ada.email, WRONG_PASSWORD, REMOTE_ADDR=ATTACKER_IP)
    unknown_page = log_in(Client(), unknown, WRONG_PASSWORD, REMOTE_ADDR=ATTACKER_IP)

    assert known_page.status_code == unknown_page.status_code == 429
    assert main_content(known_page) == main_content(unknown_page)
    assert failures_recorded(unknown) == settings.AXES_FAILURE_LIMIT


def test_failures_from_one_ip_do_not_lock_the_account_for_another_ip(ada, password):
    fail(settings.AXES_FAILURE_LIMIT, ada.email, ip=ATTACKER_IP)

    assert not signs_in(ada.email, password, ip=ATTACKER_IP)
    assert signs_in(ada.email, password, ip=OTHER_IP)


def test_failures_for_one_email_do_not_lock_another_email_from_the_same_ip(ada, password):
    grace = StaffFactory(email="grace@school.example")
    fail(settings.AXES_FAILURE_LIMIT, ada.email)

    assert signs_in(grace.email, password)


# The cool-off
# ------------------------------------------------------------------------------


def test_lock_holds_until_the_cool_off_ends(ada, password, clock):
    fail(settings.AXES_FAILURE_LIMIT, ada.email)

    clock.advance(minutes=14, seconds=50)
    assert not signs_in(ada.email, password)

    clock.advance(seconds=15)
    assert signs_in(ada.email, password)


def test_attempts_during_the_lock_do_not_extend_it(ada, password, clock):
    fail(settings.AXES_FAILURE_LIMIT, ada.email)

    clock.advance(minutes=10)
    for attempt in [WRONG_PASSWORD, password, WRONG_PASSWORD]:
        response = log_in(Client(), ada.email, attempt, REMOTE_ADDR=ATTACKER_IP)
        assert response.status_code == 429
    assert failures_recorded(ada.email) == settings.AXES_FAILURE_LIMIT

    clock.advance(minutes=5, seconds=5)
    assert signs_in(ada.email, password)


def test_failures_older_than_the_cool_off_stop_counting(ada, password, clock):
    fail(settings.AXES_FAILURE_LIMIT - 1, ada.email)

    clock.advance(minutes=16)
    fail(settings.AXES_FAILURE_LIMIT - 1, ada.email)

    assert signs_in(ada.email, password)


# Unlocking
# ------------------------------------------------------------------------------


def unlock_staff(email):
    out = StringIO()
    call_command("unlock_staff", email, stdout=out)
    return out.getvalue()


def test_unlock_staff_command_unlocks_the_email_from_every_ip_and_says_so(ada, password):
    fail(settings.AXES_FAILURE_LIMIT, ada.email, ip=ATTACKER_IP)
    fail(settings.AXES_FAILURE_LIMIT, ada.email, ip=OTHER_IP)

    output = unlock_staff(" ADA@School.example ")

    assert output == "Unlocked ada@school.example: cleared 2 record(s) of failed sign-ins.\n"
    assert not AccessAttempt.objects.exists()
    assert signs_in(ada.email, password, ip=ATTACKER_IP)
    assert signs_in(ada.email, password, ip=OTHER_IP)


def test_unlock_staff_command_leaves_other_emails_locked(ada, password):
    grace = StaffFactory(email="grace@school.example")
    fail(settings.AXES_FAILURE_LIMIT, ada.email)
    fail(settings.AXES_FAILURE_LIMIT, grace.email)

    unlock_staff(ada.email)

    assert signs_in(ada.email, password)
    assert not signs_in(grace.email, password)


def test_unlock_staff_command_says_when_nothing_was_locked(ada):
    output = unlock_staff(" ADA@School.example ")

    assert output == "ada@school.example was not locked out.\n"


# The admin's login
# ------------------------------------------------------------------------------


def test_admin_login_is_locked_too(superuser, password):
    fail(settings.AXES_FAILURE_LIMIT, superuser.email, url_name="admin:login")

    client = Client()
    response = log_in(client, superuser.email, password, "admin:login", REMOTE_ADDR=ATTACKER_IP)

    assertContains(response, LOCKED_OUT, status_code=429)
    assert SESSION_KEY not in client.session


def test_admin_login_and_site_login_share_one_counter(superuser, password):
    fail(3, superuser.email, url_name="login")
    fail(2, " ROOT@School.Example ", url_name="admin:login")

    assert failures_recorded(superuser.email) == 5
    for url_name in ["login", "admin:login"]:
        response = log_in(Client(), superuser.email, password, url_name, REMOTE_ADDR=ATTACKER_IP)
        assert response.status_code == 429, url_name


# Success resets the count
# ------------------------------------------------------------------------------


def test_successful_sign_in_resets_the_count_of_failures(ada, password):
    fail(settings.AXES_FAILURE_LIMIT - 1, ada.email)

    assert signs_in(ada.email, password)
    assert failures_recorded(ada.email) == 0

    fail(settings.AXES_FAILURE_LIMIT - 1, ada.email)
    assert signs_in(ada.email, password)


# The client's IP address and X-Forwarded-For
# ------------------------------------------------------------------------------


def test_forged_x_forwarded_for_neither_dodges_nor_resets_the_count(ada, password):
    assert settings.TRUSTED_PROXY_COUNT == 0
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail(1, ada.email, headers={"x-forwarded-for": f"198.51.100.{n}"})

    assert not signs_in(ada.email, password, headers={"x-forwarded-for": "198.51.100.99"})
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER_IP}
    assert failures_recorded(ada.email) == settings.AXES_FAILURE_LIMIT


def test_behind_one_trusted_proxy_the_lock_follows_the_address_the_proxy_saw(
    ada, password, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.254"
    for n in range(settings.AXES_FAILURE_LIMIT):
        # The client forges the left part; the proxy appends the address it saw.
        fail(1, ada.email, ip=proxy, headers={"x-forwarded-for": f"192.0.2.{n}, 203.0.113.7"})

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    assert not signs_in(ada.email, password, ip=proxy, headers={"x-forwarded-for": "203.0.113.7"})
    assert signs_in(ada.email, password, ip=proxy, headers={"x-forwarded-for": "198.51.100.2"})


def test_changing_user_agent_neither_dodges_nor_resets_the_count(ada, password):
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail(1, ada.email, headers={"user-agent": f"Browser/{n}"})

    assert not signs_in(ada.email, password, headers={"user-agent": "Browser/99"})


@pytest.mark.parametrize(
    ("proxies", "x_forwarded_for", "client"),
    [
        (0, None, "10.0.0.1"),
        (0, "203.0.113.7", "10.0.0.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "192.0.2.66, 203.0.113.7", "203.0.113.7"),
        (1, "192.0.2.66,203.0.113.7", "203.0.113.7"),
        (2, "192.0.2.66, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "203.0.113.7, 10.0.0.9", "203.0.113.7"),
        # Fewer addresses than proxies: the header is not to be trusted.
        (2, "203.0.113.7", "10.0.0.1"),
        # No header at all: the request did not come through the proxies.
        (1, None, "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_client_ip_trusts_x_forwarded_for_only_as_far_as_the_trusted_proxies(
    settings, proxies, x_forwarded_for, client
):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {} if x_forwarded_for is None else {"x-forwarded-for": x_forwarded_for}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", headers=headers)

    assert client_ip(request) == client
