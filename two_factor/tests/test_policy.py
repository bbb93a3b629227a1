"""DJANGO_TWO_FACTOR_REQUIRED: whom it covers, and what covered people without a factor meet."""

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from pytest_django.asserts import assertRedirects

from accounts.admin_site import StaffAdminSite
from accounts.tests.factories import StaffFactory
from two_factor.checks import check_passkey_domain, check_second_factor_required

pytestmark = pytest.mark.django_db

SETUP = reverse("two_factor:setup_app")


@pytest.fixture
def people(plain_staff, manager, superuser):
    staff_status = StaffFactory(email="it@school.example", is_staff=True)
    one_permission = StaffFactory(email="clerk@school.example")
    one_permission.user_permissions.add(Permission.objects.get(codename="view_staff"))
    return {
        "plain": plain_staff,
        "one permission": one_permission,
        "manager": manager,
        "staff status": staff_status,
        "superuser": superuser,
    }


COVERED = {
    "admins": {"staff status", "superuser"},
    "powers": {"one permission", "manager", "staff status", "superuser"},
    "all": {"plain", "one permission", "manager", "staff status", "superuser"},
    "none": set(),
}


@pytest.mark.parametrize("policy", COVERED)
@pytest.mark.parametrize(
    "role", ["plain", "one permission", "manager", "staff status", "superuser"]
)
def test_who_must_set_up_a_factor_after_the_password(
    settings, after_password, people, policy, role
):
    settings.TWO_FACTOR_REQUIRED = policy
    client = after_password(people[role])

    response = client.get(reverse("home"))

    if role in COVERED[policy]:
        assertRedirects(response, f"{SETUP}?next=%2F")
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("policy", ["admins", "none"])
def test_someone_with_a_factor_passes_the_second_step_whatever_the_policy(
    settings, after_password, plain_staff, app_of, policy
):
    settings.TWO_FACTOR_REQUIRED = policy
    app_of(plain_staff)
    client = after_password(plain_staff)

    response = client.get(reverse("home"))

    assert response.url.startswith(reverse("two_factor:verify"))


@pytest.mark.parametrize(
    "url_name", ["home", "staff:list", "password_change", "two_factor:verify", "admin:index"]
)
def test_a_covered_person_without_a_factor_can_do_nothing_else_first(
    after_password, superuser, url_name
):
    client = after_password(superuser)

    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url.startswith(SETUP)


def test_someone_given_staff_status_mid_session_is_led_to_set_up(client, plain_staff):
    client.force_login(plain_staff)
    assert client.get(reverse("home")).status_code == 200
    plain_staff.is_staff = True
    plain_staff.save()

    response = client.get(reverse("home"))

    assert response.url.startswith(SETUP)


def test_none_is_named_by_check_deploy(settings):
    settings.TWO_FACTOR_REQUIRED = "none"
    assert [w.id for w in check_second_factor_required(None)] == ["two_factor.W001"]
    settings.TWO_FACTOR_REQUIRED = "admins"
    assert check_second_factor_required(None) == []


def test_the_default_is_admins():
    from schoolstaff import settings as project_settings

    assert project_settings.TWO_FACTOR_REQUIRED == "admins"


# The admin
# ------------------------------------------------------------------------------


def test_the_admin_is_refused_after_the_password_alone(after_password, superuser, app_of):
    app_of(superuser)
    client = after_password(superuser)

    response = client.get(reverse("admin:index"))

    assert response.url.startswith(reverse("two_factor:verify"))


def test_the_admin_opens_once_verified(after_password, superuser, app_of, code, type_code):
    device = app_of(superuser)
    client = after_password(superuser)

    response = type_code(client, code(device), next_url=reverse("admin:index"))

    assertRedirects(response, reverse("admin:index"))


def test_the_admin_site_itself_refuses_an_unverified_session(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    superuser.is_verified = lambda: False

    assert not StaffAdminSite().has_permission(request)
    superuser.is_verified = lambda: True
    assert StaffAdminSite().has_permission(request)


def test_the_admin_login_form_takes_no_password(client, superuser, password):
    response = client.post(
        reverse("admin:login"), {"username": superuser.email, "password": password}
    )

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_the_admin_login_sends_a_half_signed_in_admin_to_the_second_step(
    after_password, superuser, app_of
):
    app_of(superuser)
    client = after_password(superuser)

    response = client.get(reverse("admin:login"))

    assert response.url.startswith(reverse("two_factor:verify"))


def test_the_admin_login_refuses_a_signed_in_person_without_staff_status(client_as, manager):
    response = client_as(manager).get(reverse("admin:login"))

    assert response.status_code == 403


def test_under_none_the_admin_opens_after_the_password(settings, after_password, superuser):
    settings.TWO_FACTOR_REQUIRED = "none"
    client = after_password(superuser)

    assert client.get(reverse("admin:index")).status_code == 200


def test_make_demo_says_that_no_second_factor_is_asked():
    makefile = open("Makefile", encoding="utf-8").read()
    demo = makefile[makefile.index("\ndemo:") :].split("\n\n")[0]

    assert "demo: export DJANGO_TWO_FACTOR_REQUIRED = none" in makefile
    assert "No second factor is asked" in demo


def test_check_deploy_runs(settings, capsys):
    settings.TWO_FACTOR_REQUIRED = "none"
    call_command("check", "--deploy", "--fail-level", "CRITICAL")

    assert "two_factor.W001" in capsys.readouterr().err


def test_check_deploy_names_passkeys_kept_to_localhost(settings):
    settings.DEBUG = False
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    assert [w.id for w in check_passkey_domain(None)] == ["two_factor.W002"]
    settings.OTP_WEBAUTHN_RP_ID = "staff.school.example"
    assert check_passkey_domain(None) == []
