import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.tests.factories import NEW_PASSWORD, StaffFactory

INVALID_LOGIN = "Invalid email or password."

pytestmark = pytest.mark.django_db


def log_in(client, email, password, **extra):
    return client.post(reverse("login"), {"username": email, "password": password, **extra})


def signed_in_pk(client):
    """Return the pk of the staff member signed in on this client, or None."""
    pk = client.session.get(SESSION_KEY)
    return int(pk) if pk is not None else None


def assert_signed_out(client):
    """A page that needs sign-in sends this client to the login page."""
    response = client.get(reverse("home"))
    assertRedirects(response, f"{reverse('login')}?next={reverse('home')}")


# Logging in
# ------------------------------------------------------------------------------


def test_login_email_field_is_an_email_input(client):
    response = client.get(reverse("login"))

    field = re.search(r'<input[^>]*name="username"[^>]*>', response.content.decode()).group(0)
    assert 'type="email"' in field
    assert 'autocomplete="email"' in field


def test_login_page_labels_the_username_field_email(client):
    response = client.get(reverse("login"))

    assertContains(response, 'name="username"')
    assertContains(response, 'name="password"')
    assert response.context["form"].fields["username"].label == "Email"


def test_email_in_another_case_with_surrounding_spaces_signs_in(client, plain_staff, password):
    response = log_in(client, "  PLAIN@School.Example ", password)

    assertRedirects(response, reverse("home"))
    assert signed_in_pk(client) == plain_staff.pk


def test_wrong_password_says_invalid_email_or_password(client, plain_staff):
    response = log_in(client, plain_staff.email, "not-the-password")

    assert response.status_code == 200
    assertContains(response, INVALID_LOGIN)
    assert signed_in_pk(client) is None


def test_unknown_email_says_invalid_email_or_password(client, plain_staff, password):
    response = log_in(client, "nobody@school.example", password)

    assert response.status_code == 200
    assertContains(response, INVALID_LOGIN)
    assert signed_in_pk(client) is None


def test_inactive_account_is_refused_with_the_same_message(client, password):
    inactive = StaffFactory(email="gone@school.example", is_active=False)

    response = log_in(client, inactive.email, password)

    assert response.status_code == 200
    assertContains(response, INVALID_LOGIN)
    assertNotContains(response, "inactive")
    assert signed_in_pk(client) is None


def test_session_key_changes_on_login(client, plain_staff, password):
    key_before = client.session.session_key

    log_in(client, plain_staff.email, password)

    assert client.session.session_key != key_before
    assert signed_in_pk(client) == plain_staff.pk


def test_safe_next_page_is_followed_after_login(client, plain_staff, password):
    next_page = reverse("staff:list")

    response = log_in(client, plain_staff.email, password, next=next_page)

    assertRedirects(response, next_page)


@pytest.mark.parametrize(
    "unsafe_next",
    [
        "//evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
    ],
)
def test_unsafe_next_page_goes_home_after_login(client, plain_staff, password, unsafe_next):
    response = log_in(client, plain_staff.email, password, next=unsafe_next)

    assertRedirects(response, reverse("home"))
    assert signed_in_pk(client) == plain_staff.pk


def test_signed_in_user_visiting_login_page_goes_home(client_as, plain_staff):
    response = client_as(plain_staff).get(reverse("login"))

    assertRedirects(response, reverse("home"))


@pytest.mark.parametrize("url_name", ["home", "staff:list", "subjects:list", "password_change"])
def test_anonymous_visitor_is_sent_to_login_with_next(client, url_name):
    url = reverse(url_name)

    response = client.get(url)

    assertRedirects(response, f"{reverse('login')}?next={url}")


def test_login_page_says_you_must_be_logged_in_after_a_protected_page(client):
    response = client.get(reverse("staff:list"), follow=True)

    assert response.redirect_chain == [(f"{reverse('login')}?next={reverse('staff:list')}", 302)]
    assertContains(response, "You must be logged in to access this page.")


