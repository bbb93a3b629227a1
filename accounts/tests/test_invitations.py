"""Invitations: nobody but the new member ever knows their password."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Staff
from accounts.tests.factories import StaffFactory
from accounts.tokens import invitation_token_generator

pytestmark = pytest.mark.django_db

ADA = {"email": "ada@school.example", "first_name": "Ada", "last_name": "Lovelace"}
CHOSEN_PASSWORD = "analytical engine notes"
TYPED_PASSWORD = "Violet-Harbour-2231"
LINK_NO_LONGER_WORKS = "This invitation no longer works"
INVITED_BADGE = '<span class="badge text-bg-info">Invited</span>'
INVITED_STATUS = "has not set a password yet"


def new_staff_data(**overrides):
    return {**ADA, "subject_group": "", "password1": "", "password2": "", **overrides}


def invitation_link(message):
    """The path of the invitation link in an email, checked to be one."""
    match = re.search(r"http://testserver(/\S+)", message.body)
    assert match, message.body
    assert resolve(match.group(1)).url_name == "invitation_accept"
    return match.group(1)


def invited_pk(link):
    return int(urlsafe_base64_decode(resolve(link).kwargs["uidb64"]))


def accept(link, password=CHOSEN_PASSWORD, client=None):
    """Open the invitation link and choose a password, as the new member would."""
    client = client or Client()
    form_page = client.get(link)
    assert form_page.status_code == 302, "a working link leads on to its form"
    response = client.post(
        form_page.url, {"new_password1": password, "new_password2": password}, follow=True
    )
    return client, response


def link_for(staff, token):
    return reverse(
        "invitation_accept",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(staff.pk)), "token": token},
    )


@pytest.fixture
def invite(client_as, manager, mailoutbox, django_capture_on_commit_callbacks):
    """Add Ada with both password fields blank, as a manager; return Ada and her email."""

    def add_with_blank_passwords(**overrides):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_as(manager).post(reverse("staff:create"), new_staff_data(**overrides))
        staff = Staff.objects.get(email=ADA["email"])
        assertRedirects(response, reverse("staff:detail", kwargs={"pk": staff.pk}))
        assert len(mailoutbox) == 1
        return staff, mailoutbox[0]

    return add_with_blank_passwords


@pytest.fixture
def invited(db):
    """Ada, added without a password, as an invitation leaves her."""
    return StaffFactory(**ADA, password=None)


def resend(client, staff):
    return client.post(reverse("staff:resend_invitation", kwargs={"pk": staff.pk}), follow=True)


# Adding with blank passwords invites
# ------------------------------------------------------------------------------
def test_staff_member_added_with_blank_passwords_is_invited_by_email(
    client_as, manager, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(manager).post(reverse("staff:create"), new_staff_data(), follow=True)

    ada = Staff.objects.get(email=ADA["email"])
    assertRedirects(response, reverse("staff:detail", kwargs={"pk": ada.pk}))
    assertContains(response, "Staff member Ada Lovelace created.")
    assertContains(response, "An invitation was emailed to ada@school.example.")
    assert not ada.has_usable_password()
    assert ada.is_invited
    assert not ada.must_change_password
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [ADA["email"]]
    assert mailoutbox[0].subject == "You are invited to schoolstaff"
    assert invited_pk(invitation_link(mailoutbox[0])) == ada.pk


def test_invitation_email_holds_no_password(invite):
    ada, message = invite()

    assert not ada.has_usable_password()
    assert not any(ada.check_password(word) for word in message.body.split())
    assert "password:" not in message.body.lower()


def test_a_password_typed_on_the_add_form_sends_no_invitation(
    client_as, manager, mailoutbox, django_capture_on_commit_callbacks, can_sign_in
):
    data = new_staff_data(password1=TYPED_PASSWORD, password2=TYPED_PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(manager).post(reverse("staff:create"), data, follow=True)

    ada = Staff.objects.get(email=ADA["email"])
    assertNotContains(response, "An invitation was emailed")
    assert mailoutbox == []
    assert not ada.is_invited
    assert ada.must_change_password
    assert can_sign_in(ADA["email"], TYPED_PASSWORD)


@pytest.mark.parametrize("filled", ["password1", "password2"])
def test_only_one_password_field_filled_is_a_form_error(
    client_as, manager, mailoutbox, django_capture_on_commit_callbacks, filled
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(manager).post(
            reverse("staff:create"), new_staff_data(**{filled: TYPED_PASSWORD})
        )

    assertContains(response, "Type the password twice, or leave both blank.")
    assert "password2" in response.context["form"].errors
    assert not Staff.objects.filter(email=ADA["email"]).exists()
    assert mailoutbox == []


def test_admin_add_form_with_blank_passwords_sends_an_invitation(
    client_as, superuser, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(superuser).post(
            reverse("admin:accounts_staff_add"), {**new_staff_data(), "_save": "Save"}
        )

    ada = Staff.objects.get(email=ADA["email"])
    assert response.status_code == 302
    assert ada.is_invited
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [ADA["email"]]
    link = invitation_link(mailoutbox[0])
    assert invited_pk(link) == ada.pk
    client, _ = accept(link)
    assert int(client.session[SESSION_KEY]) == ada.pk


# Accepting
# ------------------------------------------------------------------------------
def test_invitation_link_lets_the_member_choose_a_password_and_signs_them_in(invite, can_sign_in):
    ada, message = invite()

    client, response = accept(invitation_link(message))

    assertRedirects(response, reverse("home"))
    assertContains(response, "Welcome! Your password is set and you are signed in.")
    assertContains(response, ADA["email"])
    assert int(client.session[SESSION_KEY]) == ada.pk
    ada.refresh_from_db()
    assert ada.check_password(CHOSEN_PASSWORD)
    assert not ada.is_invited
    assert not ada.must_change_password
    assert can_sign_in(ADA["email"], CHOSEN_PASSWORD)


def test_choosing_a_first_password_sends_no_password_changed_email(
    invite, mailoutbox, django_capture_on_commit_callbacks
):
    ada, message = invite()

    with django_capture_on_commit_callbacks(execute=True):
        accept(invitation_link(message))

    assert [sent.subject for sent in mailoutbox] == [message.subject]


def test_invitation_link_opens_a_form_to_choose_a_password(invite):
    _, message = invite()

    response = Client().get(invitation_link(message), follow=True)

    assertContains(response, "Welcome to schoolstaff")
    assertContains(response, 'name="new_password1"')
    assertContains(response, 'name="new_password2"')


def test_member_is_no_longer_shown_as_invited_after_setting_a_password(invite, client_as, manager):
    ada, message = invite()
    accept(invitation_link(message))
    client = client_as(manager)

    detail = client.get(reverse("staff:detail", kwargs={"pk": ada.pk}))
    staff_list = client.get(reverse("staff:list"))

    assertContains(detail, "Active")
    assertNotContains(detail, "Invited")
    assertNotContains(detail, "Resend invitation")
    assertContains(staff_list, ADA["email"])
    assertNotContains(staff_list, INVITED_BADGE, html=True)


def test_invitation_link_works_only_once(invite):
    ada, message = invite()
    link = invitation_link(message)
    accept(link)

    response = Client().get(link, follow=True)

    assertContains(response, LINK_NO_LONGER_WORKS)
    assertNotContains(response, 'name="new_password1"')


def test_a_used_invitation_link_cannot_set_another_password(invite):
    ada, message = invite()
    link = invitation_link(message)
    accept(link)

    response = Client().post(
        link, {"new_password1": "someone else's choice", "new_password2": "someone else's choice"}
    )

    assertContains(response, LINK_NO_LONGER_WORKS)
    ada.refresh_from_db()
    assert ada.check_password(CHOSEN_PASSWORD)


# Expiry
# ------------------------------------------------------------------------------
@pytest.fixture
def time_passes(monkeypatch):
    """Move the invitation tokens' clock forward by the given time."""

    def travel(elapsed):
        later = datetime.now() + elapsed
        monkeypatch.setattr(invitation_token_generator, "_now", lambda: later)

    return travel


