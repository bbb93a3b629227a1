"""The list pages keep their rendered content until staff or subject groups change."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import Staff
from accounts.staff_import import StaffImport
from accounts.tests.admin_forms import admin_change_data
from accounts.tests.factories import StaffFactory, edit_data
from lists.models import DirectoryChange
from subjects.models import SubjectGroup

pytestmark = pytest.mark.django_db

STAFF_LIST = reverse("staff:list")
GROUP_LIST = reverse("subjects:list")


def main(response):
    """The page's main content: the navbar's logout form has a new CSRF token each time."""
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def test_the_same_list_again_is_served_from_the_cache_with_the_same_content(
    client_as, manager, ada, django_assert_max_num_queries
):
    client = client_as(manager)
    first = client.get(STAFF_LIST, {"q": "ada"})

    # Session, user, the directory version and the viewer's permissions (2).
    with django_assert_max_num_queries(5):
        again = client.get(STAFF_LIST, {"q": "ada"})

    assert main(again) == main(first)
    assertContains(again, "ada@school.example")


def test_what_the_viewer_may_do_is_never_served_to_someone_who_may_not(
    client_as, manager, plain_staff, ada
):
    manager_client = Client()
    manager_client.force_login(manager)
    assertContains(manager_client.get(STAFF_LIST), "Add staff member")

    response = client_as(plain_staff).get(STAFF_LIST)

    assertNotContains(response, "Add staff member")
    assertNotContains(response, reverse("staff:update", kwargs={"pk": ada.pk}))


def test_messages_are_never_kept_with_a_list(client_as, manager, subject_group):
    client = client_as(manager)
    client.get(GROUP_LIST)

    client.post(
        reverse("subjects:update", kwargs={"pk": subject_group.pk}),
        {"name": "Maths", "version": subject_group.version},
    )
    response = client.get(GROUP_LIST)

    assertContains(response, "Subject group Maths updated.")
    assertNotContains(client.get(GROUP_LIST), "Subject group Maths updated.")


# Every way staff or groups change outdates the kept lists
# ------------------------------------------------------------------------------
def add_on_the_site(client_as, manager, superuser, ada, group):
    client_as(manager).post(
        reverse("staff:create"),
        {
            "email": "new@school.example",
            "first_name": "Nia",
            "last_name": "New",
            "subject_group": "",
        },
    )
    return "new@school.example"


def edit_on_the_site(client_as, manager, superuser, ada, group):
    client_as(manager).post(
        reverse("staff:update", kwargs={"pk": ada.pk}), edit_data(ada, last_name="King")
    )
    return "King"


def deactivate_on_the_site(client_as, manager, superuser, ada, group):
    client_as(manager).post(reverse("staff:deactivate", kwargs={"pk": ada.pk}))
    return "Inactive"


def delete_on_the_site(client_as, manager, superuser, ada, group):
    client_as(superuser).post(reverse("staff:delete", kwargs={"pk": ada.pk}))
    return None


def change_in_the_admin(client_as, manager, superuser, ada, group):
    client_as(superuser).post(
        reverse("admin:accounts_staff_change", args=[ada.pk]),
        admin_change_data(ada, last_name="Byron"),
    )
    return "Byron"


def import_a_file(client_as, manager, superuser, ada, group):
    StaffImport("email,first_name,last_name\nada@school.example,Ada,Noel\n").save()
    return "Noel"


def seed_demo_data(client_as, manager, superuser, ada, group):
    call_command("seed_demo", staff=3, groups=1, stdout=None)
    return "@demo.school.example"


def rename_the_group(client_as, manager, superuser, ada, group):
    client_as(manager).post(
        reverse("subjects:update", kwargs={"pk": group.pk}),
        {"name": "Numeracy", "version": group.version},
    )
    return "Numeracy"


def delete_the_group(client_as, manager, superuser, ada, group):
    client_as(manager).post(reverse("subjects:delete", kwargs={"pk": group.pk}))
    return None


@pytest.mark.parametrize(
    "change",
    [
        add_on_the_site,
        edit_on_the_site,
        deactivate_on_the_site,
        delete_on_the_site,
        change_in_the_admin,
        import_a_file,
        seed_demo_data,
        rename_the_group,
        delete_the_group,
    ],
)
def test_a_change_shows_in_both_lists_at_once(
    client_as, manager, superuser, ada, subject_group, change
):
    ada.subject_group = subject_group
    ada.save()
    viewer = Client()  # Not the client that makes the change: no messages, the same viewer.
    viewer.force_login(manager)
    before = {url: main(viewer.get(url, {"status": "all"})) for url in (STAFF_LIST, GROUP_LIST)}

    shown = change(client_as, manager, superuser, ada, subject_group)

    after = {url: main(viewer.get(url, {"status": "all"})) for url in (STAFF_LIST, GROUP_LIST)}
    # The staff list always shows the change; the group list when it shows a count or name.
    assert after[STAFF_LIST] != before[STAFF_LIST]
    if shown:
        assert shown in after[STAFF_LIST]


def test_signing_in_does_not_outdate_the_lists(client, ada, password):
    version = DirectoryChange.objects.version()

    client.post(reverse("login"), {"username": ada.email, "password": password})

    assert Staff.objects.get(pk=ada.pk).last_login is not None
    assert DirectoryChange.objects.version() == version


def test_a_rolled_back_change_never_brings_back_an_old_version(db):
    from django.db import transaction

    before = DirectoryChange.objects.version()
    with pytest.raises(RuntimeError), transaction.atomic():
        SubjectGroup.objects.create(name="Latin")
        raise RuntimeError
    assert DirectoryChange.objects.version() == before
    SubjectGroup.objects.create(name="Greek")
    assert DirectoryChange.objects.version() not in (before, None)


def test_no_caching_when_switched_off(client_as, manager, settings):
    settings.LIST_CACHE_SECONDS = 0
    StaffFactory.create_batch(3)
    client = client_as(manager)

    with CaptureQueriesContext(connection) as first:
        client.get(STAFF_LIST)
    with CaptureQueriesContext(connection) as again:
        client.get(STAFF_LIST)

    # The groups to filter by, the count, the page's keys and its rows: all again.
    assert len(again) == len(first)
    assert sum("COUNT(*)" in query["sql"] for query in again) == 1


def test_each_change_adds_a_mark_and_updates_none(db):
    DirectoryChange.objects.record()
    first = DirectoryChange.objects.get()

    DirectoryChange.objects.record()

    assert DirectoryChange.objects.count() == 2
    assert DirectoryChange.objects.get(pk=first.pk).mark == first.mark


def test_a_change_that_commits_after_a_later_one_still_moves_the_version_on(db):
    # Concurrent changes may commit in any order of their keys.
    DirectoryChange.objects.create(pk=5)
    version = DirectoryChange.objects.version()

    DirectoryChange.objects.create(pk=3)

    assert DirectoryChange.objects.version() != version


def test_old_marks_are_removed_once_the_change_that_outdates_them_commits(
    db, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("lists.models.KEPT_MARKS", 5)
    added = []
    for _ in range(12):
        with django_capture_on_commit_callbacks(execute=True):
            DirectoryChange.objects.record()
        added.append(DirectoryChange.objects.latest("pk").pk)

    kept = list(DirectoryChange.objects.order_by("pk").values_list("pk", flat=True))
    # The newest, between 5 and 10 of them, whatever the key the first one had.
    assert 5 <= len(kept) < 10
    assert kept == added[-len(kept) :]
