"""Password-reset and invitation emails are limited per address and per client IP."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db.models import F
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import EmailRequest, Staff
from accounts.tests.factories import StaffFactory
from accounts.tests.pages import main_content

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many emails were asked for. Please wait an hour and try again."
UNKNOWN_EMAIL = "nobody@school.example"
CLIENT_IP = "10.0.0.1"
OTHER_IP = "10.0.0.2"


@pytest.fixture
def invited(db):
    """A staff member invited by email, who has not chosen a password yet."""
    return Staff.objects.create_user("ivy@school.example", first_name="Ivy", last_name="Invited")


def ask_for_reset(email, ip=CLIENT_IP, **extra):
    return Client().post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip, **extra)


def age_email_requests(**duration):
    EmailRequest.objects.update(created_at=F("created_at") - timedelta(**duration))


# Password reset: per address
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["ada@school.example", UNKNOWN_EMAIL])
def test_reset_requests_beyond_the_per_address_limit_get_429(ada, email):
    limit = settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS
    assert limit == 3

    allowed = [ask_for_reset(email) for _ in range(limit)]
    refused = ask_for_reset(email)

    for response in allowed:
        assertRedirects(response, reverse("password_reset_done"))
    assertContains(refused, TOO_MANY, status_code=429)
    assertContains(refused, "<h1>Too many attempts</h1>", status_code=429, html=True)


def test_reset_request_beyond_the_per_address_limit_sends_no_email(ada, mailoutbox):
    for _ in range(settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS):
        ask_for_reset(ada.email)
    assert len(mailoutbox) == settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS

    ask_for_reset(ada.email)

    assert len(mailoutbox) == settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS


def test_reset_limit_answers_the_same_for_known_and_unknown_addresses(ada, mailoutbox):
    limit = settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS
    known = [ask_for_reset(ada.email).status_code for _ in range(limit)]
    unknown = [ask_for_reset(UNKNOWN_EMAIL).status_code for _ in range(limit)]

    known_refusal = ask_for_reset(ada.email)
    unknown_refusal = ask_for_reset(UNKNOWN_EMAIL)

    assert known == unknown == [302] * limit
    assert known_refusal.status_code == unknown_refusal.status_code == 429
    assert main_content(known_refusal) == main_content(unknown_refusal)
    assert [message.to for message in mailoutbox] == [[ada.email]] * limit


def test_reset_requests_are_recorded_in_the_database(ada):
    ask_for_reset(" ADA@School.example ", ip=CLIENT_IP)
    ask_for_reset(UNKNOWN_EMAIL, ip=OTHER_IP)

    assert set(EmailRequest.objects.values_list("kind", "email", "ip")) == {
        ("password reset", "ada@school.example", CLIENT_IP),
        ("password reset", UNKNOWN_EMAIL, OTHER_IP),
    }


def test_refused_reset_requests_are_not_recorded(ada):
    for _ in range(settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS + 2):
        ask_for_reset(ada.email)

    assert EmailRequest.objects.count() == settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS


def test_reset_limit_counts_an_address_in_any_case_with_spaces_together(ada, mailoutbox):
    for typed in [" ADA@School.example ", "ada@SCHOOL.EXAMPLE", "Ada@school.example"]:
        assertRedirects(ask_for_reset(typed), reverse("password_reset_done"))

    response = ask_for_reset("ada@school.example")

    assertContains(response, TOO_MANY, status_code=429)
    assert set(EmailRequest.objects.values_list("email", flat=True)) == {"ada@school.example"}
    assert len(mailoutbox) == 3


def test_reset_limit_counts_requests_from_every_ip_for_one_address(ada, mailoutbox):
    for n in range(settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS):
        ask_for_reset(ada.email, ip=f"10.0.1.{n}")

    response = ask_for_reset(ada.email, ip="10.0.1.99")

    assertContains(response, TOO_MANY, status_code=429)
    assert len(mailoutbox) == settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS


def test_reset_requests_still_count_within_the_hour(ada):
    for _ in range(settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS):
        ask_for_reset(ada.email)

    age_email_requests(minutes=59)

    assert ask_for_reset(ada.email).status_code == 429


def test_reset_requests_older_than_an_hour_stop_counting(ada, mailoutbox):
    for _ in range(settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS):
        ask_for_reset(ada.email)
    mailoutbox.clear()

    age_email_requests(hours=1, minutes=1)
    response = ask_for_reset(ada.email)

    assertRedirects(response, reverse("password_reset_done"))
    assert len(mailoutbox) == 1
    # Old requests are cleared away; the new one is recorded.
    assert EmailRequest.objects.count() == 1


# Password reset: per IP
# ------------------------------------------------------------------------------


def test_reset_requests_from_one_ip_for_many_addresses_are_limited(settings, mailoutbox):
    settings.EMAIL_REQUEST_LIMIT_PER_IP = 2
    staff = [StaffFactory(email=f"member{n}@school.example") for n in range(3)]

    allowed = [ask_for_reset(member.email, ip=CLIENT_IP) for member in staff[:2]]
    refused = ask_for_reset(staff[2].email, ip=CLIENT_IP)

    assert [response.status_code for response in allowed] == [302, 302]
    assertContains(refused, TOO_MANY, status_code=429)
    assert [message.to for message in mailoutbox] == [[staff[0].email], [staff[1].email]]


def test_reset_limit_per_ip_counts_unknown_addresses_too(settings, ada, mailoutbox):
    settings.EMAIL_REQUEST_LIMIT_PER_IP = 2
    ask_for_reset("first.unknown@school.example")
    ask_for_reset("second.unknown@school.example")

    response = ask_for_reset(ada.email)

    assert response.status_code == 429
    assert mailoutbox == []


def test_reset_limit_per_ip_leaves_other_ips_free(settings, ada, mailoutbox):
    settings.EMAIL_REQUEST_LIMIT_PER_IP = 2
    ask_for_reset("first.unknown@school.example", ip=CLIENT_IP)
    ask_for_reset("second.unknown@school.example", ip=CLIENT_IP)

    response = ask_for_reset(ada.email, ip=OTHER_IP)

    assertRedirects(response, reverse("password_reset_done"))
    assert len(mailoutbox) == 1


def test_reset_limit_per_ip_ignores_a_forged_x_forwarded_for(settings, ada, mailoutbox):
    settings.EMAIL_REQUEST_LIMIT_PER_IP = 2
    for n in range(2):
        ask_for_reset(f"unknown{n}@school.example", headers={"x-forwarded-for": f"192.0.2.{n}"})

    response = ask_for_reset(ada.email, headers={"x-forwarded-for": "192.0.2.99"})

    assert response.status_code == 429
    assert set(EmailRequest.objects.values_list("ip", flat=True)) == {CLIENT_IP}
    assert mailoutbox == []


# Password reset: no enumeration
# ------------------------------------------------------------------------------


def test_reset_says_the_same_for_known_and_unknown_emails(ada, mailoutbox):
    known = ask_for_reset(ada.email)
    unknown = ask_for_reset(UNKNOWN_EMAIL)

    assertRedirects(known, reverse("password_reset_done"))
    assertRedirects(unknown, reverse("password_reset_done"))
    client = Client()
    assert main_content(client.get(known.url)) == main_content(client.get(unknown.url))
    assert len(mailoutbox) == 1


# Password reset: the Host header
# ------------------------------------------------------------------------------


def test_reset_with_a_host_not_allowed_is_refused_with_400_and_sends_nothing(ada, mailoutbox):
    response = ask_for_reset(ada.email, HTTP_HOST="evil.example")

    assertContains(response, "Bad request", status_code=400)
    assertNotContains(response, "evil.example", status_code=400)
    assert mailoutbox == []
    assert not EmailRequest.objects.exists()


def test_reset_link_uses_the_allowed_host_of_the_request(settings, ada, mailoutbox):
    settings.ALLOWED_HOSTS = ["staff.school.example"]

    response = ask_for_reset(ada.email, HTTP_HOST="staff.school.example")

    assert response.status_code == 302
    assert re.search(
        r"^http://staff\.school\.example/accounts/reset/\S+/$", mailoutbox[0].body, re.M
    )


def test_reset_link_ignores_a_forged_x_forwarded_host(ada, mailoutbox):
    ask_for_reset(ada.email, headers={"x-forwarded-host": "evil.example"})

    assert "evil.example" not in mailoutbox[0].body
    assert "http://testserver/accounts/reset/" in mailoutbox[0].body


# Resending an invitation
# ------------------------------------------------------------------------------


@pytest.fixture
def resend(client_as, manager, django_capture_on_commit_callbacks):
    """Post the manager's "Resend invitation" button, sending the emails it queues."""

    def post(staff, ip=CLIENT_IP, **extra):
        client = client_as(manager)
        url = reverse("staff:resend_invitation", kwargs={"pk": staff.pk})
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, REMOTE_ADDR=ip, **extra)

    return post


