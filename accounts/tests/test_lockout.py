"""Repeated failed sign-ins lock an email for one client IP, for a while (django-axes), and
many from any number of IPs lock the account until its password is reset."""

import json
import logging
from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Staff
from accounts.tests.factories import NEW_PASSWORD, StaffFactory, edit_data
from accounts.tests.pages import main_content, signed_in
from audit.actors import client_ip
from audit.models import AuditEvent

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


def test_unlock_staff_command_says_record_for_one(ada):
    fail(settings.AXES_FAILURE_LIMIT, ada.email, ip=ATTACKER_IP)

    output = unlock_staff(ada.email)

    assert output == "Unlocked ada@school.example: cleared 1 record of failed sign-ins.\n"


def test_unlock_staff_command_unlocks_the_email_from_every_ip_and_says_so(ada, password):
    fail(settings.AXES_FAILURE_LIMIT, ada.email, ip=ATTACKER_IP)
    fail(settings.AXES_FAILURE_LIMIT, ada.email, ip=OTHER_IP)

    output = unlock_staff(" ADA@School.example ")

    assert output == "Unlocked ada@school.example: cleared 2 records of failed sign-ins.\n"
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


def test_the_admin_login_checks_no_password_so_guesses_there_count_nothing(superuser, password):
    # It leads to the site's login page, which counts failures (two_factor's tests).
    fail(settings.AXES_FAILURE_LIMIT, superuser.email, url_name="admin:login")

    assert failures_recorded(superuser.email) == 0
    assert log_in(Client(), superuser.email, password, REMOTE_ADDR=ATTACKER_IP).status_code == 302


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


# The account's ceiling: failures from every address together
# ------------------------------------------------------------------------------
PROXY = "10.0.0.254"
ACCOUNT_LOCKED = "choose a new password"


@pytest.fixture
def behind_a_proxy(settings):
    """One trusted proxy in front: the client's address is the last in X-Forwarded-For."""
    settings.TRUSTED_PROXY_COUNT = 1


def address(n):
    return f"203.0.113.{n}"


def guess_from_many_addresses(times, email, per_address=4, first_address=0):
    """Guess wrong `times` times, from a new address every `per_address`; return the statuses."""
    return [
        log_in(
            Client(),
            email,
            WRONG_PASSWORD,
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=address(first_address + n // per_address),
        ).status_code
        for n in range(times)
    ]


def signs_in_from(n, email, password):
    return signs_in(email, password, ip=PROXY, HTTP_X_FORWARDED_FOR=address(n))


def test_a_hundred_guesses_from_25_addresses_lock_the_account_even_for_the_right_password(
    ada, password, behind_a_proxy
):
    limit = settings.LOGIN_ACCOUNT_FAILURE_LIMIT

    statuses = guess_from_many_addresses(100, ada.email, per_address=4)

    assert statuses == [200] * (limit - 1) + [429] * (100 - limit + 1)
    assert not signs_in_from(200, ada.email, password)
    # No address reached the lockout per address: only the account's ceiling stopped them.
    assert max(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 4


def test_a_locked_account_is_refused_before_its_password_is_checked(
    ada, password, behind_a_proxy, monkeypatch
):
    guess_from_many_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT, ada.email)
    checked = []
    monkeypatch.setattr(Staff, "check_password", lambda staff, raw: checked.append(raw))

    assert not signs_in_from(200, ada.email, password)
    assert checked == []


def test_the_account_lock_page_says_a_new_password_unlocks_it(ada, behind_a_proxy):
    guess_from_many_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT, ada.email)

    response = log_in(
        Client(), ada.email, WRONG_PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address(200)
    )

    assertContains(response, "<h1>Too many attempts</h1>", status_code=429, html=True)
    assertContains(response, ACCOUNT_LOCKED, status_code=429)
    assertContains(response, reverse("password_reset"), status_code=429)


def test_the_account_lock_page_is_the_same_for_an_unknown_email(ada, behind_a_proxy):
    unknown = "nobody@school.example"
    guess_from_many_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT, ada.email)
    guess_from_many_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT, unknown)

    pages = [
        log_in(
            Client(), email, WRONG_PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address(200)
        )
        for email in [ada.email, unknown]
    ]

    assert [page.status_code for page in pages] == [429, 429]
    assert main_content(pages[0]) == main_content(pages[1])


def test_failures_for_one_account_do_not_lock_another(ada, password, behind_a_proxy):
    grace = StaffFactory(email="grace@school.example")
    guess_from_many_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT, ada.email)

    assert signs_in_from(200, grace.email, password)


