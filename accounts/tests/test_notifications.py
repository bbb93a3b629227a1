"""Security emails: the owner hears of every change to how they sign in, and of a lockout."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import EmailRequest, Staff
from accounts.tests.admin_forms import admin_change_data
from accounts.tests.factories import NEW_PASSWORD, StaffFactory, edit_data
from accounts.tests.pages import signed_in
from accounts.tokens import invitation_token_generator
from audit.models import AuditEvent
from schoolstaff import settings as project_settings

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not the password at all"
PASSWORD_CHANGED = "Your schoolstaff password was changed"
EMAIL_CHANGED = "Your schoolstaff sign-in email was changed"
LOCKED_OUT = "Your schoolstaff account was locked"
NEEDS_CURRENT_PASSWORD = "Enter your current password to change your own email address."


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the block leaves for the transaction's commit, as a real request would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def uidb64(staff):
    return urlsafe_base64_encode(force_bytes(staff.pk))


def set_through_link(url_name, token_generator, staff, password):
    client = Client()
    link = reverse(
        url_name, kwargs={"uidb64": uidb64(staff), "token": token_generator.make_token(staff)}
    )
    form_page = client.get(link)
    return client.post(form_page.url, {"new_password1": password, "new_password2": password})


def fail_to_sign_in(email, times, **client_defaults):
    """Post a wrong password `times` times from one browser; return the last response."""
    client = Client(**client_defaults)
    for _ in range(times):
        response = client.post(reverse("login"), {"username": email, "password": WRONG_PASSWORD})
    return response


# Password changed, set or reset
# ------------------------------------------------------------------------------
def changed_by_the_owner(ada, people, password):
    return signed_in(ada).post(
        reverse("password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def set_by_a_manager(ada, people, password):
    return signed_in(people["manager"]).post(
        reverse("staff:set_password", kwargs={"pk": ada.pk}),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def set_in_the_admin(ada, people, password):
    return signed_in(people["superuser"]).post(
        reverse("admin:auth_user_password_change", args=[ada.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def reset_through_the_link(ada, people, password):
    return set_through_link("password_reset_confirm", default_token_generator, ada, NEW_PASSWORD)


PASSWORD_CHANGES = {
    "changed by the owner": changed_by_the_owner,
    "set by a manager": set_by_a_manager,
    "set in the admin": set_in_the_admin,
    "reset through the link": reset_through_the_link,
}


@pytest.mark.parametrize("change", PASSWORD_CHANGES.values(), ids=PASSWORD_CHANGES.keys())
def test_the_owner_is_emailed_when_their_password_is_changed(
    ada, users_by_role, password, mailoutbox, committed, change
):
    with committed():
        response = change(ada, users_by_role, password)

    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)
    assert [(message.to, message.subject) for message in mailoutbox] == [
        ([ada.email], PASSWORD_CHANGED)
    ]
    assert ada.email in mailoutbox[0].body


@pytest.mark.parametrize("change", PASSWORD_CHANGES.values(), ids=PASSWORD_CHANGES.keys())
def test_no_password_email_contains_the_old_or_new_password(
    ada, users_by_role, password, mailoutbox, committed, change
):
    with committed():
        change(ada, users_by_role, password)

    assert mailoutbox
    for message in mailoutbox:
        assert NEW_PASSWORD not in message.body
        assert password not in message.body
        assert NEW_PASSWORD not in message.subject


def test_no_email_from_accepting_an_invitation_contains_the_chosen_password(mailoutbox, committed):
    invited = StaffFactory(email="new@school.example", password=None)

    with committed():
        response = set_through_link(
            "invitation_accept", invitation_token_generator, invited, NEW_PASSWORD
        )

    assertRedirects(response, reverse("home"), fetch_redirect_response=False)
    for message in mailoutbox:
        assert NEW_PASSWORD not in message.body


def test_a_refused_password_change_sends_no_email(ada, password, mailoutbox, committed):
    with committed():
        response = signed_in(ada).post(
            reverse("password_change"),
            {
                "old_password": WRONG_PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )

    assert response.status_code == 200
    ada.refresh_from_db()
    assert ada.check_password(password)
    assert mailoutbox == []


def test_no_email_when_the_hash_is_upgraded_at_sign_in(
    settings, ada, password, mailoutbox, committed
):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    Staff.objects.filter(pk=ada.pk).update(password=make_password(password, hasher="pbkdf2_sha256"))

    with committed():
        response = Client().post(reverse("login"), {"username": ada.email, "password": password})

    assertRedirects(response, reverse("home"), fetch_redirect_response=False)
    ada.refresh_from_db()
    assert ada.password.startswith("argon2$argon2id$")
    assert mailoutbox == []


# Email changed
# ------------------------------------------------------------------------------
def test_manager_changing_someones_email_emails_the_old_address(
    client_as, manager, ada, mailoutbox, committed
):
    with committed():
        response = client_as(manager).post(
            reverse("staff:update", kwargs={"pk": ada.pk}),
            edit_data(ada, email="a.lovelace@school.example"),
        )

    assertRedirects(response, reverse("staff:detail", kwargs={"pk": ada.pk}))
    ada.refresh_from_db()
    assert ada.email == "a.lovelace@school.example"
    assert [(message.to, message.subject) for message in mailoutbox] == [
        (["ada@school.example"], EMAIL_CHANGED)
    ]
    assert "a.lovelace@school.example" in mailoutbox[0].body


def test_superuser_changing_someones_email_in_the_admin_emails_the_old_address(
    client_as, superuser, ada, mailoutbox, committed
):
    with committed():
        response = client_as(superuser).post(
            reverse("admin:accounts_staff_change", args=[ada.pk]),
            admin_change_data(ada, email="a.lovelace@school.example"),
        )

    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.email == "a.lovelace@school.example"
    assert [(message.to, message.subject) for message in mailoutbox] == [
        (["ada@school.example"], EMAIL_CHANGED)
    ]
    assert "a.lovelace@school.example" in mailoutbox[0].body


def test_no_email_when_only_a_name_is_changed(client_as, manager, ada, mailoutbox, committed):
    with committed():
        response = client_as(manager).post(
            reverse("staff:update", kwargs={"pk": ada.pk}), edit_data(ada, first_name="Augusta")
        )

    assertRedirects(response, reverse("staff:detail", kwargs={"pk": ada.pk}))
    ada.refresh_from_db()
    assert ada.first_name == "Augusta"
    assert mailoutbox == []


def test_no_email_when_the_email_is_only_retyped_in_another_case(
    client_as, manager, ada, mailoutbox, committed
):
    with committed():
        response = client_as(manager).post(
            reverse("staff:update", kwargs={"pk": ada.pk}),
            edit_data(ada, email="ADA@School.Example"),
        )

    assertRedirects(response, reverse("staff:detail", kwargs={"pk": ada.pk}))
    ada.refresh_from_db()
    assert ada.email == "ada@school.example"
    assert mailoutbox == []


# One's own email takes one's password
# ------------------------------------------------------------------------------
def test_own_edit_page_asks_for_the_current_password(client_as, manager):
    response = client_as(manager).get(reverse("staff:update", kwargs={"pk": manager.pk}))

    assertContains(response, "Your current password")
    assertContains(response, 'name="current_password"')


@pytest.mark.parametrize(
    "current_password", [pytest.param("", id="missing"), pytest.param(WRONG_PASSWORD, id="wrong")]
)
def test_changing_ones_own_email_without_the_right_password_is_refused(
    client_as, manager, mailoutbox, committed, current_password
):
    client = client_as(manager)

    with committed():
        response = client.post(
            reverse("staff:update", kwargs={"pk": manager.pk}),
            edit_data(
                manager, email="taken-over@school.example", current_password=current_password
            ),
        )

    assertContains(response, NEEDS_CURRENT_PASSWORD)
    assert "current_password" in response.context["form"].errors
    manager.refresh_from_db()
    assert manager.email == "manager@school.example"
    assert mailoutbox == []


def test_changing_ones_own_email_with_the_current_password_saves_it_and_emails_the_old_address(
    client_as, manager, password, mailoutbox, committed
):
    client = client_as(manager)

    with committed():
        response = client.post(
            reverse("staff:update", kwargs={"pk": manager.pk}),
            edit_data(manager, email="mary@school.example", current_password=password),
        )

    assertRedirects(response, reverse("staff:detail", kwargs={"pk": manager.pk}))
    manager.refresh_from_db()
    assert manager.email == "mary@school.example"
    assert [(message.to, message.subject) for message in mailoutbox] == [
        (["manager@school.example"], EMAIL_CHANGED)
    ]
    assert "mary@school.example" in mailoutbox[0].body
    assert password not in mailoutbox[0].body


def test_changing_ones_own_name_needs_no_password(client_as, manager, mailoutbox, committed):
    client = client_as(manager)

    with committed():
        response = client.post(
            reverse("staff:update", kwargs={"pk": manager.pk}),
            edit_data(manager, first_name="Marianne"),
        )

    assertRedirects(response, reverse("staff:detail", kwargs={"pk": manager.pk}))
    manager.refresh_from_db()
    assert manager.first_name == "Marianne"
    assert mailoutbox == []


def test_editing_someone_elses_email_asks_for_no_password(client_as, manager, ada):
    response = client_as(manager).get(reverse("staff:update", kwargs={"pk": ada.pk}))

    assert response.status_code == 200
    assert "current_password" not in response.context["form"].fields
    assertNotContains(response, "Your current password")


def test_own_email_is_read_only_on_ones_own_admin_change_page(client_as, superuser):
    response = client_as(superuser).get(reverse("admin:accounts_staff_change", args=[superuser.pk]))

    assert response.status_code == 200
    assertContains(response, superuser.email)
    assertNotContains(response, 'name="email"')


def test_posting_a_new_email_on_ones_own_admin_change_page_changes_nothing(
    client_as, superuser, mailoutbox, committed
):
    client = client_as(superuser)

    with committed():
        response = client.post(
            reverse("admin:accounts_staff_change", args=[superuser.pk]),
            admin_change_data(superuser, email="taken-over@school.example", first_name="Samuel"),
        )

    assert response.status_code == 302
    superuser.refresh_from_db()
    assert superuser.first_name == "Samuel"  # The rest of the form was saved.
    assert superuser.email == "root@school.example"
    assert mailoutbox == []


def test_someone_elses_email_stays_editable_in_the_admin(client_as, superuser, ada):
    response = client_as(superuser).get(reverse("admin:accounts_staff_change", args=[ada.pk]))

    assertContains(response, 'name="email"')


# Locked out
# ------------------------------------------------------------------------------
def test_the_owner_is_emailed_once_when_their_account_is_locked(ada, mailoutbox, committed):
    with committed():
        response = fail_to_sign_in(" ADA@School.Example ", django_settings.AXES_FAILURE_LIMIT)

    assert response.status_code == 429
    assert [(message.to, message.subject) for message in mailoutbox] == [([ada.email], LOCKED_OUT)]
    body = mailoutbox[0].body
    assert f"{django_settings.AXES_FAILURE_LIMIT} times in a row" in body
    assert "15 minutes" in body
    assert WRONG_PASSWORD not in body


def test_no_email_before_the_failure_limit(ada, mailoutbox, committed):
    with committed():
        response = fail_to_sign_in(ada.email, django_settings.AXES_FAILURE_LIMIT - 1)

    assert response.status_code == 200
    assert mailoutbox == []


def test_further_attempts_during_the_lockout_send_no_more_emails(ada, mailoutbox, committed):
    with committed():
        fail_to_sign_in(ada.email, django_settings.AXES_FAILURE_LIMIT)
    assert len(mailoutbox) == 1

    with committed():
        response = fail_to_sign_in(ada.email, 3)

    assert response.status_code == 429
    assert [message.subject for message in mailoutbox] == [LOCKED_OUT]


def test_no_email_for_a_lockout_of_an_unknown_email(ada, mailoutbox, committed):
    with committed():
        response = fail_to_sign_in("nobody@school.example", django_settings.AXES_FAILURE_LIMIT)

    assert response.status_code == 429
    assert mailoutbox == []


def test_lockouts_from_six_ips_within_the_cool_off_send_one_email(ada, mailoutbox, committed):
    with committed():
        for n in range(6):
            response = fail_to_sign_in(
                ada.email, django_settings.AXES_FAILURE_LIMIT, REMOTE_ADDR=f"198.51.100.{n}"
            )
            assert response.status_code == 429

    assert [(message.to, message.subject) for message in mailoutbox] == [([ada.email], LOCKED_OUT)]
    # Each lockout is still in the audit trail.
    assert AuditEvent.objects.about(ada).filter(kind="locked_out").count() == 6


def test_a_lockout_after_the_cool_off_emails_the_owner_again(ada, mailoutbox, committed):
    with committed():
        fail_to_sign_in(ada.email, django_settings.AXES_FAILURE_LIMIT)
    AuditEvent.objects.update(created_at=timezone.now() - django_settings.AXES_COOLOFF_TIME)

    with committed():
        fail_to_sign_in(ada.email, django_settings.AXES_FAILURE_LIMIT, REMOTE_ADDR="198.51.100.7")

    assert [(message.to, message.subject) for message in mailoutbox] == [
        ([ada.email], LOCKED_OUT),
        ([ada.email], LOCKED_OUT),
    ]


def test_a_lockout_notice_leaves_the_password_reset_limit_in_place(
    client, ada, mailoutbox, committed
):
    limit = django_settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS
    for _ in range(limit):
        client.post(reverse("password_reset"), {"email": ada.email})
    # Twenty minutes ago: inside the reset limit's hour, past the lockout's cool-off.
    EmailRequest.objects.update(created_at=timezone.now() - timedelta(minutes=20))
    with committed():
        fail_to_sign_in(ada.email, django_settings.AXES_FAILURE_LIMIT)
    assert [message.subject for message in mailoutbox].count(LOCKED_OUT) == 1

    response = client.post(reverse("password_reset"), {"email": ada.email})

    assert response.status_code == 429
    assert len(mailoutbox) == limit + 1
