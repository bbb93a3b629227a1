"""The site as people use it: journeys through a real browser, with clicks and typing."""

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Staff
from accounts.tests.factories import NEW_PASSWORD, PASSWORD

pytestmark = pytest.mark.browser

SET_PASSWORD = "Quiet-Meadow-Compass-8812"


def at(path):
    """Match the page's address by its path, with or without a query string."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}(\?.*)?$")


def navbar(page):
    return page.get_by_role("navigation", name="Main")


def open_data_maintenance(page):
    # The menu needs Bootstrap's script, which runs once the page has loaded.
    page.wait_for_load_state()
    navbar(page).get_by_role("button", name="Data maintenance").click()
    menu = navbar(page).locator(".dropdown-menu")
    expect(menu).to_be_visible()
    return menu


def expect_message(page, text):
    expect(page.get_by_role("alert").filter(has_text=text)).to_be_visible()


def csv_file(text):
    """A CSV file as the file chooser hands it to the page, made in memory."""
    return {"name": "staff.csv", "mimeType": "text/csv", "buffer": text.encode()}


def expect_count(page, label, count):
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label, exact=True))
    expect(row.get_by_role("cell")).to_have_text(str(count))


def log_in_as(page, email, password):
    """Submit the login form and return the response to it."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)

    # Not the passkey script's own POST, which the login page may send meanwhile.
    def the_forms(response):
        return response.request.method == "POST" and urlsplit(response.url).path == reverse("login")

    with page.expect_response(the_forms) as answer:
        page.get_by_role("button", name="Log in").click()
    return answer.value