def test_failures_older_than_the_window_stop_counting_toward_the_ceiling(
    ada, password, behind_a_proxy, clock
):
    limit = settings.LOGIN_ACCOUNT_FAILURE_LIMIT
    guess_from_many_addresses(limit - 1, ada.email)

    clock.advance(hours=24, minutes=1)
    statuses = guess_from_many_addresses(limit - 1, ada.email, first_address=100)

    assert statuses == [200] * (limit - 1)
    assert signs_in_from(200, ada.email, password)


def test_the_account_lock_does_not_wear_off(ada, password, behind_a_proxy, clock):
    guess_from_many_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT, ada.email)

    clock.advance(days=3)

    assert not signs_in_from(200, ada.email, password)


def test_signing_in_gives_a_guesser_no_fresh_allowance(ada, password, behind_a_proxy):
    guess_from_many_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT - 1, ada.email)
    assert signs_in_from(200, ada.email, password)

    assert guess_from_many_addresses(1, ada.email, first_address=201) == [429]


def reset_password_through_the_link(staff, new_password):
    client = Client()
    link = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(staff.pk)),
            "token": default_token_generator.make_token(staff),
        },
    )
    form_page = client.get(link)
    return client.post(
        form_page.url, {"new_password1": new_password, "new_password2": new_password}
    )


def test_resetting_the_password_through_the_emailed_link_unlocks_the_account(ada, behind_a_proxy):
    guess_from_many_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT, ada.email)

    response = reset_password_through_the_link(ada, NEW_PASSWORD)

    assertRedirects(response, reverse("password_reset_complete"))
    assert signs_in_from(200, ada.email, NEW_PASSWORD)
    # A fresh allowance, from nothing.
    assert not AccessFailureLog.objects.filter(username=ada.email).exists()


def test_unlock_staff_command_unlocks_the_account_too_and_says_so(ada, password, behind_a_proxy):
    guess_from_many_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT, ada.email)

    output = unlock_staff(" ADA@School.example ")

    assert output.startswith("Unlocked ada@school.example: cleared ")
    assert output.endswith(", and the account's lock after failures from all addresses.\n")
    assert signs_in_from(200, ada.email, password)


