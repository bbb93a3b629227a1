"""Security headers, pages that keep to the CSP, production settings and error pages."""

import json
import os
import secrets
import subprocess
import sys
from html.parser import HTMLParser

import django
import pytest
from django.conf import settings
from django.urls import reverse
from pytest_django.asserts import assertContains

from accounts.models import Staff

pytestmark = pytest.mark.django_db

STATIC_FILE = "/static/bootstrap/css/bootstrap.min.css"
UNKNOWN_PAGE = "/no-such-page/"
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "staff.school.example",
    "DJANGO_EMAIL_HOST": "smtp.school.example",
}
SAFE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


def csp_directives(response):
    policy = response.headers["Content-Security-Policy"]
    directives = [directive.split() for directive in policy.split(";") if directive.strip()]
    return {name: values for name, *values in directives}


# Headers on a page, a 404 and a static file
# ------------------------------------------------------------------------------


@pytest.fixture(params=["page", "404", "static file"])
def any_response(request, client):
    url = {"page": reverse("login"), "404": UNKNOWN_PAGE, "static file": STATIC_FILE}
    response = client.get(url[request.param])
    assert response.status_code == {"page": 200, "404": 404, "static file": 200}[request.param]
    return response


def test_content_security_policy_forbids_framing_and_inline_code(any_response):
    directives = csp_directives(any_response)

    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    policy = any_response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_referrer_nosniff_and_opener_headers_are_set(any_response):
    assert any_response.headers["Referrer-Policy"] in SAFE_REFERRER_POLICIES
    assert any_response.headers["X-Content-Type-Options"] == "nosniff"
    assert any_response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize(("url", "status"), [("login", 200), (None, 404)])
def test_pages_may_not_be_framed(client, url, status):
    response = client.get(reverse(url) if url else UNKNOWN_PAGE)

    assert response.status_code == status
    assert response.headers["X-Frame-Options"] == "DENY"


# No inline script or style anywhere in the site's own pages
# ------------------------------------------------------------------------------