def test_invitation_link_still_works_just_under_seven_days_later(invite, time_passes):
    ada, message = invite()
    time_passes(timedelta(days=7) - timedelta(minutes=1))

    client, response = accept(invitation_link(message))

    assertRedirects(response, reverse("home"))
    ada.refresh_from_db()
    assert ada.check_password(CHOSEN_PASSWORD)


def test_invitation_link_expires_just_over_seven_days_later(invite, time_passes):
    ada, message = invite()
    time_passes(timedelta(days=7) + timedelta(minutes=1))

    response = Client().get(invitation_link(message), follow=True)

    assertContains(response, LINK_NO_LONGER_WORKS)
    ada.refresh_from_db()
    assert ada.is_invited


def test_invitation_email_says_how_long_the_link_works(invite):
    _, message = invite()

    assert "it works once, for 7 days" in message.body


@pytest.mark.parametrize(
    ("elapsed", "works"),
    [
        pytest.param(timedelta(minutes=59), True, id="59-minutes"),
        pytest.param(timedelta(minutes=61), False, id="61-minutes"),
    ],
)
def test_invitation_lifetime_follows_the_invitation_timeout_setting(
    invite, time_passes, settings, elapsed, works
):
    settings.INVITATION_TIMEOUT = 3600
    ada, message = invite()
    time_passes(elapsed)

    response = Client().get(invitation_link(message), follow=True)

    assert (LINK_NO_LONGER_WORKS not in response.content.decode()) is works
    assert ("new_password1" in response.content.decode()) is works


