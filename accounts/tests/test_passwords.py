"""The password rules on every form that sets a password, Argon2 hashing, and the forced change.

NIST SP 800-63B: at least 12 characters, any Unicode and spaces, never truncated, no
composition rules; common passwords and passwords like the person's email or names refused.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from unittest import mock

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Staff
from accounts.tests.factories import NEW_PASSWORD, PASSWORD, StaffFactory
from accounts.tests.pages import signed_in
from accounts.tokens import invitation_token_generator
from schoolstaff import settings as project_settings
from two_factor.tests.sessions import verify_client_session

pytestmark = pytest.mark.django_db

# Whose password every form sets: a role address, so that a password like the email
# is not also like the last name.
PERSON = {
    "email": "head.of.science@school.example",
    "first_name": "Ada",
    "last_name": "Featherstonehaugh",
}
ELEVEN_CHARACTERS = "quiet-ferns"
TWELVE_CHARACTERS = "quiet-ferns7"
LOWER_CASE_PASSPHRASE = "quiet ferns by the harbour"
SPACES_AT_BOTH_ENDS = "  quiet ferns by the harbour  "
# 128 characters, 181 bytes in UTF-8: far past bcrypt's 72-byte cut-off.
UNICODE_PASSPHRASE = (
    "Ünïcödé Wörter, 静かな港の灯り, мост над рекой, 🌊 and a long quiet walk by the sea "
    "in the évening light, ça va? ÆØÅ ñandú χαίρετε κόσμε"
)
UNICODE_PASSPHRASE_WITH_ANOTHER_LAST_CHARACTER = UNICODE_PASSPHRASE[:-1] + "α"
OWN_PASSWORD = "a passphrase of my very own"
FORCED_CHANGE_MESSAGE = "Your password was set by someone else. Please choose your own now."


def signed_in_through_the_login_page(email, password):
    client = Client()
    response = client.post(reverse("login"), {"username": email, "password": password})
    assertRedirects(response, reverse("home"), fetch_redirect_response=False)
    return client


def the_person(**extra):
    return StaffFactory(**PERSON, **extra)


def uidb64(staff):
    return urlsafe_base64_encode(force_bytes(staff.pk))


def opened_link(url_name, token_generator, staff):
    """Open an emailed link as its recipient would: the page moves the token into the session."""
    client = Client()
    response = client.get(
        reverse(
            url_name,
            kwargs={"uidb64": uidb64(staff), "token": token_generator.make_token(staff)},
        )
    )
    assert response.status_code == 302, "the link should lead on to its form"
    return client, response.url


# The forms that set a password
# ------------------------------------------------------------------------------
@dataclass
class PasswordForm:
    """A page that sets the person's password: how to reach it, and what it posts."""

    open: Callable[[SimpleNamespace], tuple[Client, str]]
    fields: Callable[[str], dict]


def new_staff_fields(password):
    return {**PERSON, "subject_group": "", "password1": password, "password2": password}


def two_password_fields(password):
    return {"password1": password, "password2": password}


def change_fields(password):
    return {"old_password": PASSWORD, "new_password1": password, "new_password2": password}


def new_password_fields(password):
    return {"new_password1": password, "new_password2": password}


PASSWORD_FORMS = {
    "site add form": PasswordForm(
        open=lambda people: (signed_in(people.manager), reverse("staff:create")),
        fields=new_staff_fields,
    ),
    "site set-password page": PasswordForm(
        open=lambda people: (
            signed_in(people.manager),
            reverse("staff:set_password", kwargs={"pk": the_person().pk}),
        ),
        fields=two_password_fields,
    ),
    "password change": PasswordForm(
        open=lambda people: (signed_in(the_person()), reverse("password_change")),
        fields=change_fields,
    ),
    "password reset link": PasswordForm(
        open=lambda people: opened_link(
            "password_reset_confirm", default_token_generator, the_person()
        ),
        fields=new_password_fields,
    ),
    "invitation link": PasswordForm(
        open=lambda people: opened_link(
            "invitation_accept", invitation_token_generator, the_person(password=None)
        ),
        fields=new_password_fields,
    ),
    "admin add form": PasswordForm(
        open=lambda people: (signed_in(people.superuser), reverse("admin:accounts_staff_add")),
        fields=new_staff_fields,
    ),
    "admin password page": PasswordForm(
        open=lambda people: (
            signed_in(people.superuser),
            reverse("admin:auth_user_password_change", args=[the_person().pk]),
        ),
        fields=two_password_fields,
    ),
    "admin own password change": PasswordForm(
        open=lambda people: (
            signed_in(the_person(is_staff=True)),
            reverse("admin:password_change"),
        ),
        fields=change_fields,
    ),
}
CREATESUPERUSER = "createsuperuser --noinput"
EVERY_WAY_TO_SET_A_PASSWORD = [*PASSWORD_FORMS, CREATESUPERUSER]


@dataclass
class Outcome:
    accepted: bool
    feedback: str  # The page shown after posting, or the command's error.


