"""Pages that keep their shape: long names wrap, and nothing scrolls sideways."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.browser import test_accessibility
from accounts.tests.browser.test_accessibility import (
    DESKTOP,
    PHONE,
    a_manager,
    as_superuser,
    staff_edit_changed_meanwhile,
)
from accounts.tests.factories import StaffFactory

pytestmark = pytest.mark.browser

LONG_NAME = "W" * 150


def page_width(page):
    return page.evaluate("() => document.documentElement.scrollWidth")


def long_named():
    return StaffFactory(first_name=LONG_NAME, last_name=LONG_NAME)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("url_name", ["staff:detail", "staff:delete", "staff:deactivate"])
def test_a_long_unbroken_name_wraps_on_a_members_pages(page, signed_in, viewport, url_name):
    member = long_named()
    signed_in(page, a_manager())
    page.set_viewport_size(viewport)

    page.goto(reverse(url_name, kwargs={"pk": member.pk}))

    assert page_width(page) <= viewport["width"]


def test_a_long_unbroken_name_wraps_in_a_message(page, signed_in):
    member = long_named()
    signed_in(page, a_manager())
    page.set_viewport_size(PHONE)
    page.goto(reverse("staff:deactivate", kwargs={"pk": member.pk}))

    page.get_by_role("button", name="Yes, deactivate").click()

    expect(page.get_by_role("alert")).to_contain_text("deactivated")
    assert page_width(page) <= PHONE["width"]


def test_a_long_unbroken_name_leaves_what_happened_on_screen_in_the_audit_trail(page, signed_in):
    member = long_named()
    member.last_name = "King"
    member.save()
    as_superuser(page, signed_in)

    page.goto(reverse("audit:list"))

    assert page_width(page) <= DESKTOP["width"]
    header = page.get_by_role("columnheader", name="What happened").bounding_box()
    assert header["x"] + header["width"] <= DESKTOP["width"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_current_values_are_beside_the_form_on_a_wide_screen_and_below_on_a_phone(
    page, signed_in, viewport
):
    page.set_viewport_size(viewport)
    staff_edit_changed_meanwhile(page, signed_in)

    field = page.get_by_label("First name").bounding_box()
    table = page.get_by_role("table", name="Current values and yours").bounding_box()
    if viewport is DESKTOP:
        assert table["x"] >= field["x"] + field["width"]
        assert table["y"] < field["y"] + field["height"]
    else:
        assert table["y"] > field["y"] + field["height"]
    assert page_width(page) <= viewport["width"]


@pytest.mark.parametrize(
    ("url_name", "label", "button", "query"),
    [
        # A select always has a value: the status, active unless chosen otherwise.
        ("staff:list", "Search names and emails", "Search", "?q=ada&status=active"),
        ("subjects:list", "Search names", "Search", "?q=ada"),
        ("audit:list", "Person (name or email)", "Filter", "?q=ada"),
    ],
)
def test_search_forms_leave_empty_fields_out_of_the_address(
    page, signed_in, url_name, label, button, query
):
    as_superuser(page, signed_in)
    page.goto(reverse(url_name))

    page.get_by_label(label).fill("ada")
    page.get_by_role("button", name=button, exact=True).click()

    expect(page).to_have_url(re.compile(re.escape(query) + "$"))


def phone_lists():
    """Each list at a phone's width, with what must show for each row."""
    return [
        ("staff_list_with_thirty_staff", ["Subject group", "Edit"]),
        ("subject_list_full", ["Edit"]),
        ("audit_trail", ["What happened"]),
        ("subject_detail_with_members", []),
    ]


@pytest.mark.parametrize(("visit", "shown"), phone_lists(), ids=[v for v, _ in phone_lists()])
def test_lists_fit_a_phone_and_show_what_matters_for_each_row(page, signed_in, visit, shown):
    page.set_viewport_size(PHONE)
    getattr(test_accessibility, visit)(page, signed_in)
    page.wait_for_load_state()

    assert page_width(page) <= PHONE["width"]
    # Nothing scrolls sideways inside the page either.
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('.table-responsive')]
            .filter(box => box.scrollWidth > box.clientWidth).length"""
    )
    assert overflowing == 0
    for text in shown:
        element = page.locator("main").get_by_text(text, exact=False).first
        box = element.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"], text


def test_the_admins_staff_list_shows_its_key_columns_at_1280_px(page, signed_in):
    test_accessibility.admin_staff_changelist(page, signed_in)
    page.wait_for_load_state()

    headers = dict(
        page.evaluate(
            """() => [...document.querySelectorAll('#result_list thead th')].map(
                th => [th.innerText.replace(/[0-9\\s]+/g, ' ').trim().toLowerCase(),
                       th.getBoundingClientRect().right])"""
        )
    )
    for name in ("name", "email", "subject group", "active", "admin"):
        assert name in headers, headers
        assert headers[name] <= DESKTOP["width"], name
    results = page.locator(".results")
    assert results.evaluate("box => box.scrollWidth <= box.clientWidth")
