"""Two people edit the same record: the second save never silently undoes the first."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from accounts.models import Staff
from accounts.staff_import import StaffImport
from accounts.tests.admin_forms import admin_change_data
from accounts.tests.factories import edit_data
from subjects.models import SubjectGroup
from subjects.tests.factories import SubjectGroupFactory

pytestmark = pytest.mark.django_db

CHANGED_MEANWHILE = "Someone else changed this record after you opened this form"


def edit_url(staff):
    return reverse("staff:update", kwargs={"pk": staff.pk})


# Staff
# ------------------------------------------------------------------------------
def test_second_save_of_a_staff_member_is_refused_with_the_current_values(
    client_as, manager, superuser, ada, subject_group
):
    first, second = client_as(manager), client_as(superuser)
    opened_by_second = edit_data(ada)  # Both open the form on the same version.

    first_response = first.post(edit_url(ada), edit_data(ada, subject_group=subject_group.pk))
    second_response = second.post(edit_url(ada), {**opened_by_second, "first_name": "Augusta"})

    assertRedirects(first_response, ada.get_absolute_url())
    assertContains(second_response, CHANGED_MEANWHILE)
    form = second_response.context["form"]
    assert form.errors.as_data()["__all__"][0].code == "changed_meanwhile"
    conflicts = {label: (current, yours) for label, current, yours in form.conflicting_values()}
    assert conflicts["Subject group"] == ("Mathematics", "—")
    assert conflicts["First name"] == ("Ada", "Augusta")
    assertContains(second_response, "<caption>Current values and yours</caption>", html=True)
    ada.refresh_from_db()
    assert (ada.first_name, ada.subject_group) == ("Ada", subject_group)


def test_saving_again_after_seeing_the_current_values_saves_ones_own(
    client_as, manager, superuser, ada, subject_group
):
    stale = edit_data(ada, first_name="Augusta")
    client_as(manager).post(edit_url(ada), edit_data(ada, subject_group=subject_group.pk))
    second = client_as(superuser)
    refused = second.post(edit_url(ada), stale)

    # The form comes back carrying the version it showed the current values of.
    again = second.post(
        edit_url(ada), {**stale, "version": refused.context["form"]["version"].value()}
    )

    assertRedirects(again, ada.get_absolute_url())
    ada.refresh_from_db()
    assert (ada.first_name, ada.subject_group) == ("Augusta", None)


def test_an_edit_form_opened_before_an_admin_change_or_an_import_is_refused(
    client_as, manager, superuser, ada
):
    stale = edit_data(ada, first_name="Augusta")
    client_as(superuser).post(
        reverse("admin:accounts_staff_change", args=[ada.pk]),
        admin_change_data(ada, last_name="Byron"),
    )
    assertContains(client_as(manager).post(edit_url(ada), stale), CHANGED_MEANWHILE)
    assert Staff.objects.get(pk=ada.pk).last_name == "Byron"

    ada.refresh_from_db()
    stale = edit_data(ada, first_name="Augusta")
    StaffImport("email,first_name,last_name\nada@school.example,Ada,King\n").save()
    assertContains(client_as(manager).post(edit_url(ada), stale), CHANGED_MEANWHILE)
    assert Staff.objects.get(pk=ada.pk).last_name == "King"


def test_signing_in_or_a_change_of_status_does_not_outdate_an_open_form(
    client_as, manager, ada, client, password
):
    opened = edit_data(ada, first_name="Augusta")
    client.post(reverse("login"), {"username": ada.email, "password": password})
    client_as(manager).post(reverse("staff:deactivate", kwargs={"pk": ada.pk}))

    response = client_as(manager).post(edit_url(ada), opened)

    assertRedirects(response, ada.get_absolute_url())
    ada.refresh_from_db()
    assert (ada.first_name, ada.is_active) == ("Augusta", False)


@pytest.mark.parametrize("version", [None, "", "abc", "1.5", "-1", "99", "9" * 30])
def test_a_missing_or_made_up_version_is_refused_with_the_current_values(
    client_as, manager, ada, version
):
    data = edit_data(ada, last_name="King", version=version)
    if version is None:
        del data["version"]

    response = client_as(manager).post(edit_url(ada), data)

    # Said on the page, not on the hidden field, where nobody would see it.
    assertContains(response, CHANGED_MEANWHILE)
    assertContains(response, "<caption>Current values and yours</caption>", html=True)
    assert Staff.objects.get(pk=ada.pk).last_name == "Lovelace"
    assert Staff.objects.get(pk=ada.pk).version == ada.version


# Subject groups
# ------------------------------------------------------------------------------
def test_second_rename_of_a_group_is_refused_with_the_current_name(client_as, manager, superuser):
    group = SubjectGroupFactory(name="Maths")
    url = reverse("subjects:update", kwargs={"pk": group.pk})

    client_as(manager).post(url, {"name": "Mathematics", "version": group.version})
    response = client_as(superuser).post(url, {"name": "Numeracy", "version": group.version})

    assertContains(response, CHANGED_MEANWHILE)
    assert list(response.context["form"].conflicting_values()) == [
        ("Name", "Mathematics", "Numeracy")
    ]
    assert SubjectGroup.objects.get(pk=group.pk).name == "Mathematics"


def test_every_full_save_counts_a_new_version(subject_group):
    assert subject_group.version == 1
    subject_group.save()
    subject_group.save()
    subject_group.refresh_from_db()
    assert subject_group.version == 3


def test_the_conflict_page_is_headed_with_the_saved_name_and_captions_its_table_above(
    client_as, manager, superuser, ada
):
    opened_by_second = edit_data(ada)
    client_as(manager).post(edit_url(ada), edit_data(ada, last_name="King"))

    response = client_as(superuser).post(
        edit_url(ada), {**opened_by_second, "first_name": "Augusta"}
    )

    assertContains(response, "<h1>Edit Ada King</h1>", html=True)
    assertContains(response, '<table class="table table-sm caption-top">')
    assertContains(response, '<div class="col-lg-6">', count=2)


def test_an_invalid_edit_is_headed_with_the_saved_name_not_the_typed_one(client_as, manager, ada):
    response = client_as(manager).post(
        edit_url(ada), edit_data(ada, first_name="Augusta", email="")
    )

    assert response.status_code == 200
    assertContains(response, "<h1>Edit Ada Lovelace</h1>", html=True)
