"""Two-factor sign-in in Chromium: setting up an app, the second step, the security page.

Every new page is audited by axe, under the site's Content-Security-Policy, which
must report no violation (the QR code is inline SVG without style attributes).
"""

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, StaffFactory
from two_factor.factors import generate_recovery_codes
from two_factor.tests.sessions import give_app, unused_code

pytestmark = pytest.mark.browser

AXE = Axe()
BLOCKING_IMPACTS = {"serious", "critical"}
# Collects CSP violations, which the console does not always report.
CSP_WATCH = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", event => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(autouse=True)
def _no_throttle_between_codes(settings):
    # django-otp refuses every code for a second after a wrong one: people wait that long.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def watched_page(page):
    page.add_init_script(CSP_WATCH)
    return page


def type_password(page, staff):
    page.goto(reverse("login"))
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def assert_accessible_under_the_csp(page):
    page.wait_for_load_state()
    violations = AXE.run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{page.url}\n" + "\n".join(
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']]}" for v in blocking
    )
    assert page.evaluate("window.cspViolations") == []
    expect(page.locator("h1")).to_have_count(1)


def test_an_administrator_sets_up_an_app_then_signs_in_with_its_code(watched_page, superuser):
    page, staff = watched_page, superuser

    type_password(page, staff)
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    assert_accessible_under_the_csp(page)
    page.get_by_role("textbox", name="Code").fill("123")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("That code is not valid.")).to_be_visible()
    assert_accessible_under_the_csp(page)
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    page.get_by_role("textbox", name="Code").fill(unused_code(device))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(
        10
    )
    assert_accessible_under_the_csp(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as a text file").click()
    assert "Recovery codes for root@school.example" in Path(download.value.path()).read_text()
    page.get_by_role("link", name="I have kept them: done").click()
    expect(page.get_by_role("heading", name="Security")).to_be_visible()
    assert_accessible_under_the_csp(page)

    page.get_by_role("button", name="Log out").click()
    type_password(page, staff)
    expect(page.get_by_role("heading", name="Second step")).to_be_visible()
    assert_accessible_under_the_csp(page)
    page.get_by_role("textbox", name="Code").fill(
        "000000" if unused_code(device) != "000000" else "111111"
    )
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not valid.")).to_be_visible()
    assert_accessible_under_the_csp(page)
    page.get_by_role("textbox", name="Code").fill(unused_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto(reverse("admin:index"))
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def test_the_security_page_by_keyboard(page, sign_in, superuser):
    staff = superuser
    sign_in(page, staff.email)
    generate_recovery_codes(staff, request=None)
    page.goto(reverse("two_factor:security"))

    # From the skip link, the tab key reaches the button that makes new recovery codes.
    page.get_by_role("link", name="Skip to main content").focus()
    page.keyboard.press("Enter")
    button = page.get_by_role("button", name="Make new recovery codes")
    for _ in range(20):
        page.keyboard.press("Tab")
        if button.evaluate("element => element === document.activeElement"):
            break
    expect(button).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()


def test_removal_and_reset_pages_are_accessible(watched_page, sign_in, superuser):
    page = watched_page
    plain = StaffFactory(email="pat@school.example", first_name="Pat", last_name="Plain")
    give_app(plain)

    sign_in(page, superuser.email)
    page.goto(reverse("staff:detail", kwargs={"pk": plain.pk}))
    page.get_by_role("link", name="Reset second factors").click()
    expect(
        page.get_by_role("heading", name="Reset the second factors of Pat Plain?")
    ).to_be_visible()
    assert_accessible_under_the_csp(page)
    page.get_by_role("button", name="Log out").click()

    type_password(page, plain)
    page.get_by_role("textbox", name="Code").fill(unused_code(give_app(plain)))
    page.get_by_role("button", name="Verify").click()
    page.goto(reverse("two_factor:security"))
    assert_accessible_under_the_csp(page)
    page.get_by_role("link", name="Remove the authenticator app").click()
    expect(page.get_by_role("heading", name="Remove the authenticator app?")).to_be_visible()
    assert_accessible_under_the_csp(page)


# Passkeys, with Chromium's virtual authenticator (resident keys, user verification)
# ------------------------------------------------------------------------------


@pytest.fixture
def passkey_site(settings, live_server):
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]


@pytest.fixture
def authenticator(watched_page, passkey_site):
    """A platform authenticator that holds passkeys and verifies its user."""
    cdp = watched_page.context.new_cdp_session(watched_page)
    cdp.send("WebAuthn.enable")
    authenticator_id = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]

    def present(enabled):
        """Whether the person touches the authenticator as soon as it asks."""
        cdp.send(
            "WebAuthn.setAutomaticPresenceSimulation",
            {"authenticatorId": authenticator_id, "enabled": enabled},
        )

    return present


def add_passkey(page, name):
    page.goto(reverse("two_factor:security"))
    page.get_by_label("Name of the new passkey").fill(name)
    page.wait_for_load_state()
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text(f"Passkey “{name}” added.")).to_be_visible()


def test_a_passkey_added_from_the_security_page_signs_in_alone(
    watched_page, authenticator, sign_in, superuser
):
    page, staff = watched_page, superuser
    sign_in(page, staff.email)

    add_passkey(page, "Work laptop")
    assert WebAuthnCredential.objects.get(user=staff).name == "Work laptop"
    expect(page.get_by_text("Work laptop", exact=True)).to_be_visible()
    assert_accessible_under_the_csp(page)
    page.get_by_role("button", name="Log out").click()

    # Not touched yet: the login page must not sign in by itself before the button is used.
    authenticator(False)
    page.goto(reverse("login"))
    button = page.get_by_role("button", name="Sign in with a passkey")
    expect(button).to_be_visible()
    assert_accessible_under_the_csp(page)
    authenticator(True)
    page.wait_for_load_state()
    button.click()

    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto(reverse("admin:index"))
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    assert page.evaluate("window.cspViolations") == []


def test_a_passkey_can_be_the_second_step_after_the_password(
    watched_page, authenticator, sign_in, superuser
):
    page, staff = watched_page, superuser
    sign_in(page, staff.email)
    add_passkey(page, "Phone")
    page.get_by_role("button", name="Log out").click()
    authenticator(False)

    type_password(page, staff)
    expect(page.get_by_role("heading", name="Second step")).to_be_visible()
    authenticator(True)
    page.wait_for_load_state()  # The library's script has then given the button its handler.
    page.get_by_role("button", name="Use a passkey").click()

    # The site's menus come back once the second step is passed.
    expect(page.get_by_role("link", name="Security")).to_be_visible()
    page.goto(reverse("admin:index"))
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
