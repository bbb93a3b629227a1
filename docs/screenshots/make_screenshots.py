"""Take the README's screenshots of the site, serving demo data from a throwaway database.

Run from anywhere with the project's Python (`make screenshots`): it migrates a
temporary SQLite database, fills it with `seed_demo`, serves it on a free port
of 127.0.0.1, and saves each page at desktop and phone widths, as
docs/screenshots/<page>-<desktop|phone>.png, in Debian's Chromium (or the one
SCHOOLSTAFF_CHROMIUM names). The demo manager signs in with an authenticator app,
whose codes the script computes from the app's key, as the phone would.
"""

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django_otp.oath import hotp
from playwright.sync_api import expect, sync_playwright

PROJECT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent
# Viewport-sized shots at one device pixel per CSS pixel keep each file small.
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 740}}
MANAGER_SIGN_IN = re.compile(r"sign in as (?P<email>\S+) with the password (?P<password>\S+)")
TIMEOUT_MS = 15_000


# The plain member of the throwaway demo database signs in with a password made for the run;
# the demo manager has an authenticator app and recovery codes, so that the second step and
# the security page show. Printed: the member's email, then the app's key in hexadecimal.
MEMBER_PASSWORD = secrets.token_urlsafe(24)
PREPARE_ACCOUNTS = """
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.models import Staff
from two_factor import factors
member = Staff.objects.filter(is_staff=False, groups=None, subject_group__isnull=False).first()
member.set_password({password!r})
member.save()
manager = Staff.objects.get(email={manager!r})
app = TOTPDevice.objects.create(user=manager, name=factors.APP_NAME, confirmed=True)
factors.generate_recovery_codes(manager, request=None)
print(member.email)
print(app.key)
"""


def manage(*args, env):
    """Run a manage.py command; return what it printed."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url, server, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"The development server stopped (exit status {server.returncode}).")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"The development server did not answer at {url} within {seconds} seconds.")


def find_chromium():
    chromium = os.environ.get("SCHOOLSTAFF_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        sys.exit("Chromium not found: install the chromium package, or set SCHOOLSTAFF_CHROMIUM.")
    return chromium


def save(page, name):
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, animations="disabled")
    print(f"{path.relative_to(PROJECT)}: {path.stat().st_size // 1024} KB")


class AuthenticatorApp:
    """The demo manager's app: the code it shows now, each code typed once (as django-otp asks)."""

    def __init__(self, hex_key):
        self.key = bytes.fromhex(hex_key)
        self.last_step = None

    def code(self):
        step = int(time.time()) // 30
        if self.last_step is not None and step <= self.last_step:
            step = self.last_step + 1  # Within the tolerance of one step.
        self.last_step = step
        return f"{hotp(self.key, step):06d}"


def take_screenshots(browser, base_url, email, password, member, app):
    for width_name, viewport in VIEWPORTS.items():
        context = browser.new_context(base_url=base_url, viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(member)
        page.get_by_label("Password").fill(MEMBER_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=2, name="Your details")).to_be_visible()
        save(page, f"home-member-{width_name}")

        page.goto("/accounts/security/app/")
        expect(page.locator("figure.qr-code svg")).to_be_visible()
        save(page, f"setup-app-{width_name}")
        context.close()

        context = browser.new_context(base_url=base_url, viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)

        page.goto("/accounts/login/")
        save(page, f"login-{width_name}")

        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Second step")
        save(page, f"second-step-{width_name}")

        page.get_by_label("Code").fill(app.code())
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Morgan")
        save(page, f"home-{width_name}")

        page.goto("/staff/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Staff")
        save(page, f"staff-list-{width_name}")

        page.goto("/staff/add/")
        page.get_by_label("Email").fill("not-an-email")
        page.get_by_label("First name").fill("Ada")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".invalid-feedback").first).to_be_visible()
        save(page, f"staff-form-with-errors-{width_name}")

        page.goto("/subjects/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Subject groups")
        save(page, f"subject-groups-{width_name}")

        page.goto("/staff/import/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Import staff")
        save(page, f"staff-import-{width_name}")

        page.goto("/accounts/security/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Security")
        page.wait_for_load_state()  # The passkey script has then put in its button.
        save(page, f"security-{width_name}")

        context.close()


def main():
    with tempfile.TemporaryDirectory(prefix="schoolstaff-screenshots-") as folder:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/db.sqlite3"}
        manage("migrate", "--noinput", env=env)
        seeded = manage(
            "seed_demo", "--staff", "200", "--groups", "12", "--manager", "--seed", "1", env=env
        )
        manager = MANAGER_SIGN_IN.search(seeded)
        if not manager:
            sys.exit(f"seed_demo printed no sign-in for the demo manager:\n{seeded}")
        # A plain member, for the home page as most people see it.
        prepare = PREPARE_ACCOUNTS.format(password=MEMBER_PASSWORD, manager=manager["email"])
        member, app_key = manage("shell", "--command", prepare, env=env).splitlines()[-2:]
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_serving(f"{base_url}/accounts/login/", server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=find_chromium(), args=["--no-sandbox", "--disable-gpu"]
                )
                take_screenshots(
                    browser,
                    base_url,
                    manager["email"],
                    manager["password"],
                    member,
                    AuthenticatorApp(app_key),
                )
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
