"""Transactions per request, the health check and the page shown without a database."""

import io
import json
import logging
import re
import subprocess
import sys

import pytest
from django.db import OperationalError
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from schoolstaff import views
from schoolstaff.log import ClientErrorFilter, JSONFormatter, OneLineFormatter
from schoolstaff.secret_key import local_secret_key
from subjects.models import SubjectGroup


@pytest.fixture
def probe_client(settings, client_as, plain_staff):
    settings.ROOT_URLCONF = "schoolstaff.tests.urls_probe"
    client = client_as(plain_staff)
    client.raise_request_exception = False
    return client


# One transaction for each request that changes something
# ------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_request_that_fails_after_writing_leaves_nothing_written(probe_client):
    response = probe_client.post("/write-then-fail/")

    assert response.status_code == 500
    assert not SubjectGroup.objects.filter(name="Written before the error").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    ("method", "expected"),
    [("get", "autocommit"), ("post", "in a transaction"), ("delete", "in a transaction")],
)
def test_only_requests_that_may_write_run_in_a_transaction(probe_client, method, expected):
    # A reading request in a transaction would hold SQLite's write lock.
    response = getattr(probe_client, method)("/transaction/")

    assert response.content.decode() == expected


# /healthz
# ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_health_check_answers_without_sign_in_and_reveals_nothing_more(client, settings):
    settings.REDIS_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert json.loads(response.content) == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.django_db
def test_health_check_is_503_when_the_database_does_not_answer(
    client, settings, monkeypatch, caplog
):
    settings.REDIS_URL = ""

    def refuse():
        raise OperationalError("could not connect to server: secret detail")

    monkeypatch.setattr(views, "_query_database", refuse)

    with caplog.at_level(logging.WARNING, logger="schoolstaff.views"):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert json.loads(response.content) == {
        "status": "unavailable",
        "checks": {"database": "unavailable"},
    }
    assert "secret detail" not in response.content.decode()
    assert "Health check failed: database" in caplog.text


@pytest.mark.django_db
def test_health_check_includes_the_shared_cache_when_redis_is_configured(
    client, settings, monkeypatch
):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert json.loads(client.get("/healthz").content)["checks"]["cache"] == "ok"

    monkeypatch.setattr(views.cache, "get", lambda key: None)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"] == {"database": "ok", "cache": "unavailable"}


@pytest.mark.django_db
def test_health_check_changes_nothing(client):
    assert client.post("/healthz").status_code == 405


# No database: 503, not a server error
# ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_losing_the_database_shows_the_503_page_without_details(probe_client):
    response = probe_client.get("/database-gone/")

    assertContains(response, "Temporarily unavailable", status_code=503)
    assert response["Retry-After"] == "30"
    for detail in ("secret detail", "5432", "OperationalError", "Traceback"):
        assertNotContains(response, detail, status_code=503)


# Logs
# ------------------------------------------------------------------------------
def failed_request_record():
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        record = logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Server error: %s",
            ("/staff/",),
            sys.exc_info(),
        )
    record.status_code = 500
    return record


def test_json_logs_are_one_object_a_line_with_the_traceback():
    line = JSONFormatter().format(failed_request_record())

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "django.request"
    assert entry["message"] == "Server error: /staff/"
    assert entry["status"] == 500
    assert "ValueError: first line\nsecond line" in entry["exception"]


def test_text_logs_are_one_line_an_event():
    line = OneLineFormatter("%(levelname)s %(name)s %(message)s").format(failed_request_record())

    assert "\n" not in line
    assert line.startswith("ERROR django.request Server error: /staff/\\nTraceback")


# Settings from the environment
# ------------------------------------------------------------------------------
def settings_with(**environment):
    """The settings module as a fresh process reads it with these variables."""
    code = (
        "import json, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'schoolstaff.settings');"
        "from django.conf import settings;"
        "print(json.dumps({'db': settings.DATABASES['default'], 'caches': settings.CACHES,"
        " 'session': settings.SESSION_ENGINE, 'logging': settings.LOGGING,"
        " 'secret_key': settings.SECRET_KEY}, default=str))"
    )
    # A key, or a key file outside the checkout: a test never writes into it.
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": "for-these-tests-" + "x" * 40,
        **environment,
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_sqlite_waits_for_writers_instead_of_failing():
    database = settings_with(DATABASE_URL="sqlite:////tmp/schoolstaff.sqlite3")["db"]

    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["timeout"] == 20


def test_postgresql_keeps_connections_and_checks_them_before_reuse():
    database = settings_with(DATABASE_URL="postgres://postgres@127.0.0.1:5432/schoolstaff")["db"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True


def test_redis_url_makes_redis_the_cache_and_keeps_sessions_in_the_database_too():
    configured = settings_with(REDIS_URL="redis://127.0.0.1:6379/1")
    assert configured["caches"]["default"]["BACKEND"].endswith("RedisCache")
    assert configured["session"] == "django.contrib.sessions.backends.cached_db"

    default = settings_with()
    assert default["caches"]["default"]["BACKEND"].endswith("LocMemCache")
    assert default["session"] == "django.contrib.sessions.backends.db"


def test_log_format_comes_from_the_environment():
    handler = settings_with(DJANGO_LOG_FORMAT="json")["logging"]["handlers"]["stdout"]
    assert handler["formatter"] == "json"
    with pytest.raises(subprocess.CalledProcessError):
        settings_with(DJANGO_LOG_FORMAT="xml")


def test_the_development_key_is_made_once_per_machine_and_kept_private(tmp_path):
    path = tmp_path / ".secret_key"

    key = local_secret_key(path)

    assert len(key) >= 50
    assert local_secret_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600
    assert local_secret_key(tmp_path / "another") != key


def test_debugging_without_a_key_uses_the_machines_own(tmp_path):
    # The settings read DJANGO_SECRET_KEY first; without it, the machine's key file.
    configured = settings_with(DJANGO_SECRET_KEY="from-the-environment-" + "x" * 40)
    assert configured["secret_key"] == "from-the-environment-" + "x" * 40

    key_file = tmp_path / ".secret_key"
    from_file = settings_with(DJANGO_SECRET_KEY="", DJANGO_SECRET_KEY_FILE=str(key_file))
    assert from_file["secret_key"] == local_secret_key(key_file)


def test_a_refused_request_logs_one_short_line_without_a_traceback(client_as, plain_staff, ada):
    handler = logging.getLogger("django").handlers[0]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        response = client_as(plain_staff).get(reverse("staff:update", kwargs={"pk": ada.pk}))
    finally:
        handler.setStream(previous)

    assert response.status_code == 403
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(
        f"WARNING django.request Forbidden (Permission denied): /staff/{ada.pk}/edit/"
    )


def test_a_server_error_still_logs_its_traceback():
    record = failed_request_record()

    assert ClientErrorFilter().filter(record)
    assert record.exc_info is not None


@pytest.mark.django_db
def test_the_documented_healthz_example_is_what_a_default_install_answers(client, settings):
    settings.REDIS_URL = ""
    readme = (settings.BASE_DIR / "docs" / "deploying.md").read_text()
    example = re.search(r"`GET /healthz` needs no sign-in and answers\s+`(\{.*?\})`", readme, re.S)

    assert example is not None
    assert client.get("/healthz").json() == json.loads(example.group(1))
