import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from pytest_django.asserts import assertRedirects

from accounts.models import Staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_environment(monkeypatch, password):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Head.Teacher@School.EXAMPLE")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", password)
    monkeypatch.setenv("DJANGO_SUPERUSER_FIRST_NAME", "Hana")
    monkeypatch.setenv("DJANGO_SUPERUSER_LAST_NAME", "Head")


def test_createsuperuser_noinput_creates_an_active_superuser_with_a_lower_cased_email(
    superuser_environment, password
):
    call_command("createsuperuser", "--noinput", verbosity=0)

    head = Staff.objects.get()
    assert head.email == "head.teacher@school.example"
    assert head.get_full_name() == "Hana Head"
    assert head.is_active
    assert head.is_staff
    assert head.is_superuser
    assert head.check_password(password)


def test_superuser_made_by_createsuperuser_can_log_in(client, superuser_environment, password):
    call_command("createsuperuser", "--noinput", verbosity=0)

    response = client.post(
        reverse("login"), {"username": "Head.Teacher@school.example", "password": password}
    )

    # Home, by way of setting up a second factor (two_factor's tests).
    assertRedirects(response, reverse("home"), fetch_redirect_response=False)
    assert int(client.session["_auth_user_id"]) == Staff.objects.get().pk


def test_migrations_are_up_to_date():
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=0)
    except SystemExit as exit_:
        pytest.fail(f"Model changes without a migration (makemigrations exited {exit_.code}).")


def test_staff_managers_group_holds_exactly_the_staff_and_subject_group_permissions():
    group = Group.objects.get(name="Staff managers")

    assert set(group.permissions.values_list("content_type__app_label", "codename")) == {
        (app_label, f"{action}_{model}")
        for app_label, model in [("accounts", "staff"), ("subjects", "subjectgroup")]
        for action in ["add", "change", "delete", "view"]
    }


def test_collectstatic_with_hashed_storage_includes_bootstrap(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

    call_command("collectstatic", "--noinput", verbosity=0)

    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in ["bootstrap/css/bootstrap.min.css", "bootstrap/js/bootstrap.bundle.min.js"]:
        assert name in manifest
        assert (tmp_path / manifest[name]).is_file()


class TTY:
    def isatty(self):
        return True


def test_createsuperuser_asks_again_for_a_password_against_the_rules_and_offers_no_bypass(
    monkeypatch, capsys, password
):
    answers = iter(["head@school.example", "Hana", "Head"])
    questions = []

    def answer(message=""):
        questions.append(message)
        return next(answers)

    passwords = iter(["12345678", "12345678", password, password])
    monkeypatch.setattr("builtins.input", answer)
    monkeypatch.setattr("getpass.getpass", lambda prompt="Password: ": next(passwords))

    call_command("createsuperuser", interactive=True, stdin=TTY())

    assert not any("Bypass" in question for question in questions)
    errors = capsys.readouterr().err
    assert "This password is too common." in errors
    assert "Choose another password." in errors
    assert Staff.objects.get().check_password(password)
