"""What the staff pages and the home page show, and in which order."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def detail(client, staff):
    return client.get(reverse("staff:detail", kwargs={"pk": staff.pk}))


def test_home_shows_a_dash_for_no_subject_group(client_as, plain_staff):
    response = client_as(plain_staff).get(reverse("home"))

    assertNotContains(response, "None")
    assertContains(response, "—")


def test_staff_page_shows_a_dash_for_no_subject_group(client_as, manager, ada):
    response = detail(client_as(manager), ada)

    assertNotContains(response, ">None<")
    assertContains(response, '<dd class="col-sm-9">—</dd>', html=True)


@pytest.mark.parametrize(
    ("active", "invited", "badges"),
    [
        (True, False, ['<span class="badge text-bg-success">Active</span>']),
        (False, False, ['<span class="badge text-bg-secondary">Inactive</span>']),
        (
            True,
            True,
            [
                '<span class="badge text-bg-success">Active</span>',
                '<span class="badge text-bg-info">Invited</span>',
            ],
        ),
    ],
)
def test_staff_page_shows_the_status_as_badges(client_as, manager, active, invited, badges):
    member = StaffFactory(is_active=active)
    if invited:
        member.set_unusable_password()
        member.save()

    response = detail(client_as(manager), member)

    for badge in badges:
        assertContains(response, badge, html=True)


def test_staff_page_offers_deactivate_before_delete(client_as, superuser, ada):
    content = detail(client_as(superuser), ada).content.decode()

    deactivate = content.index(reverse("staff:deactivate", kwargs={"pk": ada.pk}))
    delete = content.index(reverse("staff:delete", kwargs={"pk": ada.pk}))
    assert deactivate < delete
