"""Deactivating instead of deleting: the record stays, signing in stops."""

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Staff
from accounts.tests.factories import StaffFactory


def deactivate_url(staff):
    return reverse("staff:deactivate", kwargs={"pk": staff.pk})


def activate_url(staff):
    return reverse("staff:activate", kwargs={"pk": staff.pk})


def is_active(staff):
    return Staff.objects.get(pk=staff.pk).is_active


def test_deactivation_page_asks_for_confirmation_and_changes_nothing(client_as, manager, ada):
    response = client_as(manager).get(deactivate_url(ada))

    assertContains(response, "Deactivate Ada Lovelace?")
    assertContains(response, "Yes, deactivate")
    assert is_active(ada)


def test_manager_deactivates_a_staff_member(client_as, manager, ada):
    response = client_as(manager).post(deactivate_url(ada), follow=True)

    assertRedirects(response, ada.get_absolute_url())
    assertContains(response, "Staff member Ada Lovelace deactivated.")
    assertContains(response, "Inactive")
    assert not is_active(ada)


def test_manager_reactivates_a_staff_member(client_as, manager, ada):
    ada.is_active = False
    ada.save()

    response = client_as(manager).post(activate_url(ada), follow=True)

    assertContains(response, "Staff member Ada Lovelace reactivated.")
    assert is_active(ada)


def test_deactivated_staff_cannot_sign_in(client_as, manager, ada, password, can_sign_in):
    client_as(manager).post(deactivate_url(ada))

    assert not can_sign_in(ada.email, password)


def test_deactivation_ends_the_members_open_sessions(client_as, manager, ada):
    adas_browser = Client()
    adas_browser.force_login(ada)

    client_as(manager).post(deactivate_url(ada))

    response = adas_browser.get(reverse("home"))
    assertRedirects(response, f"{reverse('login')}?next=/")


def test_reactivated_staff_sign_in_again(client_as, manager, ada, password, can_sign_in):
    client = client_as(manager)
    client.post(deactivate_url(ada))

    client.post(activate_url(ada))

    assert can_sign_in(ada.email, password)


@pytest.mark.parametrize("url_name", ["staff:deactivate", "staff:activate"])
def test_plain_staff_cannot_change_anyones_status(client_as, plain_staff, ada, url_name):
    response = client_as(plain_staff).post(reverse(url_name, kwargs={"pk": ada.pk}))

    assert response.status_code == 403
    assert is_active(ada)


@pytest.mark.parametrize("role", ["manager", "superuser"])
def test_nobody_deactivates_themselves(client_as, users_by_role, role):
    me = users_by_role[role]

    response = client_as(me).post(deactivate_url(me))

    assertContains(response, "You cannot deactivate your own account.", status_code=403)
    assert is_active(me)


def test_manager_cannot_deactivate_a_superuser(client_as, manager, superuser):
    response = client_as(manager).post(deactivate_url(superuser))

    assertContains(response, "Only a superuser", status_code=403)
    assert is_active(superuser)


def test_superuser_can_deactivate_another_superuser(client_as, superuser):
    other = StaffFactory(is_superuser=True, is_staff=True)

    client_as(superuser).post(deactivate_url(other))

    assert not is_active(other)


def test_status_changes_only_by_post(client_as, manager, ada):
    client = client_as(manager)

    client.get(deactivate_url(ada))
    client.put(deactivate_url(ada))

    assert is_active(ada)


def test_unknown_id_gives_404(client_as, manager):
    response = client_as(manager).post(reverse("staff:deactivate", kwargs={"pk": 999_999}))

    assert response.status_code == 404


def test_detail_page_offers_deactivate_or_reactivate(client_as, manager, ada):
    client = client_as(manager)
    assertContains(client.get(ada.get_absolute_url()), deactivate_url(ada))

    client.post(deactivate_url(ada))

    response = client.get(ada.get_absolute_url())
    assertContains(response, activate_url(ada))
    assertNotContains(response, deactivate_url(ada))


def test_detail_page_offers_no_deactivation_of_oneself(client_as, manager):
    response = client_as(manager).get(manager.get_absolute_url())

    assertNotContains(response, deactivate_url(manager))


def test_delete_page_recommends_deactivation(client_as, manager, ada):
    response = client_as(manager).get(reverse("staff:delete", kwargs={"pk": ada.pk}))

    assertContains(response, "instead")
    assertContains(response, deactivate_url(ada))
