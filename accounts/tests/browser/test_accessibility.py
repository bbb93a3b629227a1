"""Every page of the site as assistive technology and small screens meet it.

axe-core audits each page in Chromium; the checks after it cover what axe
leaves to people: one h1, the landmarks, a working skip link, errors tied to
their fields, and a layout that fits a phone.
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from accounts.models import Staff
from accounts.tests.factories import StaffFactory
from accounts.tokens import invitation_token_generator
from subjects.tests.factories import SubjectGroupFactory

pytestmark = pytest.mark.browser

# axe-core goes in through page.evaluate, which the Content-Security-Policy does
# not govern: the pages are audited under the policy they are served with.
AXE = Axe()
BLOCKING_IMPACTS = {"serious", "critical"}
PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 800}


def a_manager():
    staff = StaffFactory(email="manager@school.example", first_name="Mary", last_name="Manager")
    staff.groups.add(Group.objects.get(name="Staff managers"))
    return staff


def as_manager(page, sign_in_as):
    sign_in_as(page, a_manager())


def thirty_staff():
    groups = SubjectGroupFactory.create_batch(3)
    return [StaffFactory(subject_group=groups[n % 3]) for n in range(30)]


def ada():
    return StaffFactory(
        email="ada@school.example",
        first_name="Ada",
        last_name="Lovelace",
        subject_group=SubjectGroupFactory(name="Mathematics"),
    )


def submit(page, button):
    page.get_by_role("button", name=button).click()
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()


def upload(page, text):
    page.get_by_label("CSV file").set_input_files(
        {"name": "staff.csv", "mimeType": "text/csv", "buffer": text.encode()}
    )


def link_for(url_name, staff, token_generator=None):
    """The emailed link to `url_name`; without a token generator, one whose token is wrong."""
    token = token_generator.make_token(staff) if token_generator else "cz4m7q-0123456789abcdef"
    uid = urlsafe_base64_encode(force_bytes(staff.pk))
    return reverse(url_name, kwargs={"uidb64": uid, "token": token})


def invited():
    staff = StaffFactory(email="ivy@school.example", first_name="Ivy", last_name="Ives")
    staff.set_unusable_password()
    staff.save()
    return staff


# Each visit builds its page's data, signs in as needed and opens the page.


def login(page, sign_in_as):
    page.goto(reverse("login"))


def login_with_an_error(page, sign_in_as):
    page.goto(reverse("login"))
    page.get_by_label("Email").fill("nobody@school.example")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Invalid email or password.")).to_be_visible()


def password_reset(page, sign_in_as):
    page.goto(reverse("password_reset"))


def password_reset_done(page, sign_in_as):
    page.goto(reverse("password_reset_done"))


def locked_out(page, sign_in_as):
    member = ada()
    page.goto(reverse("login"))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Email").fill(member.email)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts")


def invitation(page, sign_in_as):
    page.goto(link_for("invitation_accept", invited(), invitation_token_generator))
    expect(page.get_by_role("button", name="Set my password")).to_be_visible()


def invitation_no_longer_valid(page, sign_in_as):
    page.goto(link_for("invitation_accept", invited()))
    expect(page.get_by_text("This invitation no longer works")).to_be_visible()


def password_reset_confirm(page, sign_in_as):
    page.goto(link_for("password_reset_confirm", ada(), default_token_generator))
    expect(page.get_by_role("button", name="Set password")).to_be_visible()


def password_reset_confirm_no_longer_valid(page, sign_in_as):
    page.goto(link_for("password_reset_confirm", ada()))
    expect(page.get_by_text("This link no longer works")).to_be_visible()


def not_found(page, sign_in_as):
    response = page.goto("/no-such-page/")
    assert response.status == 404


def home(page, sign_in_as):
    as_manager(page, sign_in_as)
    page.goto(reverse("home"))


def staff_list_with_only_the_manager(page, sign_in_as):
    as_manager(page, sign_in_as)
    page.goto(reverse("staff:list"))


def staff_list_with_thirty_staff(page, sign_in_as):
    thirty_staff()
    as_manager(page, sign_in_as)
    page.goto(reverse("staff:list"))


def staff_list_searched_for_nobody(page, sign_in_as):
    thirty_staff()
    as_manager(page, sign_in_as)
    page.goto(reverse("staff:list") + "?q=zzzz-nobody")
    expect(page.get_by_text("No staff members match.")).to_be_visible()


def staff_detail(page, sign_in_as):
    member = ada()
    as_manager(page, sign_in_as)
    page.goto(member.get_absolute_url())


def staff_add(page, sign_in_as):
    SubjectGroupFactory(name="Mathematics")
    as_manager(page, sign_in_as)
    page.goto(reverse("staff:create"))


def staff_add_with_errors(page, sign_in_as):
    staff_add(page, sign_in_as)
    submit(page, "Save")


def staff_edit(page, sign_in_as):
    member = ada()
    as_manager(page, sign_in_as)
    page.goto(reverse("staff:update", kwargs={"pk": member.pk}))


def staff_edit_changed_meanwhile(page, sign_in_as):
    staff_edit(page, sign_in_as)
    member = Staff.objects.get(email="ada@school.example")
    member.last_name = "King"
    member.save()  # Someone else saves first.
    page.get_by_label("First name").fill("Augusta")
    submit(page, "Save")
    expect(page.get_by_role("table", name="Current values and yours")).to_be_visible()


def staff_history(page, sign_in_as):
    member = ada()
    member.last_name = "King"
    member.save()
    as_manager(page, sign_in_as)
    page.goto(reverse("staff:history", kwargs={"pk": member.pk}))


def audit_trail(page, sign_in_as):
    member = ada()
    member.last_name = "King"
    member.save()
    as_superuser(page, sign_in_as)
    page.goto(reverse("audit:list"))


def staff_set_password(page, sign_in_as):
    member = ada()
    as_manager(page, sign_in_as)
    page.goto(reverse("staff:set_password", kwargs={"pk": member.pk}))


def staff_delete(page, sign_in_as):
    member = ada()
    as_manager(page, sign_in_as)
    page.goto(reverse("staff:delete", kwargs={"pk": member.pk}))


def staff_deactivate(page, sign_in_as):
    member = ada()
    as_manager(page, sign_in_as)
    page.goto(reverse("staff:deactivate", kwargs={"pk": member.pk}))


def staff_import(page, sign_in_as):
    as_manager(page, sign_in_as)
    page.goto(reverse("staff:import"))


def staff_import_with_errors(page, sign_in_as):
    staff_import(page, sign_in_as)
    upload(page, "email,first_name\nada@school.example,Ada\n")
    submit(page, "Preview")


def staff_import_preview(page, sign_in_as):
    member = ada()
    staff_import(page, sign_in_as)
    upload(
        page,
        "email,first_name,last_name,subject_group\n"
        f"{member.email},Ada,King,Mathematics\n"
        "alan@school.example,Alan,Turing,Mathematics\n",
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("button", name="Import")).to_be_visible()


def staff_import_preview_with_invalid_rows(page, sign_in_as):
    staff_import(page, sign_in_as)
    upload(page, "email,first_name,last_name\nnot-an-email,Dan,Dare\n,Eve,\n")
    submit(page, "Preview")


def subject_list_empty(page, sign_in_as):
    as_manager(page, sign_in_as)
    page.goto(reverse("subjects:list"))


def subject_list_full(page, sign_in_as):
    thirty_staff()
    SubjectGroupFactory.create_batch(12)
    as_manager(page, sign_in_as)
    page.goto(reverse("subjects:list"))


def subject_detail_empty(page, sign_in_as):
    group = SubjectGroupFactory(name="Geography")
    as_manager(page, sign_in_as)
    page.goto(group.get_absolute_url())


def subject_detail_with_members(page, sign_in_as):
    group = SubjectGroupFactory(name="Geography")
    StaffFactory.create_batch(5, subject_group=group)
    StaffFactory(subject_group=group, is_active=False)
    as_manager(page, sign_in_as)
    page.goto(group.get_absolute_url())


def subject_add_with_errors(page, sign_in_as):
    as_manager(page, sign_in_as)
    page.goto(reverse("subjects:create"))
    submit(page, "Save")


def subject_delete(page, sign_in_as):
    group = SubjectGroupFactory(name="Geography")
    StaffFactory.create_batch(2, subject_group=group)
    as_manager(page, sign_in_as)
    page.goto(reverse("subjects:delete", kwargs={"pk": group.pk}))


def password_change(page, sign_in_as):
    as_manager(page, sign_in_as)
    page.goto(reverse("password_change"))


def password_change_with_errors(page, sign_in_as):
    password_change(page, sign_in_as)
    submit(page, "Change password")


def not_allowed_to_plain_staff(page, sign_in_as):
    member = ada()
    sign_in_as(page, StaffFactory(email="plain@school.example"))
    response = page.goto(reverse("staff:update", kwargs={"pk": member.pk}))
    assert response.status == 403


def as_superuser(page, sign_in_as):
    sign_in_as(
        page,
        StaffFactory(
            email="root@school.example",
            first_name="Sam",
            last_name="Super",
            is_staff=True,
            is_superuser=True,
        ),
    )


def admin_index(page, sign_in_as):
    as_superuser(page, sign_in_as)
    page.goto(reverse("admin:index"))


def admin_staff_changelist(page, sign_in_as):
    thirty_staff()
    as_superuser(page, sign_in_as)
    page.goto(reverse("admin:accounts_staff_changelist"))


def admin_staff_change(page, sign_in_as):
    member = ada()
    as_superuser(page, sign_in_as)
    page.goto(reverse("admin:accounts_staff_change", args=[member.pk]))


VISITS = [
    login,
    login_with_an_error,
    password_reset,
    password_reset_done,
    password_reset_confirm,
    password_reset_confirm_no_longer_valid,
    locked_out,
    invitation,
    invitation_no_longer_valid,
    not_found,
    home,
    staff_list_with_only_the_manager,
    staff_list_with_thirty_staff,
    staff_list_searched_for_nobody,
    staff_detail,
    staff_add,
    staff_add_with_errors,
    staff_edit,
    staff_edit_changed_meanwhile,
    staff_history,
    audit_trail,
    staff_set_password,
    staff_delete,
    staff_deactivate,
    staff_import,
    staff_import_with_errors,
    staff_import_preview,
    staff_import_preview_with_invalid_rows,
    subject_list_empty,
    subject_list_full,
    subject_detail_empty,
    subject_detail_with_members,
    subject_add_with_errors,
    subject_delete,
    password_change,
    password_change_with_errors,
    not_allowed_to_plain_staff,
]
each_page = pytest.mark.parametrize("visit", VISITS, ids=[visit.__name__ for visit in VISITS])
# Django's admin has its own layout, landmarks and skip link: axe audits it, the
# checks of our own layout do not apply. Each visit comes with the axe rules it
# skips: violations in Django's own admin code, which we do not patch.
ADMIN_VISITS = [
    (admin_index, []),
    (admin_staff_changelist, []),
    (
        admin_staff_change,
        [
            # SelectFilter2.js (the groups and permissions selectors) puts an
            # aria-label on the plain <span> of each search box's icon.
            "aria-prohibited-attr",
            # admin/widgets/split_datetime.html writes "Date:" and "Time:" as
            # text, not as labels, for "Last login" and "Date joined".
            "label",
        ],
    ),
]


def describe(violations):
    lines = []
    for violation in violations:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return "\n".join(lines)


@each_page
def test_page_has_no_serious_accessibility_violations(page, signed_in, visit):
    visit(page, signed_in)
    page.wait_for_load_state()

    violations = AXE.run(page).response["violations"]

    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{page.url}\n{describe(blocking)}"


@pytest.mark.parametrize(
    ("visit", "skipped_rules"), ADMIN_VISITS, ids=[visit.__name__ for visit, _ in ADMIN_VISITS]
)
def test_admin_page_has_no_serious_accessibility_violations(page, signed_in, visit, skipped_rules):
    visit(page, signed_in)
    page.wait_for_load_state()

    options = {"rules": {rule: {"enabled": False} for rule in skipped_rules}}
    violations = AXE.run(page, options=options).response["violations"]

    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{page.url}\n{describe(blocking)}"


@each_page
def test_page_has_one_h1_landmarks_and_a_skip_link_to_main(page, signed_in, visit):
    visit(page, signed_in)

    expect(page.locator("h1")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Main")).to_have_count(1)
    first_focusable = page.evaluate(
        """() => [...document.querySelectorAll(
            'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]'
        )].find(element => element.tabIndex >= 0)?.textContent.trim()"""
    )
    assert first_focusable == "Skip to main content"

    skip_link = page.get_by_role("link", name="Skip to main content")
    skip_link.focus()
    expect(skip_link).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()


def test_skip_link_is_the_first_stop_of_the_tab_key(page, signed_in):
    home(page, signed_in)

    page.keyboard.press("Tab")

    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()


@pytest.mark.parametrize("visit", [staff_add_with_errors, staff_import_with_errors])
def test_errors_of_a_form_are_tied_to_their_fields(page, signed_in, visit):
    visit(page, signed_in)

    invalid_fields = page.locator("form :is(input, select, textarea).is-invalid").all()
    assert invalid_fields
    for field in invalid_fields:
        field_id = field.get_attribute("id")
        error = page.locator(f"#div_{field_id} .invalid-feedback").inner_text().strip()
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(re.compile(re.escape(error)))


LAYOUT_VISITS = [home, staff_list_with_thirty_staff, staff_add, subject_list_full]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("visit", LAYOUT_VISITS, ids=[v.__name__ for v in LAYOUT_VISITS])
def test_page_fits_the_screen_without_horizontal_scrolling(page, signed_in, visit, viewport):
    page.set_viewport_size(viewport)
    visit(page, signed_in)
    page.wait_for_load_state()

    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )

    assert scroll_width <= inner_width


def test_navbar_collapses_to_a_menu_button_on_a_phone(page, signed_in):
    page.set_viewport_size(PHONE)
    home(page, signed_in)
    page.wait_for_load_state()
    navbar = page.get_by_role("navigation", name="Main")
    data_maintenance = navbar.get_by_role("button", name="Data maintenance")
    log_out = navbar.get_by_role("button", name="Log out")
    expect(data_maintenance).to_be_hidden()
    expect(log_out).to_be_hidden()

    menu_button = navbar.get_by_role("button", name="Toggle navigation")
    menu_button.click()

    expect(menu_button).to_have_attribute("aria-expanded", "true")
    expect(data_maintenance).to_be_visible()
    expect(log_out).to_be_visible()