def test_login_page_alone_does_not_say_you_must_be_logged_in(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assertNotContains(response, "You must be logged in")


def test_login_after_being_sent_from_a_protected_page_returns_there(client, plain_staff, password):
    client.get(reverse("staff:list"))

    response = log_in(client, plain_staff.email, password, next=reverse("staff:list"))

    assertRedirects(response, reverse("staff:list"))


# Logging out
# ------------------------------------------------------------------------------


def test_logout_by_get_asks_with_a_log_out_button_and_keeps_the_session(client_as, plain_staff):
    client = client_as(plain_staff)

    response = client.get(reverse("logout"))

    assert response.status_code == 200
    assertContains(
        response,
        '<button type="submit" class="btn btn-primary">Log out</button>',
        html=True,
    )
    assert signed_in_pk(client) == plain_staff.pk


def test_logout_by_get_when_signed_out_says_so_with_a_link_to_log_in(client):
    response = client.get(reverse("logout"))

    assert response.status_code == 200
    assertContains(response, "You are logged out")
    assertContains(response, f'href="{reverse("login")}"')


def test_logout_by_post_redirects_to_login(client_as, plain_staff):
    client = client_as(plain_staff)

    response = client.post(reverse("logout"))

    assertRedirects(response, reverse("login"))
    assert signed_in_pk(client) is None


def test_login_page_says_you_have_been_logged_out_after_logout(client_as, plain_staff):
    response = client_as(plain_staff).post(reverse("logout"), follow=True)

    assertContains(response, "You have been logged out.")
    assert response.context["user"].is_anonymous


# Changing one's password
# ------------------------------------------------------------------------------


def change_password(client, old, new1, new2=None):
    return client.post(
        reverse("password_change"),
        {
            "old_password": old,
            "new_password1": new1,
            "new_password2": new1 if new2 is None else new2,
        },
    )


def test_password_change_with_the_correct_old_password_sets_the_new_one(
    client_as, plain_staff, password
):
    response = change_password(client_as(plain_staff), password, NEW_PASSWORD)

    assertRedirects(response, reverse("password_change_done"))
    plain_staff.refresh_from_db()
    assert plain_staff.check_password(NEW_PASSWORD)
    assert not plain_staff.check_password(password)


def test_password_change_with_a_wrong_old_password_is_refused(client_as, plain_staff, password):
    response = change_password(client_as(plain_staff), "not-the-password", NEW_PASSWORD)

    assert response.status_code == 200
    assertContains(response, "Your old password was entered incorrectly.")
    plain_staff.refresh_from_db()
    assert plain_staff.check_password(password)


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("password123", "This password is too common."),
        ("x7!q", "This password is too short."),
        ("plain@school.example", "The password is too similar to the email."),
    ],
)
def test_password_change_rejects_a_weak_new_password(
    client_as, plain_staff, password, new_password, message
):
    response = change_password(client_as(plain_staff), password, new_password)

    assert response.status_code == 200
    assertContains(response, message)
    plain_staff.refresh_from_db()
    assert plain_staff.check_password(password)


def test_password_change_accepts_a_long_password_of_digits_only(client_as, plain_staff, password):
    # No composition rules: length and not being a common password are what count.
    response = change_password(client_as(plain_staff), password, "582039417651")

    assertRedirects(response, reverse("password_change_done"))
    plain_staff.refresh_from_db()
    assert plain_staff.check_password("582039417651")


def test_password_change_rejects_mismatched_new_passwords(client_as, plain_staff, password):
    response = change_password(client_as(plain_staff), password, NEW_PASSWORD, NEW_PASSWORD + "x")

    assert response.status_code == 200
    assertContains(response, "The two password fields didn’t match.")
    plain_staff.refresh_from_db()
    assert plain_staff.check_password(password)


def test_password_change_keeps_this_session(client_as, plain_staff, password):
    client = client_as(plain_staff)

    change_password(client, password, NEW_PASSWORD)

    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["user"] == plain_staff


def test_password_change_ends_the_users_other_sessions(client_as, plain_staff, password):
    other_browser = Client()
    other_browser.force_login(plain_staff)
    assert other_browser.get(reverse("home")).status_code == 200

    change_password(client_as(plain_staff), password, NEW_PASSWORD)

    assert_signed_out(other_browser)


def test_password_change_does_not_end_other_users_sessions(
    client_as, plain_staff, manager, password
):
    manager_browser = Client()
    manager_browser.force_login(manager)

    change_password(client_as(plain_staff), password, NEW_PASSWORD)

    assert manager_browser.get(reverse("home")).status_code == 200


