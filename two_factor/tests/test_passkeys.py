"""Passkeys on the server: as factors, named, removed and reset (ceremonies: browser tests)."""

import time

import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp_webauthn.models import WebAuthnCredential
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from audit.models import AuditEvent
from two_factor import views

from .sessions import give_passkey

pytestmark = pytest.mark.django_db

SECURITY = reverse("two_factor:security")


def remove_url(passkey):
    return reverse("two_factor:remove_passkey", kwargs={"pk": passkey.pk})


def verified_with(client, passkey):
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = passkey.persistent_id
    session.save()


def verified_just_now(client):
    session = client.session
    session[views.VERIFIED_AT] = time.time()
    session.save()


def test_a_person_with_only_a_passkey_is_asked_for_the_second_step(after_password, superuser):
    give_passkey(superuser)
    client = after_password(superuser)

    response = client.get(reverse("home"))

    assert response.url.startswith(reverse("two_factor:verify"))
    assertContains(client.get(response.url), "Use a passkey")


def test_the_security_page_lists_passkeys_by_name(client_as, superuser):
    give_passkey(superuser, "Work laptop")

    response = client_as(superuser).get(SECURITY)

    assertContains(response, "<strong>Work laptop</strong>", html=True)
    assertContains(response, "Add a passkey")
    assertContains(response, 'id="otp_webauthn_config"')


def test_a_new_passkey_is_named_by_its_owner_only(client_as, superuser, other_superuser):
    mine, theirs = give_passkey(superuser, "Passkey"), give_passkey(other_superuser, "Theirs")
    client = client_as(superuser)

    client.post(reverse("two_factor:name_passkey"), {"credential": mine.pk, "name": " Work  pc "})
    client.post(reverse("two_factor:name_passkey"), {"credential": theirs.pk, "name": "Mine now"})

    mine.refresh_from_db(), theirs.refresh_from_db()
    assert (mine.name, theirs.name) == ("Work pc", "Theirs")


def test_removing_a_passkey_asks_for_a_code_when_there_is_an_app(
    client_as, superuser, code, committed, mailoutbox
):
    passkey = give_passkey(superuser)
    client = client_as(superuser)
    app = superuser.totpdevice_set.get()

    refused = client.post(remove_url(passkey), {"otp_token": "000000"})
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert refused.status_code in (200, 429)
    with committed():
        response = client.post(remove_url(passkey), {"otp_token": code(app, steps_ahead=1)})

    assertRedirects(response, SECURITY)
    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TWO_FACTOR_REMOVED).exists()
    assert [m.subject for m in mailoutbox] == [
        "A second factor was removed from your schoolstaff account"
    ]
    assert "The passkey “Work laptop” was just removed" in mailoutbox[0].body
    assert "recovery codes" not in mailoutbox[0].body  # The app still has them.


def test_removing_a_passkey_without_an_app_asks_for_a_fresh_passkey(client_as, plain_staff):
    client = client_as(plain_staff)
    first, second = give_passkey(plain_staff, "One"), give_passkey(plain_staff, "Two")
    verified_with(client, first)

    page = client.get(remove_url(second))
    refused = client.post(remove_url(second))
    assert WebAuthnCredential.objects.filter(pk=second.pk).exists()
    verified_just_now(client)
    client.post(remove_url(second))

    assertContains(page, "Verify with a passkey")
    assert refused.status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=second.pk).exists()


def test_nobody_covered_removes_their_last_passkey(client_as, superuser):
    client = client_as(superuser)
    superuser.totpdevice_set.all().delete()
    passkey = give_passkey(superuser)
    verified_with(client, passkey)
    verified_just_now(client)

    response = client.post(remove_url(passkey), follow=True)

    assertContains(response, "add another before removing this")
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assertNotContains(client.get(SECURITY), "Remove the passkey")


def test_a_covered_person_with_a_passkey_may_remove_the_app(client_as, superuser, code):
    give_passkey(superuser)
    client = client_as(superuser)
    app = superuser.totpdevice_set.get()

    client.post(reverse("two_factor:remove_app"), {"otp_token": code(app, steps_ahead=1)})

    assert not superuser.totpdevice_set.exists()


def test_nobody_removes_someone_elses_passkey(client_as, superuser, other_superuser):
    theirs = give_passkey(other_superuser)
    client = client_as(superuser)
    verified_just_now(client)

    assert client.post(remove_url(theirs)).status_code == 404
    assert WebAuthnCredential.objects.filter(pk=theirs.pk).exists()


def test_a_reset_removes_passkeys_too(client_as, superuser, other_superuser):
    give_passkey(other_superuser)

    client_as(superuser).post(reverse("two_factor:reset", kwargs={"pk": other_superuser.pk}))

    assert not WebAuthnCredential.objects.filter(user=other_superuser).exists()


def test_the_login_page_offers_a_passkey_under_the_csp(client):
    response = client.get(reverse("login"))

    assertContains(response, "Sign in with a passkey")
    assertContains(response, 'id="otp_webauthn_config"')
    assertNotContains(response, "<script>")
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