class InlineCodeFinder(HTMLParser):
    """Collect what a CSP without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        # A JSON data block (json_script) is never run, so the policy does not govern it.
        if (
            tag == "script"
            and "src" not in attributes
            and attributes.get("type") != "application/json"
        ):
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style":
                self.found.append(f'style="{value}" on <{tag}>')
            if name.startswith("on"):
                self.found.append(f"{name} handler on <{tag}>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}>")


def inline_code_in(response):
    finder = InlineCodeFinder()
    finder.feed(response.content.decode())
    return finder.found


@pytest.fixture
def invited(db):
    return Staff.objects.create_user("ivy@school.example", first_name="Ivy", last_name="Invited")


@pytest.mark.parametrize(
    ("role", "method", "url_name", "status"),
    [
        (None, "get", "login", 200),
        (None, "post", "login", 200),  # With "Invalid email or password."
        (None, "get", "password_reset", 200),
        ("plain", "get", "home", 200),
        ("manager", "get", "staff:list", 200),
        ("manager", "get", "staff:create", 200),
        ("manager", "post", "staff:create", 200),  # With every field's error.
        ("manager", "get", "staff:detail", 200),
        ("manager", "get", "subjects:list", 200),
        ("manager", "post", "subjects:create", 200),
        ("plain", "get", "password_change", 200),
    ],
)
def test_site_pages_have_no_inline_script_or_style(
    client, users_by_role, invited, subject_group, role, method, url_name, status
):
    if role:
        client.force_login(users_by_role[role])
    kwargs = {"pk": invited.pk} if url_name == "staff:detail" else {}
    data = {"username": "someone@school.example", "password": "wrong"} if method == "post" else {}

    response = getattr(client, method)(reverse(url_name, kwargs=kwargs), data)

    assert response.status_code == status
    if method == "post" and role:
        assert response.context["form"].errors
    assert inline_code_in(response) == []


def test_the_inline_code_finder_finds_inline_code():
    class Page:
        content = (
            b'<script>alert(1)</script><style>p{}</style><p style="color:red"></p>'
            b'<a href="javascript:void(0)" onclick="go()">x</a><script src="/s.js"></script>'
        )

    assert inline_code_in(Page) == [
        "inline <script>",
        "<style>",
        'style="color:red" on <p>',
        "javascript: URL on <a>",
        "onclick handler on <a>",
    ]


# Production settings, checked in a fresh process
# ------------------------------------------------------------------------------


def manage(*args, **environment):
    """Run manage.py in a new process with only the given DJANGO_* variables."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_reports_no_issues_in_production():
    result = manage("check", "--deploy", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr


def test_check_deploy_warns_when_https_is_turned_off():
    result = manage("check", "--deploy", **PRODUCTION, DJANGO_INSECURE_HTTP="1")

    assert "accounts.W001" in result.stderr
    assert "DJANGO_INSECURE_HTTP=1" in result.stderr


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_required_variable(missing):
    environment = {name: value for name, value in PRODUCTION.items() if name != missing}

    result = manage("check", **environment)

    assert result.returncode != 0
    assert f"Set {missing}" in result.stderr


PRINT_SETTINGS = """
import json
from django.conf import settings
names = [
    "DEBUG", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE", "X_FRAME_OPTIONS", "SECURE_PROXY_SSL_HEADER",
]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


@pytest.mark.parametrize(
    ("proxy_sets_proto", "proxy_ssl_header"),
    [(None, None), ("1", ["HTTP_X_FORWARDED_PROTO", "https"])],
)
def test_production_settings_are_https_only(proxy_sets_proto, proxy_ssl_header):
    environment = dict(PRODUCTION)
    if proxy_sets_proto:
        environment["DJANGO_PROXY_SETS_X_FORWARDED_PROTO"] = proxy_sets_proto

    result = manage("shell", "--verbosity", "0", "-c", PRINT_SETTINGS, **environment)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_SAMESITE"] in {"Lax", "Strict"}
    assert values["CSRF_COOKIE_SAMESITE"] in {"Lax", "Strict"}
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_PROXY_SSL_HEADER"] == proxy_ssl_header


# Error pages
# ------------------------------------------------------------------------------


def bad_host(client, settings, users_by_role):
    return client.post(
        reverse("password_reset"), {"email": "ada@school.example"}, HTTP_HOST="evil.example"
    )


def forbidden(client, settings, users_by_role):
    client.force_login(users_by_role["plain"])
    return client.get(reverse("staff:create"))


def not_found(client, settings, users_by_role):
    client.force_login(users_by_role["plain"])
    return client.get(UNKNOWN_PAGE)


def too_many_attempts(client, settings, users_by_role):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            reverse("login"), {"username": "plain@school.example", "password": "wrong"}
        )
    return response


def server_error(client, settings, users_by_role):
    settings.ROOT_URLCONF = "accounts.tests.urls_failing"
    client.force_login(users_by_role["plain"])
    client.raise_request_exception = False
    return client.get(reverse("failing"))


@pytest.mark.parametrize(
    ("cause", "status", "heading"),
    [
        (bad_host, 400, "Bad request"),
        (forbidden, 403, "Not allowed"),
        (not_found, 404, "Page not found"),
        (too_many_attempts, 429, "Too many attempts"),
        (server_error, 500, "Something went wrong"),
    ],
)
def test_error_pages_are_styled_and_reveal_nothing(
    client, settings, users_by_role, cause, status, heading
):
    response = cause(client, settings, users_by_role)

    assertContains(response, f"<h1>{heading}</h1>", status_code=status, html=True)
    # The site's layout: its title, navbar and stylesheet.
    assertContains(response, " · schoolstaff</title>", status_code=status)
    assertContains(
        response,
        (
            '<a class="navbar-brand d-flex align-items-center gap-2" href="/">'
            '<img src="/static/img/schoolstaff.svg" alt="" width="28" height="28">schoolstaff</a>'
        ),
        status_code=status,
        html=True,
    )
    assertContains(response, STATIC_FILE, status_code=status)
    content = response.content.decode()
    for leak in ["Traceback", "Django", django.get_version(), "settings", settings.SECRET_KEY]:
        assert leak not in content
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