# Links that were never valid
# ------------------------------------------------------------------------------
def tampered(token):
    return token[:-1] + ("a" if token[-1] != "a" else "b")


@pytest.mark.parametrize(
    "make_link",
    [
        pytest.param(
            lambda ada, bob: link_for(bob, invitation_token_generator.make_token(ada)),
            id="another-members-uid",
        ),
        pytest.param(
            lambda ada, bob: link_for(ada, tampered(invitation_token_generator.make_token(ada))),
            id="tampered-token",
        ),
        pytest.param(
            lambda ada, bob: link_for(ada, default_token_generator.make_token(ada)),
            id="password-reset-token",
        ),
        pytest.param(lambda ada, bob: link_for(ada, "not-a-token"), id="garbage-token"),
    ],
)
def test_a_forged_invitation_link_fails_and_sets_nothing(invited, make_link):
    bob = StaffFactory(email="bob@school.example", password=None)
    link = make_link(invited, bob)
    client = Client()

    page = client.get(link, follow=True)
    posted = client.post(link, {"new_password1": CHOSEN_PASSWORD, "new_password2": CHOSEN_PASSWORD})

    assertContains(page, LINK_NO_LONGER_WORKS)
    assertContains(posted, LINK_NO_LONGER_WORKS)
    assert SESSION_KEY not in client.session
    for staff in (invited, bob):
        staff.refresh_from_db()
        assert staff.is_invited


# Shown as invited
# ------------------------------------------------------------------------------
def test_staff_list_marks_only_the_invited_member_as_invited(client_as, plain_staff, invited):
    response = client_as(plain_staff).get(reverse("staff:list"))

    assertContains(response, INVITED_BADGE, count=1, html=True)
    row = re.search(r"ada@school\.example.{0,80}", response.content.decode(), re.S).group(0)
    assert "Invited" in row


def test_detail_page_says_invited(client_as, plain_staff, invited):
    response = client_as(plain_staff).get(reverse("staff:detail", kwargs={"pk": invited.pk}))

    assertContains(response, INVITED_BADGE, html=True)
    assertContains(response, INVITED_STATUS)


def test_detail_page_of_someone_with_a_password_does_not_say_invited(
    client_as, manager, plain_staff
):
    response = client_as(manager).get(reverse("staff:detail", kwargs={"pk": plain_staff.pk}))

    assertNotContains(response, "Invited")
    assertNotContains(response, "Resend invitation")


# Resending
# ------------------------------------------------------------------------------
def test_managers_see_resend_invitation_for_an_invited_member(client_as, manager, invited):
    response = client_as(manager).get(reverse("staff:detail", kwargs={"pk": invited.pk}))

    assertContains(response, "Resend invitation")
    assertContains(
        response, f'action="{reverse("staff:resend_invitation", kwargs={"pk": invited.pk})}"'
    )


def test_plain_staff_do_not_see_resend_invitation(client_as, plain_staff, invited):
    response = client_as(plain_staff).get(reverse("staff:detail", kwargs={"pk": invited.pk}))

    assertNotContains(response, "Resend invitation")


def test_resend_invitation_sends_a_new_email_with_a_working_link(
    client_as, manager, invited, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = resend(client_as(manager), invited)

    assertRedirects(response, reverse("staff:detail", kwargs={"pk": invited.pk}))
    assertContains(response, "Invitation sent again to ada@school.example.")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [ADA["email"]]
    link = invitation_link(mailoutbox[0])
    assert invited_pk(link) == invited.pk
    _, accepted = accept(link)
    assertRedirects(accepted, reverse("home"))
    invited.refresh_from_db()
    assert invited.check_password(CHOSEN_PASSWORD)


def test_resend_invitation_by_get_is_refused_with_405(
    client_as, manager, invited, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(manager).get(
            reverse("staff:resend_invitation", kwargs={"pk": invited.pk})
        )

    assert response.status_code == 405
    assert mailoutbox == []


def test_plain_staff_cannot_resend_an_invitation(
    client_as, plain_staff, invited, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(plain_staff).post(
            reverse("staff:resend_invitation", kwargs={"pk": invited.pk})
        )

    assert response.status_code == 403
    assert mailoutbox == []


def test_resend_for_someone_with_a_password_says_so_and_sends_nothing(
    client_as, manager, plain_staff, password, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = resend(client_as(manager), plain_staff)

    assertRedirects(response, reverse("staff:detail", kwargs={"pk": plain_staff.pk}))
    assertContains(response, "Pat Plain has already set a password.")
    assertNotContains(response, "Invitation sent again")
    assert mailoutbox == []
    plain_staff.refresh_from_db()
    assert plain_staff.check_password(password)