def test_password_change_done_page_says_your_password_has_been_updated(
    client_as, plain_staff, password
):
    response = client_as(plain_staff).post(
        reverse("password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("password_change_done"), 302)]
    assertContains(response, "Your password has been updated.")


# Resetting a forgotten password
# ------------------------------------------------------------------------------


def reset_link(message):
    match = re.search(r"https?://testserver(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_for_a_known_email_in_another_case_sends_one_email(
    client, plain_staff, mailoutbox
):
    response = client.post(reverse("password_reset"), {"email": " PLAIN@School.Example "})

    assertRedirects(response, reverse("password_reset_done"))
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [plain_staff.email]
    assert "/accounts/reset/" in reset_link(mailoutbox[0])


@pytest.mark.parametrize(
    ("minutes", "words"), [(60, "1 hour"), (90, "90 minutes"), (120, "2 hours"), (2880, "2 days")]
)
def test_password_reset_email_says_how_long_its_link_works(
    client, settings, plain_staff, mailoutbox, minutes, words
):
    settings.PASSWORD_RESET_TIMEOUT = minutes * 60

    client.post(reverse("password_reset"), {"email": plain_staff.email})

    assert f"open this link (it works once, for {words}):" in mailoutbox[0].body


def test_password_reset_for_an_unknown_email_sends_nothing_but_shows_the_same_page(
    client, plain_staff, mailoutbox
):
    response = client.post(
        reverse("password_reset"), {"email": "nobody@school.example"}, follow=True
    )

    assert response.redirect_chain == [(reverse("password_reset_done"), 302)]
    assertContains(response, "Check your email")
    assert mailoutbox == []


def test_password_reset_for_an_inactive_account_sends_nothing(client, mailoutbox):
    StaffFactory(email="gone@school.example", is_active=False)

    client.post(reverse("password_reset"), {"email": "gone@school.example"})

    assert mailoutbox == []


def test_password_reset_link_lets_the_user_set_a_new_password_and_sign_in(
    client, plain_staff, password, mailoutbox
):
    client.post(reverse("password_reset"), {"email": plain_staff.email})

    form_page = client.get(reset_link(mailoutbox[0]), follow=True)
    assertContains(form_page, "Choose a new password")
    set_password_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assertRedirects(response, reverse("password_reset_complete"))
    plain_staff.refresh_from_db()
    assert plain_staff.check_password(NEW_PASSWORD)
    assertRedirects(log_in(Client(), plain_staff.email, NEW_PASSWORD), reverse("home"))
    assertContains(log_in(Client(), plain_staff.email, password), INVALID_LOGIN)


def test_password_reset_link_works_only_once(client, plain_staff, mailoutbox):
    client.post(reverse("password_reset"), {"email": plain_staff.email})
    link = reset_link(mailoutbox[0])
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    response = Client().get(link, follow=True)

    assertContains(response, "This link no longer works")


# CSRF
# ------------------------------------------------------------------------------


def test_login_post_without_csrf_token_is_refused(plain_staff, password):
    client = Client(enforce_csrf_checks=True)

    response = log_in(client, plain_staff.email, password)

    assert response.status_code == 403
    assert signed_in_pk(client) is None


def test_logout_post_without_csrf_token_is_refused(plain_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(plain_staff)

    response = client.post(reverse("logout"))

    assert response.status_code == 403
    assert signed_in_pk(client) == plain_staff.pk


def test_login_post_with_csrf_token_signs_in(plain_staff, password):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value

    response = log_in(client, plain_staff.email, password, csrfmiddlewaretoken=token)

    assertRedirects(response, reverse("home"))
    assert signed_in_pk(client) == plain_staff.pk


# The admin login
# ------------------------------------------------------------------------------


def test_admin_login_takes_no_password_and_leads_to_the_sites_login(client, superuser, password):
    # The site's login, then its second step: the admin's own form would skip the second.
    response = client.post(
        reverse("admin:login"),
        {"username": superuser.email, "password": password, "next": reverse("admin:index")},
    )

    assertRedirects(
        response,
        f"{reverse('login')}?next=%2Fadmin%2F",
        fetch_redirect_response=False,
    )
    assert signed_in_pk(client) is None


# The navbar
# ------------------------------------------------------------------------------


def admin_link():
    return f'<a class="nav-link" href="{reverse("admin:index")}">Admin</a>'


def test_navbar_for_anonymous_shows_only_log_in(client):
    response = client.get(reverse("password_reset"))

    assertContains(response, f'<a class="nav-link" href="{reverse("login")}">Log in</a>', html=True)
    for hidden in ["Data maintenance", "Change password", "Log out"]:
        assertNotContains(response, hidden)
    assertNotContains(response, admin_link(), html=True)


def test_navbar_for_signed_in_staff_shows_data_maintenance_password_and_log_out(
    client_as, plain_staff
):
    response = client_as(plain_staff).get(reverse("home"))

    assertContains(response, "Data maintenance")
    assertContains(response, f'<a class="dropdown-item" href="{reverse("staff:list")}">Staff</a>')
    assertContains(
        response, f'<a class="dropdown-item" href="{reverse("subjects:list")}">Subject groups</a>'
    )
    assertContains(
        response,
        f'<a class="nav-link" href="{reverse("password_change")}">Change password</a>',
        html=True,
    )
    assertContains(response, f'action="{reverse("logout")}"')
    assertContains(response, "Log out")
    assertNotContains(response, f'<a class="nav-link" href="{reverse("login")}">Log in</a>')


@pytest.mark.parametrize(("is_staff", "shows_admin"), [(False, False), (True, True)])
def test_navbar_shows_admin_only_to_is_staff_users(client_as, is_staff, shows_admin):
    staff = StaffFactory(is_staff=is_staff)

    response = client_as(staff).get(reverse("home"))

    assertContains(response, admin_link(), count=1 if shows_admin else 0, html=True)
