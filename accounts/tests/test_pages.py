"""What the staff pages and the home page show, and in which order."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from accounts.tests.factories import StaffFactory
from audit.models import AuditEvent

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


# The home page
# ------------------------------------------------------------------------------
def home(client):
    return client.get(reverse("home"))


def test_home_shows_a_manager_the_staff_in_numbers(client_as, manager, subject_group):
    StaffFactory.create_batch(2, subject_group=subject_group)
    StaffFactory(is_active=False)
    invited = StaffFactory(subject_group=subject_group)
    invited.set_unusable_password()
    invited.save()

    response = home(client_as(manager))

    # Active: the manager, the two and the invited; without a group: the manager.
    counts = response.context["staff_counts"]
    assert counts == {"active": 4, "invited": 1, "inactive": 1, "without_group": 1}
    assertContains(response, '<span class="stat-number">4</span>', html=True)
    assertContains(response, f'href="{reverse("staff:list")}?group=none"')
    assertContains(response, f'href="{reverse("staff:list")}?status=invited"')


def test_home_counts_staff_in_the_same_queries_for_few_and_many(client_as, manager, subject_group):
    client = client_as(manager)
    home(client)
    with CaptureQueriesContext(connection) as few:
        home(client)
    StaffFactory.create_batch(30, subject_group=subject_group)
    with CaptureQueriesContext(connection) as many:
        home(client)

    assert len(many.captured_queries) == len(few.captured_queries) <= 8


def test_home_shows_a_manager_the_latest_changes(client_as, manager, ada):
    ada.last_name = "King"
    ada.save()

    response = home(client_as(manager))

    assertContains(response, "Latest changes")
    assertContains(response, "Last name from Lovelace to King")


def test_home_shows_the_newest_changes_of_every_kind_but_no_sign_ins(client_as, manager):
    # Ten of each kind, one kind after another, after the fixtures' own events.
    kinds = [AuditEvent.Kind.CREATED, AuditEvent.Kind.LOGIN, AuditEvent.Kind.DELETED]
    start = timezone.now() + timedelta(hours=1)
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=kind, target_label=f"{kind} {n}", created_at=start + timedelta(minutes=m))
        for m, (kind, n) in enumerate((kind, n) for kind in kinds for n in range(10))
    )
    client = client_as(manager)

    latest = home(client).context["latest_changes"]

    assert [event.target_label for event in latest] == [f"deleted {n}" for n in (9, 8, 7, 6, 5)]
    AuditEvent.objects.filter(kind=AuditEvent.Kind.DELETED).delete()
    latest = home(client).context["latest_changes"]
    assert [event.target_label for event in latest] == [f"created {n}" for n in (9, 8, 7, 6, 5)]


def test_home_on_an_empty_site_leads_a_manager_to_add_groups_and_import_staff(client_as, manager):
    response = home(client_as(manager))

    assertContains(response, "Next steps")
    assertContains(response, f'<a href="{reverse("staff:import")}">Import staff</a>', html=True)


def test_home_shows_plain_staff_their_details_and_links_but_no_numbers(client_as, plain_staff):
    response = home(client_as(plain_staff))

    assert "staff_counts" not in response.context
    assertNotContains(response, "Staff in numbers")
    assertContains(response, "Your details")
    assertContains(response, plain_staff.email)
    assertContains(response, reverse("staff:list"))
    assertContains(response, reverse("password_change"))


@pytest.mark.parametrize("url_name", ["staff:create", "staff:import", "password_change"])
def test_forms_are_kept_to_a_readable_width(client_as, manager, url_name):
    response = client_as(manager).get(reverse(url_name))

    assertContains(response, 'class="form-readable"')