def set_password_through(way, password, people):
    """Set the person's password `way`, as someone using that page or command would."""
    if way == CREATESUPERUSER:
        environment = {
            "DJANGO_SUPERUSER_EMAIL": PERSON["email"],
            "DJANGO_SUPERUSER_FIRST_NAME": PERSON["first_name"],
            "DJANGO_SUPERUSER_LAST_NAME": PERSON["last_name"],
            "DJANGO_SUPERUSER_PASSWORD": password,
        }
        with mock.patch.dict(os.environ, environment):
            try:
                call_command("createsuperuser", "--noinput", verbosity=0)
            except CommandError as error:
                return Outcome(accepted=False, feedback=str(error))
        return Outcome(accepted=True, feedback="")
    form = PASSWORD_FORMS[way]
    client, url = form.open(people)
    response = client.post(url, form.fields(password))
    assert response.status_code in (200, 302), response.status_code
    return Outcome(accepted=response.status_code == 302, feedback=response.content.decode())


@pytest.fixture
def people(users_by_role):
    """Who sets other people's passwords: a manager on the site, a superuser in the admin."""
    return SimpleNamespace(**users_by_role)


@pytest.fixture
def project_hashers(settings):
    """The project's real hashers, Argon2 first, instead of the tests' fast MD5.

    Ask for it after the fixtures that make people, who need no slow hash.
    """
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS


# The same rules everywhere
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "message"),
    [
        pytest.param(
            ELEVEN_CHARACTERS,
            "This password is too short. It must contain at least 12 characters.",
            id="11-characters",
        ),
        pytest.param("password1234", "This password is too common.", id="common"),
        pytest.param(
            "head.of.science@school",
            "The password is too similar to the email.",
            id="similar-to-the-email",
        ),
        pytest.param(
            "featherstonehaugh",
            "The password is too similar to the last name.",
            id="similar-to-the-last-name",
        ),
    ],
)
@pytest.mark.parametrize("way", EVERY_WAY_TO_SET_A_PASSWORD)
def test_every_way_to_set_a_password_refuses_a_weak_one(
    people, can_sign_in, way, password, message
):
    outcome = set_password_through(way, password, people)

    assert not outcome.accepted
    assert message in outcome.feedback
    assert not can_sign_in(PERSON["email"], password)


@pytest.mark.parametrize(
    "password",
    [
        pytest.param(TWELVE_CHARACTERS, id="12-characters"),
        pytest.param(LOWER_CASE_PASSPHRASE, id="all-lower-case-no-composition-rules"),
        pytest.param(SPACES_AT_BOTH_ENDS, id="spaces-at-both-ends-kept"),
    ],
)
@pytest.mark.parametrize("way", EVERY_WAY_TO_SET_A_PASSWORD)
def test_every_way_to_set_a_password_accepts_a_long_enough_one(people, can_sign_in, way, password):
    outcome = set_password_through(way, password, people)

    assert outcome.accepted, outcome.feedback
    assert can_sign_in(PERSON["email"], password)


@pytest.mark.parametrize("way", EVERY_WAY_TO_SET_A_PASSWORD)
def test_every_way_to_set_a_password_keeps_all_128_characters_of_a_unicode_passphrase(
    people, can_sign_in, way
):
    assert len(UNICODE_PASSPHRASE) == 128

    outcome = set_password_through(way, UNICODE_PASSPHRASE, people)

    assert outcome.accepted, outcome.feedback
    assert can_sign_in(PERSON["email"], UNICODE_PASSPHRASE)
    assert not can_sign_in(PERSON["email"], UNICODE_PASSPHRASE_WITH_ANOTHER_LAST_CHARACTER)


def test_a_spaced_passphrase_does_not_sign_in_without_its_spaces(people, can_sign_in):
    set_password_through("password change", SPACES_AT_BOTH_ENDS, people)

    assert can_sign_in(PERSON["email"], SPACES_AT_BOTH_ENDS)
    assert not can_sign_in(PERSON["email"], SPACES_AT_BOTH_ENDS.strip())


OWN_PASSWORD_FORMS = {
    "password change",
    "admin own password change",
    "password reset link",
    "invitation link",
}


@pytest.mark.parametrize("way", PASSWORD_FORMS)
def test_every_password_form_states_the_minimum_length(people, way):
    client, url = PASSWORD_FORMS[way].open(people)

    response = client.get(url)

    # About someone else's password on a manager's forms, one's own on the others.
    own = way in OWN_PASSWORD_FORMS
    whose = "Your" if own else "The"
    assertContains(response, f"{whose} password must contain at least 12 characters.")
    assertNotContains(response, "entirely numeric")
    if not own:
        assertNotContains(response, "Your password")
        assertNotContains(response, "your other personal information")


# Argon2id
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("way", EVERY_WAY_TO_SET_A_PASSWORD)
def test_new_passwords_are_stored_with_argon2id(people, project_hashers, way):
    set_password_through(way, NEW_PASSWORD, people)

    person = Staff.objects.get(email=PERSON["email"])
    assert person.password.startswith("argon2$argon2id$")
    assert person.check_password(NEW_PASSWORD)