def test_signed_out_visitor_sees_only_log_in_and_returns_to_the_protected_page(page, manager):
    page.goto(reverse("home"))

    expect(page).to_have_url(at(reverse("login")))
    expect(navbar(page).get_by_role("link", name="Log in")).to_be_visible()
    for name in ("Data maintenance", "Log out"):
        expect(navbar(page).get_by_role("button", name=name)).to_have_count(0)
    for name in ("Change password", "Admin"):
        expect(navbar(page).get_by_role("link", name=name)).to_have_count(0)

    page.goto(reverse("staff:list"))
    expect(page).to_have_url(at(reverse("login")))
    expect_message(page, "You must be logged in to access this page.")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(at(reverse("staff:list")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff")


def test_wrong_password_is_refused_and_the_right_one_signs_in_whatever_the_emails_case(
    page, manager
):
    page.goto(reverse("login"))
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill("not-the-right-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_text("Invalid email or password.")).to_be_visible()
    expect(page).to_have_url(at(reverse("login")))

    page.get_by_label("Email").fill("  Manager@SCHOOL.Example  ")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(at(reverse("home")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Mary")
    expect(page.get_by_role("main")).to_contain_text("manager@school.example")


def test_data_maintenance_menu_opens_with_the_mouse_and_the_keyboard(page, sign_in, plain_staff):
    sign_in(page, plain_staff.email)
    toggle = navbar(page).get_by_role("button", name="Data maintenance")
    menu = navbar(page).locator(".dropdown-menu")
    expect(menu).to_be_hidden()

    open_data_maintenance(page).get_by_role("link", name="Subject groups").click()
    expect(page).to_have_url(at(reverse("subjects:list")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Subject groups")

    page.wait_for_load_state()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(toggle).to_be_focused()

    page.keyboard.press("ArrowDown")
    expect(menu).to_be_visible()
    staff_link = menu.get_by_role("link", name="Staff")
    expect(staff_link).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("link", name="Subject groups")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(staff_link).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(at(reverse("staff:list")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff")


def test_manager_adds_finds_edits_sets_the_password_of_and_deletes_a_staff_member(
    page, sign_in, manager
):
    sign_in(page, manager.email)

    # A subject group first.
    open_data_maintenance(page).get_by_role("link", name="Subject groups").click()
    page.get_by_role("link", name="Add subject group").click()
    page.get_by_label("Name").fill("Geography")
    page.get_by_role("button", name="Save").click()
    expect_message(page, "Subject group Geography created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Geography")

    # Then a member of it, with a first password typed in: no invitation.
    page.get_by_role("link", name="Add staff member").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add staff member")
    page.get_by_label("Email").fill("gina.grey@school.example")
    page.get_by_label("First name").fill("Gina")
    page.get_by_label("Last name").fill("Grey")
    page.get_by_label("Subject group").select_option(label="Geography")
    page.get_by_label("Password", exact=True).fill(SET_PASSWORD)
    page.get_by_label("Password confirmation").fill(SET_PASSWORD)
    page.get_by_role("button", name="Save").click()
    expect_message(page, "Staff member Gina Grey created.")
    expect(page.get_by_text("An invitation was emailed")).to_have_count(0)

    # Found through the search box.
    open_data_maintenance(page).get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff")
    page.get_by_label("Search names and emails").fill("gina gr")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"\?.*q=gina\+gr"))
    rows = page.get_by_role("row").filter(has_text="gina.grey@school.example")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Geography")
    rows.get_by_role("link", name="Gina", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gina Grey")

    # Edited.
    page.get_by_role("link", name="Edit Gina Grey").click()
    page.get_by_label("Last name").fill("Green")
    page.get_by_role("button", name="Save").click()
    expect_message(page, "Staff member Gina Green updated.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gina Green")

    # A new password set.
    page.get_by_role("link", name="Set password for Gina Green").click()
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect_message(page, "Password set for Gina Green.")
    gina = Staff.objects.get(email="gina.grey@school.example")
    assert gina.check_password(NEW_PASSWORD)
    assert gina.must_change_password

    # Deleted, through the confirmation page.
    page.get_by_role("link", name="Delete Gina Green").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete Gina Green?")
    page.get_by_role("button", name="Yes, delete").click()
    expect_message(page, "Staff member Gina Green deleted.")
    expect(page).to_have_url(at(reverse("staff:list")))
    expect(page.get_by_text("gina.grey@school.example")).to_have_count(0)
    assert not Staff.objects.filter(email="gina.grey@school.example").exists()


def test_member_changes_their_password_logs_out_and_signs_in_with_the_new_one(page, sign_in, ada):
    sign_in(page, ada.email)

    navbar(page).get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change password")
    page.get_by_label("Old password").fill(PASSWORD)
    page.get_by_label(re.compile(r"New password\W*$")).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password updated")

    navbar(page).get_by_role("button", name="Log out").click()
    expect_message(page, "You have been logged out.")
    expect(navbar(page).get_by_role("link", name="Log in")).to_be_visible()

    page.get_by_label("Email").fill(ada.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Invalid email or password.")).to_be_visible()

    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ada")


def test_plain_staff_see_no_changing_buttons_and_the_edit_page_is_not_allowed(
    page, sign_in, plain_staff, ada
):
    sign_in(page, plain_staff.email)

    open_data_maintenance(page).get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff")
    main = page.get_by_role("main")
    expect(main.get_by_role("row").filter(has_text="ada@school.example")).to_have_count(1)
    for name in ("Add staff member", "Edit", "Delete", "Import CSV", "Export CSV"):
        expect(main.get_by_role("link", name=name)).to_have_count(0)

    main.get_by_role("link", name="Ada", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    for name in ("Edit", "Set password", "Delete", "Deactivate"):
        expect(main.get_by_role("link", name=name)).to_have_count(0)

    response = page.goto(reverse("staff:update", kwargs={"pk": ada.pk}))
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    assert Staff.objects.get(pk=ada.pk).last_name == "Lovelace"


def test_manager_deactivates_a_member_through_the_confirmation_page(page, sign_in, manager, ada):
    sign_in(page, manager.email)
    page.goto(ada.get_absolute_url())

    page.get_by_role("link", name="Deactivate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deactivate Ada Lovelace?")
    page.get_by_role("button", name="Yes, deactivate").click()

    expect_message(page, "Staff member Ada Lovelace deactivated.")
    expect(page).to_have_url(at(ada.get_absolute_url()))
    expect(page.get_by_role("main").locator("dd").filter(has_text="Inactive")).to_be_visible()
    expect(page.get_by_role("link", name="Reactivate")).to_be_visible()
    assert not Staff.objects.get(pk=ada.pk).is_active


def test_member_whose_password_a_manager_set_must_choose_their_own_after_signing_in(
    new_page, sign_in, manager, ada
):
    managers_page = sign_in(new_page(), manager.email)
    managers_page.goto(reverse("staff:set_password", kwargs={"pk": ada.pk}))
    managers_page.get_by_label("Password", exact=True).fill(SET_PASSWORD)
    managers_page.get_by_label("Password confirmation").fill(SET_PASSWORD)
    managers_page.get_by_role("button", name="Set password").click()
    expect_message(managers_page, "Password set for Ada Lovelace.")

    adas_page = sign_in(new_page(), ada.email, SET_PASSWORD)
    expect(adas_page).to_have_url(at(reverse("password_change")))
    expect_message(adas_page, "Your password was set by someone else. Please choose your own now.")

    adas_page.goto(reverse("staff:list"))
    expect(adas_page).to_have_url(at(reverse("password_change")))
    adas_page.get_by_label("Old password").fill(SET_PASSWORD)
    adas_page.get_by_label(re.compile(r"New password\W*$")).fill(NEW_PASSWORD)
    adas_page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    adas_page.get_by_role("button", name="Change password").click()
    expect(adas_page.get_by_role("heading", level=1)).to_have_text("Password updated")

    adas_page.goto(reverse("staff:list"))
    expect(adas_page.get_by_role("heading", level=1)).to_have_text("Staff")


def test_manager_imports_a_csv_file_after_checking_its_preview(
    page, sign_in, manager, ada, subject_group
):
    sign_in(page, manager.email)
    open_data_maintenance(page).get_by_role("link", name="Staff").click()
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import staff")

    page.get_by_label("CSV file").set_input_files(
        csv_file(
            "email,first_name,last_name,subject_group\n"
            "ada@school.example,Ada,King,Mathematics\n"
            "alan.turing@school.example,Alan,Turing,Mathematics\n"
        )
    )
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Import staff: preview")
    expect(page.get_by_role("main")).to_contain_text("From staff.csv")
    expect_count(page, "Staff to create", 1)
    expect_count(page, "Staff to update", 1)
    expect_count(page, "Unchanged", 0)
    assert not Staff.objects.filter(email="alan.turing@school.example").exists()

    page.get_by_role("button", name="Import").click()

    expect_message(page, "Staff imported: 1 created, 1 updated, 0 unchanged.")
    expect(page).to_have_url(at(reverse("staff:list")))
    alan = page.get_by_role("row").filter(has_text="alan.turing@school.example")
    expect(alan).to_contain_text("Invited")
    expect(alan).to_contain_text("Mathematics")
    expect(page.get_by_role("row").filter(has_text="ada@school.example")).to_contain_text("King")


def test_file_with_an_invalid_row_shows_its_line_and_reason_and_cannot_be_imported(
    page, sign_in, manager
):
    sign_in(page, manager.email)
    page.goto(reverse("staff:list"))
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(
        csv_file(
            "email,first_name,last_name\n"
            "carol.clark@school.example,Carol,Clark\n"
            "not-an-email,Dan,Dare\n"
        )
    )
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Import staff: preview")
    expect_message(page, "1 problem: nothing can be imported until the file is corrected.")
    problems = page.get_by_role("row").filter(has=page.get_by_role("cell", name="3", exact=True))
    expect(problems).to_contain_text("“not-an-email” is not a valid email address.")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    page.get_by_role("link", name="Upload a corrected file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import staff")
    assert not Staff.objects.filter(email="carol.clark@school.example").exists()


def test_invited_member_chooses_a_password_through_the_emailed_link_which_then_stops_working(
    new_page, sign_in, manager, mailoutbox
):
    managers_page = sign_in(new_page(), manager.email)
    managers_page.goto(reverse("staff:list"))
    managers_page.get_by_role("link", name="Add staff member").click()
    managers_page.get_by_label("Email").fill("ivy.ives@school.example")
    managers_page.get_by_label("First name").fill("Ivy")
    managers_page.get_by_label("Last name").fill("Ives")
    managers_page.get_by_role("button", name="Save").click()
    expect_message(managers_page, "Staff member Ivy Ives created.")
    expect_message(managers_page, "An invitation was emailed to ivy.ives@school.example.")

    (invitation,) = [email for email in mailoutbox if email.to == ["ivy.ives@school.example"]]
    link = re.search(r"https?://\S+/accounts/invite/\S+/", invitation.body).group()

    ivys_page = new_page()
    ivys_page.goto(link)
    expect(ivys_page.get_by_role("heading", level=1)).to_have_text("Welcome to schoolstaff")
    ivys_page.get_by_label(re.compile(r"New password\W*$")).fill(NEW_PASSWORD)
    ivys_page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    ivys_page.get_by_role("button", name="Set my password").click()

    expect(ivys_page).to_have_url(at(reverse("home")))
    expect_message(ivys_page, "Welcome! Your password is set and you are signed in.")
    expect(ivys_page.get_by_role("heading", level=1)).to_have_text("Welcome, Ivy")
    assert Staff.objects.get(email="ivy.ives@school.example").check_password(NEW_PASSWORD)

    ivys_page.goto(link)
    expect(ivys_page.get_by_role("heading", level=1)).to_have_text(
        "This invitation no longer works"
    )
    expect(ivys_page.get_by_label("New password confirmation")).to_have_count(0)


def test_five_wrong_passwords_lock_the_email_and_then_the_right_one_is_refused_too(
    page, ada, mailoutbox
):
    page.goto(reverse("login"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in_as(page, ada.email, "not-the-right-password").status == 200
        expect(page.get_by_text("Invalid email or password.")).to_be_visible()

    assert log_in_as(page, ada.email, "not-the-right-password").status == 429

    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts")
    expect(page.get_by_role("main")).to_contain_text(
        "Signing in is blocked for 15 minutes after too many failed attempts."
    )
    assert [email.subject for email in mailoutbox if email.to == [ada.email]] == [
        "Your schoolstaff account was locked"
    ]

    page.goto(reverse("login"))
    assert log_in_as(page, ada.email, PASSWORD).status == 429
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts")
    expect(navbar(page).get_by_role("link", name="Log in")).to_be_visible()
    expect(navbar(page).get_by_role("button", name="Log out")).to_have_count(0)


def test_two_managers_edit_the_same_member_and_the_second_sees_the_first_ones_change(
    new_page, sign_in, manager, superuser, ada, subject_group
):
    first, second = sign_in(new_page(), manager.email), sign_in(new_page(), superuser.email)
    edit_page = reverse("staff:update", kwargs={"pk": ada.pk})
    first.goto(edit_page)
    second.goto(edit_page)

    first.get_by_label("Subject group").select_option(label="Mathematics")
    first.get_by_role("button", name="Save").click()
    expect_message(first, "Staff member Ada Lovelace updated.")

    second.get_by_label("First name").fill("Augusta")
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_text("Someone else changed this record")).to_be_visible()
    table = second.get_by_role("table", name="Current values and yours")
    expect(table.get_by_role("row", name="Subject group")).to_contain_text("Mathematics")
    expect(table.get_by_role("row", name="First name")).to_contain_text("Augusta")
    ada.refresh_from_db()
    assert (ada.first_name, ada.subject_group) == ("Ada", subject_group)

    # Having seen the first change, the second keeps it and saves their own.
    second.get_by_label("Subject group").select_option(label="Mathematics")
    second.get_by_role("button", name="Save").click()
    expect_message(second, "Staff member Augusta Lovelace updated.")
    ada.refresh_from_db()
    assert (ada.first_name, ada.subject_group) == ("Augusta", subject_group)


def test_manager_reads_who_changed_a_members_record_in_their_history(
    page, sign_in, manager, ada, subject_group
):
    sign_in(page, manager.email)
    page.goto(reverse("staff:detail", kwargs={"pk": ada.pk}))
    page.get_by_role("link", name="Edit Ada Lovelace").click()
    page.get_by_label("Subject group").select_option(label="Mathematics")
    page.get_by_role("button", name="Save").click()
    expect_message(page, "Staff member Ada Lovelace updated.")

    page.get_by_role("link", name="History").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("History of Ada Lovelace")
    newest = page.get_by_role("row").nth(1)
    expect(newest).to_contain_text(
        f"{manager.first_name} {manager.last_name} changed Subject group from none to Mathematics"
    )
    # Where people sign in from is for superusers' eyes only.
    expect(newest).not_to_contain_text("127.0.0.1")
