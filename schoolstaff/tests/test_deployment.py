"""What production asks of its environment: where emails go, how large a request may be, and
which cookies only HTTPS pages may set."""

import json
import os
import secrets
import stat
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.test.client import FakePayload
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from accounts.models import Staff

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "staff.school.example",
}
SMTP = {"DJANGO_EMAIL_HOST": "smtp.school.example"}
CONSOLE = "django.core.mail.backends.console.EmailBackend"
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def run(command, **environment):
    """Run a command from the project folder with only the given DJANGO_* variables.

    A secret key and a database in memory are always given, so that nothing is written
    into the checkout.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")}
    env.update(
        DJANGO_SECRET_KEY=PRODUCTION["DJANGO_SECRET_KEY"],
        DATABASE_URL="sqlite://:memory:",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(environment)
    return subprocess.run(
        command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def fresh_settings(*names, **environment):
    """The named settings as a new process reads them, or the process that failed."""
    code = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'schoolstaff.settings';"
        "from django.conf import settings;"
        f"print(json.dumps({{name: getattr(settings, name) for name in {list(names)!r}}}))"
    )
    result = run([sys.executable, "-c", code], **environment)
    if result.returncode:
        return result
    return json.loads(result.stdout)


# Email: never printed into a production log unless asked for by name
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "environment",
    [{}, {"DJANGO_EMAIL_BACKEND": "smtp"}],
    ids=["nothing set", "smtp without a host"],
)
def test_production_refuses_to_start_without_an_email_host_or_console_by_name(environment):
    result = fresh_settings("EMAIL_BACKEND", **PRODUCTION, **environment)

    assert result.returncode != 0
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("django.core.exceptions.ImproperlyConfigured: Set DJANGO_EMAIL_HOST")
    assert "DJANGO_EMAIL_BACKEND=console" in error


@pytest.mark.parametrize(
    ("environment", "backend"),
    [
        ({"DJANGO_DEBUG": "1"}, CONSOLE),
        ({"DJANGO_DEBUG": "1", **SMTP}, SMTP_BACKEND),
        ({**PRODUCTION, **SMTP}, SMTP_BACKEND),
        ({**PRODUCTION, **SMTP, "DJANGO_EMAIL_BACKEND": "smtp"}, SMTP_BACKEND),
        ({**PRODUCTION, "DJANGO_EMAIL_BACKEND": "console"}, CONSOLE),
        ({**PRODUCTION, **SMTP, "DJANGO_EMAIL_BACKEND": "console"}, CONSOLE),
    ],
    ids=[
        "debugging",
        "debugging with a host",
        "production with a host",
        "smtp by name",
        "console by name",
        "console by name despite a host",
    ],
)
def test_email_backend_comes_from_the_environment(environment, backend):
    assert fresh_settings("EMAIL_BACKEND", **environment) == {"EMAIL_BACKEND": backend}


@pytest.mark.parametrize("debug", ["0", "1"])
def test_an_unknown_email_backend_is_refused(debug):
    environment = {**PRODUCTION, **SMTP, "DJANGO_DEBUG": debug, "DJANGO_EMAIL_BACKEND": "file"}

    result = fresh_settings("EMAIL_BACKEND", **environment)

    assert result.returncode != 0
    assert "DJANGO_EMAIL_BACKEND must be smtp or console." in result.stderr


def test_check_deploy_warns_while_production_prints_emails():
    printing = run(
        [sys.executable, "manage.py", "check", "--deploy"],
        **PRODUCTION,
        DJANGO_EMAIL_BACKEND="console",
    )
    sending = run([sys.executable, "manage.py", "check", "--deploy"], **PRODUCTION, **SMTP)

    assert "accounts.W002" in printing.stderr
    assert "DJANGO_EMAIL_BACKEND=console" in printing.stderr
    assert "accounts.W002" not in sending.stderr


@pytest.fixture
def stand_ins(tmp_path):
    """A Python and a gunicorn for `make serve` that only print what they were given."""
    script = '#!/bin/sh\necho "$(basename "$0") $* email=$DJANGO_EMAIL_BACKEND"\n'
    (tmp_path / "bin").mkdir()
    for path in (tmp_path / "bin" / "python", tmp_path / "bin" / "gunicorn"):
        path.write_text(script)
        path.chmod(stat.S_IRWXU)
    return tmp_path


def make_serve(venv, **environment):
    return run(
        ["make", "--no-print-directory", "-o", f"{venv}/installed", "serve", f"VENV={venv}"],
        **environment,
    )


def test_make_serve_prints_emails_to_its_console_and_says_so(stand_ins):
    result = make_serve(stand_ins)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "Emails, reset links included, are printed to this console, for trials on one machine: "
        "set DJANGO_EMAIL_HOST for real use.\n"
    )
    assert "gunicorn schoolstaff.wsgi:application" in result.stdout
    assert "email=console" in result.stdout


def test_make_serve_sends_emails_by_smtp_once_a_host_is_set(stand_ins):
    result = make_serve(stand_ins, **SMTP)

    assert result.returncode == 0, result.stderr
    assert "printed to this console" not in result.stdout
    assert "email=smtp" in result.stdout


# Request size: bounded before anything is read
# ------------------------------------------------------------------------------
TWENTY_MB = 20 * 1024 * 1024


def post_unread(client, url, length, content_type="multipart/form-data; boundary=x"):
    """POST a body of `length` bytes; return the response and whether any of it was read."""
    body = FakePayload(b"x" * length)
    response = client.generic(
        "POST",
        url,
        **{"wsgi.input": body, "CONTENT_LENGTH": str(length), "CONTENT_TYPE": content_type},
    )
    return response, body.read_started


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["login", "staff:import"])
def test_a_20_mb_post_is_refused_before_its_body_or_csrf_token_is_read(url_name):
    # Without the CSRF token, anything that read the form would answer 403.
    client = Client(enforce_csrf_checks=True)

    response, read = post_unread(client, reverse(url_name), TWENTY_MB)

    assert response.status_code == 413
    assert not read


@pytest.mark.django_db
def test_a_20_mb_upload_by_an_anonymous_visitor_gets_the_413_page(client):
    upload = SimpleUploadedFile("staff.csv", b"a@school.example,A,One,\n" * (TWENTY_MB // 24))

    response = client.post(reverse("staff:import"), {"file": upload})

    assertContains(response, "<h1>Request too large</h1>", status_code=413, html=True)
    assertContains(
        response, f"at most {filesizeformat(settings.STAFF_IMPORT_MAX_BYTES)}", status_code=413
    )
    assertContains(
        response,
        (
            '<a class="navbar-brand d-flex align-items-center gap-2" href="/">'
            '<img src="/static/img/schoolstaff.svg" alt="" width="28" height="28">schoolstaff</a>'
        ),
        status_code=413,
        html=True,
    )
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert not Staff.objects.filter(email="a@school.example").exists()


@pytest.mark.django_db
def test_the_limit_follows_the_setting(client, settings):
    settings.MAX_REQUEST_BYTES = 1000

    at_limit, _ = post_unread(client, reverse("login"), 1000, "application/x-www-form-urlencoded")
    over_limit, read = post_unread(client, reverse("login"), 1001)

    assert at_limit.status_code == 200  # The login form, with its errors.
    assert over_limit.status_code == 413
    assert not read


@pytest.mark.django_db
@pytest.mark.parametrize("length", ["abc", "-1", "1.5", "1e9", "0x10", "\u0661"])
def test_a_content_length_that_is_no_number_of_bytes_is_a_bad_request(client, length):
    client.raise_request_exception = False

    response = client.generic(
        "POST",
        reverse("login"),
        CONTENT_LENGTH=length,
        CONTENT_TYPE="application/x-www-form-urlencoded",
    )

    assertContains(response, "<h1>Bad request</h1>", status_code=400, html=True)


@pytest.mark.django_db
@pytest.mark.parametrize("length", ["", "0"])
def test_a_missing_or_zero_content_length_is_an_empty_body(client, length):
    response = client.generic(
        "POST",
        reverse("login"),
        CONTENT_LENGTH=length,
        CONTENT_TYPE="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.fixture
def importer(client_as, manager):
    return client_as(manager)


@pytest.mark.django_db
def test_a_manager_can_still_import_a_file(importer):
    upload = SimpleUploadedFile(
        "staff.csv", b"email,first_name,last_name\nnew@school.example,New,Member\n", "text/csv"
    )

    response = importer.post(reverse("staff:import"), {"file": upload})

    assertRedirects(response, reverse("staff:import_preview"))
    assertContains(importer.get(reverse("staff:import_preview")), "staff.csv")


@pytest.mark.django_db
def test_a_file_just_over_the_import_limit_gets_the_forms_message_not_the_413_page(importer):
    upload = SimpleUploadedFile(
        "staff.csv", b"x" * (settings.STAFF_IMPORT_MAX_BYTES + 1), "text/csv"
    )

    response = importer.post(reverse("staff:import"), {"file": upload})

    limit = filesizeformat(settings.STAFF_IMPORT_MAX_BYTES)
    assertContains(response, f"The file is larger than {limit}, the limit.")


# Cookies: the __Host- prefix whenever the site is HTTPS only
# ------------------------------------------------------------------------------
COOKIE_SETTINGS = [
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_DOMAIN",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_PATH",
    "CSRF_COOKIE_DOMAIN",
]


def test_https_only_production_prefixes_its_cookies_with_host():
    cookies = fresh_settings(*COOKIE_SETTINGS, **PRODUCTION, **SMTP, DJANGO_INSECURE_HTTP="0")

    assert cookies["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert cookies["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    # What browsers require of a __Host- cookie, or they drop it.
    for cookie in ("SESSION", "CSRF"):
        assert cookies[f"{cookie}_COOKIE_SECURE"] is True
        assert cookies[f"{cookie}_COOKIE_PATH"] == "/"
        assert cookies[f"{cookie}_COOKIE_DOMAIN"] is None


@pytest.mark.parametrize(
    "environment",
    [{**PRODUCTION, **SMTP, "DJANGO_INSECURE_HTTP": "1"}, {"DJANGO_DEBUG": "1"}],
    ids=["plain HTTP", "debugging"],
)
def test_without_https_cookies_keep_djangos_names(environment):
    cookies = fresh_settings("SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", **environment)

    # A browser would refuse a __Host- cookie sent over plain HTTP.
    assert cookies == {"SESSION_COOKIE_NAME": "sessionid", "CSRF_COOKIE_NAME": "csrftoken"}


@pytest.mark.django_db
def test_signing_in_over_https_sets_host_cookies_that_browsers_keep(
    settings, plain_staff, password
):
    production = fresh_settings(*COOKIE_SETTINGS, **PRODUCTION, **SMTP)
    for name, value in production.items():
        setattr(settings, name, value)
    # Over HTTPS, Django's CSRF check also wants a Referer from the site itself.
    client = Client(enforce_csrf_checks=True, headers={"Referer": "https://testserver/"})

    client.get(reverse("login"), secure=True)
    token = client.cookies["__Host-csrftoken"].value
    response = client.post(
        reverse("login"),
        {"username": plain_staff.email, "password": password, "csrfmiddlewaretoken": token},
        secure=True,
    )

    assert response.status_code == 302
    for name in ("__Host-sessionid", "__Host-csrftoken"):
        cookie = response.cookies[name]
        assert (cookie["secure"], cookie["path"], cookie["domain"]) == (True, "/", "")
    assert "sessionid" not in response.cookies