def test_argon2_keeps_every_character_of_a_long_unicode_passphrase(
    people, project_hashers, can_sign_in
):
    set_password_through("password change", UNICODE_PASSPHRASE, people)

    assert Staff.objects.get(email=PERSON["email"]).password.startswith("argon2$argon2id$")
    assert can_sign_in(PERSON["email"], UNICODE_PASSPHRASE)
    assert not can_sign_in(PERSON["email"], UNICODE_PASSPHRASE_WITH_ANOTHER_LAST_CHARACTER)


def test_a_pbkdf2_hash_is_upgraded_to_argon2id_at_sign_in(plain_staff, password, project_hashers):
    Staff.objects.filter(pk=plain_staff.pk).update(
        password=make_password(password, hasher="pbkdf2_sha256")
    )

    signed_in_through_the_login_page(plain_staff.email, password)

    plain_staff.refresh_from_db()
    assert plain_staff.password.startswith("argon2$argon2id$")
    assert plain_staff.check_password(password)
    assert not plain_staff.must_change_password


# A password someone else chose must be changed by its owner
# ------------------------------------------------------------------------------
SET_BY_SOMEONE_ELSE = [
    "site add form",
    "site set-password page",
    "admin add form",
    "admin password page",
]
PAGES = ["home", "staff:list", "subjects:list", "admin:index"]


@pytest.mark.parametrize("url_name", PAGES)
@pytest.mark.parametrize("way", SET_BY_SOMEONE_ELSE)
def test_a_password_set_by_someone_else_leads_every_page_to_the_password_change_form(
    people, way, url_name
):
    assert set_password_through(way, NEW_PASSWORD, people).accepted
    client = signed_in_through_the_login_page(PERSON["email"], NEW_PASSWORD)

    response = client.get(reverse(url_name), follow=True)

    assert response.redirect_chain == [(reverse("password_change"), 302)]
    assertContains(response, FORCED_CHANGE_MESSAGE)
    assertContains(response, 'name="new_password1"')
    assert Staff.objects.get(email=PERSON["email"]).must_change_password


@pytest.mark.parametrize("way", SET_BY_SOMEONE_ELSE)
def test_after_changing_the_password_set_by_someone_else_every_page_works(people, can_sign_in, way):
    set_password_through(way, NEW_PASSWORD, people)
    client = signed_in_through_the_login_page(PERSON["email"], NEW_PASSWORD)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": NEW_PASSWORD,
            "new_password1": OWN_PASSWORD,
            "new_password2": OWN_PASSWORD,
        },
    )

    assertRedirects(response, reverse("password_change_done"))
    for url_name in ["home", "staff:list", "subjects:list"]:
        page = client.get(reverse(url_name))
        assert page.status_code == 200, url_name
        assert FORCED_CHANGE_MESSAGE not in page.content.decode()
    assert not Staff.objects.get(email=PERSON["email"]).must_change_password
    assert can_sign_in(PERSON["email"], OWN_PASSWORD)


def test_a_forced_member_can_still_log_out(people):
    set_password_through("site set-password page", NEW_PASSWORD, people)
    client = signed_in_through_the_login_page(PERSON["email"], NEW_PASSWORD)

    response = client.post(reverse("logout"))

    assertRedirects(response, reverse("login"))
    home = client.get(reverse("home"))
    assertRedirects(home, f"{reverse('login')}?next={reverse('home')}")


def test_a_password_the_owner_chose_leads_nowhere_else(people):
    set_password_through("password change", OWN_PASSWORD, people)
    client = signed_in_through_the_login_page(PERSON["email"], OWN_PASSWORD)

    response = client.get(reverse("staff:list"))

    assert response.status_code == 200
    assert not Staff.objects.get(email=PERSON["email"]).must_change_password


@pytest.mark.parametrize("method", ["get", "post"])
def test_nobody_sets_their_own_password_over_the_current_one_on_the_site(
    client_as, manager, password, method
):
    client = client_as(manager)

    response = getattr(client, method)(
        reverse("staff:set_password", kwargs={"pk": manager.pk}),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assertRedirects(response, reverse("password_change"))
    manager.refresh_from_db()
    assert manager.check_password(password)


@pytest.mark.parametrize("method", ["get", "post"])
def test_nobody_sets_their_own_password_over_the_current_one_in_the_admin(
    client_as, superuser, password, method
):
    client = client_as(superuser)

    response = getattr(client, method)(
        reverse("admin:auth_user_password_change", args=[superuser.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assertRedirects(response, reverse("admin:password_change"))
    superuser.refresh_from_db()
    assert superuser.check_password(password)


def test_the_admins_change_password_page_also_leads_a_forced_member_to_the_password_change_form(
    people,
):
    set_password_through("admin add form", NEW_PASSWORD, people)
    Staff.objects.filter(email=PERSON["email"]).update(is_staff=True)
    client = signed_in_through_the_login_page(PERSON["email"], NEW_PASSWORD)
    verify_client_session(client, Staff.objects.get(email=PERSON["email"]))  # The second step.

    response = client.get(reverse("admin:password_change"), follow=True)

    # The admin's own form would leave the obligation in place after the change.
    assert response.redirect_chain == [(reverse("password_change"), 302)]
    assertContains(response, FORCED_CHANGE_MESSAGE)