def test_the_owner_is_emailed_once_when_the_account_is_locked(
    ada, behind_a_proxy, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        guess_from_many_addresses(100, ada.email)

    assert [(message.to, message.subject) for message in mailoutbox] == [
        ([ada.email], "Your schoolstaff account was locked until you choose a new password")
    ]
    body = mailoutbox[0].body
    assert f"{settings.LOGIN_ACCOUNT_FAILURE_LIMIT} times within 24 hours" in body
    assert '"Forgotten your password?"' in body
    assert WRONG_PASSWORD not in body


# One's current password is guessed no more freely than at sign-in
# ------------------------------------------------------------------------------
CHANGE_PASSWORD_PAGES = ["password_change", "admin:password_change"]


def change_own_password(client, old_password, url_name="password_change", **extra):
    data = {
        "old_password": old_password,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    return client.post(reverse(url_name), data, **extra)


@pytest.mark.parametrize("url_name", CHANGE_PASSWORD_PAGES)
def test_wrong_current_passwords_on_the_password_change_page_lock_out_like_sign_ins(
    superuser, password, url_name
):
    client = signed_in(superuser)

    statuses = [
        change_own_password(client, WRONG_PASSWORD, url_name, REMOTE_ADDR=ATTACKER_IP).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    response = change_own_password(client, password, url_name, REMOTE_ADDR=ATTACKER_IP)

    assert statuses == [200, 200, 200, 200, 429]
    assertContains(response, LOCKED_OUT, status_code=429)
    superuser.refresh_from_db()
    assert superuser.check_password(password)
    # Each attempt in the audit trail, and one counter with the login page.
    failed = AuditEvent.objects.filter(kind="login_failed", email_typed=superuser.email)
    assert failed.count() == settings.AXES_FAILURE_LIMIT + 1
    assert failures_recorded(superuser.email) == settings.AXES_FAILURE_LIMIT
    assert not signs_in(superuser.email, password)


@pytest.mark.parametrize("url_name", CHANGE_PASSWORD_PAGES)
def test_the_password_change_page_still_takes_the_right_current_password(
    superuser, password, url_name
):
    response = change_own_password(signed_in(superuser), password, url_name)

    assert response.status_code == 302
    superuser.refresh_from_db()
    assert superuser.check_password(NEW_PASSWORD)
    assert not AccessAttempt.objects.exists()


def test_wrong_current_passwords_count_toward_the_accounts_ceiling(ada, password, behind_a_proxy):
    guess_from_many_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT - 1, ada.email)

    response = change_own_password(
        signed_in(ada), WRONG_PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address(200)
    )

    assertContains(response, ACCOUNT_LOCKED, status_code=429)
    assert not signs_in_from(201, ada.email, password)


def change_own_email(client, staff, current_password):
    return client.post(
        reverse("staff:update", kwargs={"pk": staff.pk}),
        edit_data(staff, email="taken-over@school.example", current_password=current_password),
        REMOTE_ADDR=ATTACKER_IP,
    )


def test_wrong_current_passwords_on_the_own_email_change_lock_out_like_sign_ins(manager, password):
    client = signed_in(manager)

    statuses = [
        change_own_email(client, manager, WRONG_PASSWORD).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    response = change_own_email(client, manager, password)

    assert statuses == [200, 200, 200, 200, 429]
    assertContains(response, LOCKED_OUT, status_code=429)
    manager.refresh_from_db()
    assert manager.email == "manager@school.example"
    assert failures_recorded(manager.email) == settings.AXES_FAILURE_LIMIT


def test_a_blank_current_password_is_no_guess(manager):
    client = signed_in(manager)

    statuses = [
        change_own_email(client, manager, "").status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]

    assert statuses == [200] * settings.AXES_FAILURE_LIMIT
    assert not AccessAttempt.objects.exists()


def test_no_password_typed_into_the_change_forms_is_kept(ada, manager):
    own_email_guess = "tulip meadow whisper"
    change_own_password(signed_in(ada), WRONG_PASSWORD)
    change_own_email(signed_in(manager), manager, own_email_guess)

    kept = stored_records()
    assert AccessAttempt.objects.count() == 2
    for typed in [WRONG_PASSWORD, NEW_PASSWORD, own_email_guess]:
        assert typed not in kept


# Nothing typed into the email box is kept unless it may be an address
# ------------------------------------------------------------------------------
NOT_AN_ADDRESS = "(not an email address)"


def stored_records():
    """Everything that axes and the audit trail keep, as one text."""
    rows = [
        *AccessAttempt.objects.values(),
        *AccessFailureLog.objects.values(),
        *AuditEvent.objects.values(),
    ]
    return json.dumps(rows, default=str, ensure_ascii=False)


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("correct-horse-battery-staple", id="no @"),
        pytest.param("my secret@pass phrase", id="spaces"),
        pytest.param("p@ss\tword", id="tab"),
        pytest.param("a" * 250 + "@school.example", id="over 254 characters"),
    ],
)
def test_what_cannot_be_an_email_address_is_kept_nowhere(
    db, typed, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        response = log_in(Client(), typed, WRONG_PASSWORD, REMOTE_ADDR=ATTACKER_IP)

    assert response.status_code == 200
    assert AuditEvent.objects.get(kind="login_failed").email_typed == NOT_AN_ADDRESS
    assert AccessAttempt.objects.get().username == NOT_AN_ADDRESS
    assert AccessFailureLog.objects.get().username == NOT_AN_ADDRESS
    assert typed not in stored_records()
    assert typed not in caplog.text
    assert f"email='{NOT_AN_ADDRESS}'" in caplog.text


def test_an_address_that_lower_case_lengthens_past_254_characters_is_not_kept_by_axes(db):
    typed = "İ" * 130 + "@school.example"
    assert len(typed) <= 254 < len(typed.lower())

    log_in(Client(), typed, WRONG_PASSWORD, REMOTE_ADDR=ATTACKER_IP)

    assert AccessAttempt.objects.get().username == NOT_AN_ADDRESS


def test_repeated_non_addresses_from_one_ip_are_locked_out_all_the_same(db):
    statuses = [
        log_in(Client(), f"my password {n}", WRONG_PASSWORD, REMOTE_ADDR=ATTACKER_IP).status_code
        for n in range(settings.AXES_FAILURE_LIMIT)
    ]

    assert statuses == [200, 200, 200, 200, 429]
    lockout = AuditEvent.objects.get(kind="locked_out")
    assert lockout.email_typed == NOT_AN_ADDRESS
    assert "my password" not in stored_records()


def test_non_addresses_from_every_ip_lock_no_account(db, behind_a_proxy):
    statuses = guess_from_many_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT + 1, "not-an-address")

    assert set(statuses) == {200}