def test_resending_an_invitation_beyond_the_per_address_limit_gets_429(invited, resend, mailoutbox):
    limit = settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS
    for _ in range(limit):
        assertRedirects(resend(invited), invited.get_absolute_url())
    assert [message.to for message in mailoutbox] == [[invited.email]] * limit

    response = resend(invited)

    assertContains(response, TOO_MANY, status_code=429)
    assert len(mailoutbox) == limit
    assert (
        list(EmailRequest.objects.values_list("kind", "email", "ip"))
        == [("invitation", invited.email, CLIENT_IP)] * limit
    )


def test_resent_invitations_older_than_an_hour_stop_counting(invited, resend, mailoutbox):
    for _ in range(settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS):
        resend(invited)
    mailoutbox.clear()

    age_email_requests(hours=1, minutes=1)
    response = resend(invited)

    assertRedirects(response, invited.get_absolute_url())
    assert len(mailoutbox) == 1


def test_resending_invitations_from_one_ip_to_many_addresses_is_limited(
    settings, resend, mailoutbox
):
    settings.EMAIL_REQUEST_LIMIT_PER_IP = 2
    members = [
        Staff.objects.create_user(f"new{n}@school.example", first_name="New", last_name=str(n))
        for n in range(3)
    ]

    statuses = [resend(member).status_code for member in members]

    assert statuses == [302, 302, 429]
    assert [message.to for message in mailoutbox] == [[members[0].email], [members[1].email]]
