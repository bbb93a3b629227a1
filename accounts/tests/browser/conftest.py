"""A real Chromium, driven by Playwright, against the site served by `live_server`.

Without Chromium every browser test is skipped with one reason; with
SCHOOLSTAFF_REQUIRE_BROWSER=1 (as in CI) that is a failure instead. A failing
test leaves a screenshot and the page's HTML in test-results/<test name>/.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect, sync_playwright

from accounts.models import Staff
from accounts.tests.factories import PASSWORD
from two_factor import policy
from two_factor.tests.sessions import give_app, unused_code

CHROMIUM_MISSING = "Chromium not found: browser tests skipped; install the chromium package"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow CI machine, short enough that a stuck test stops by itself.
TIMEOUT_MS = 10_000


def find_chromium():
    """Debian's Chromium, or the one SCHOOLSTAFF_CHROMIUM names; None when there is none."""
    if configured := os.environ.get("SCHOOLSTAFF_CHROMIUM"):
        return configured if os.access(configured, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so that its fixtures can tell it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def pytest_runtest_setup(item):
    # Here rather than in a fixture, so that pytest reports every skip on one line.
    if find_chromium() is None:
        if os.environ.get("SCHOOLSTAFF_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "Chromium not found, and SCHOOLSTAFF_REQUIRE_BROWSER=1 requires the browser "
                "tests: install the chromium package",
                pytrace=False,
            )
        pytest.skip(CHROMIUM_MISSING)


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started once the test database exists.

    Started before it, the server would not share the tests' connection to the
    in-memory database but open connections of its own.
    """
    return live_server


@pytest.fixture(scope="module")
def browser(live_server):
    """Chromium, for one module's tests: the tests after them run without Playwright's loop.

    It starts after the live server and closes before it stops, so that its open
    connections end while the server still shares its database connection.
    """
    # Playwright's sync API keeps an event loop running in this thread. Django
    # then refuses database queries unless told it may, and looks for its
    # connections in a store of their own: give that store the connections the
    # test database was made on, which live_server shares.
    shared_connections = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            for alias, connection in shared_connections.items():
                connections[alias] = connection
            expect.set_options(timeout=TIMEOUT_MS)
            browser = playwright.chromium.launch(
                executable_path=find_chromium(),
                headless=True,
                args=CHROMIUM_ARGS,
                timeout=30_000,
            )
            yield browser
            browser.close()


@pytest.fixture
def new_page(request, browser, live_server, django_db_serialized_rollback):
    """Open a page in a browser of its own (its own cookies) on the live site.

    The database is emptied after each test; the serialized rollback puts back
    what the migrations made, such as the "Staff managers" group.
    """
    contexts = []

    def open_page():
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 800}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return page

    yield open_page
    try:
        # Only this run's failures: what an earlier run left for this test goes.
        folder = Path(
            request.config.rootpath, "test-results", re.sub(r"[^\w.-]+", "_", request.node.name)
        )
        shutil.rmtree(folder, ignore_errors=True)
        if has_failed(request.node):
            save_failure_artifacts(request, folder, [p for c in contexts for p in c.pages])
    finally:
        for context in contexts:
            context.close()


def has_failed(item):
    reports = (getattr(item, f"report_{when}", None) for when in ("setup", "call"))
    return any(report is not None and report.failed for report in reports)


def save_failure_artifacts(request, folder, pages):
    folder.mkdir(parents=True)
    for number, page in enumerate(pages, start=1):
        name = "page" if len(pages) == 1 else f"page-{number}"
        try:
            page.screenshot(path=folder / f"{name}.png", full_page=True)
            (folder / f"{name}.html").write_text(page.content(), encoding="utf-8")
        except Exception as error:  # A crashed page must not hide the test's own failure.
            request.node.warn(pytest.PytestWarning(f"No failure artifacts for {name}: {error}"))


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def sign_in():
    """Sign in through the login form, as a person would, and wait to be let in."""

    def sign_in_as(page, email, password=PASSWORD):
        # Someone the two-factor policy covers has an authenticator app, and types its code.
        staff = Staff.objects.filter(email=email).first()
        app = give_app(staff) if staff and policy.required_for(staff) else None
        page.goto(reverse("login"))
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        if app is not None:
            page.get_by_label("Code").fill(unused_code(app))
            page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        return page

    return sign_in_as


@pytest.fixture
def signed_in(live_server):
    """Sign a page's browser in with a session cookie: the login form has tests of its own."""

    def sign_in_as(page, staff):
        client = Client()
        client.force_login(staff)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )

    return sign_in_as
