"""Setting up an authenticator app, and the recovery codes that back it up."""

from base64 import b32encode

import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

SETUP = reverse("two_factor:setup_app")
CODES = reverse("two_factor:recovery_codes")
SECURITY = reverse("two_factor:security")


def unconfirmed_app(staff):
    return TOTPDevice.objects.get(user=staff, confirmed=False)


def codes_of(staff):
    return set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))


def test_the_setup_page_shows_a_qr_code_and_the_key_as_text(after_password, superuser):
    client = after_password(superuser)

    response = client.get(SETUP)

    key = b32encode(unconfirmed_app(superuser).bin_key).decode()
    assertContains(response, "<svg")
    assertContains(response, " ".join(key[i : i + 4] for i in range(0, len(key), 4)))
    assert "style=" not in response.content.decode().split("<svg", 1)[1].split("</svg>")[0]


def test_reloading_the_setup_page_keeps_the_key(after_password, superuser):
    client = after_password(superuser)
    client.get(SETUP)
    first = unconfirmed_app(superuser).key

    client.get(SETUP)

    assert unconfirmed_app(superuser).key == first


def test_a_current_code_confirms_the_app_verifies_the_session_and_shows_ten_codes(
    after_password, superuser, code, mailoutbox, committed
):
    client = after_password(superuser)
    client.get(SETUP)
    key_before = client.session.session_key

    with committed():
        response = client.post(SETUP, {"otp_token": code(unconfirmed_app(superuser))}, follow=True)

    assert TOTPDevice.objects.get(user=superuser).confirmed
    assert DEVICE_ID_SESSION_KEY in client.session
    assert client.session.session_key != key_before
    assert response.redirect_chain == [(CODES, 302)]
    assert len(codes_of(superuser)) == 10
    for each in codes_of(superuser):
        assertContains(response, each)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TWO_FACTOR_ADDED).count() == 1
    assert [m.subject for m in mailoutbox] == [
        "A second factor was added to your schoolstaff account"
    ]
    assert mailoutbox[0].to == [superuser.email]


def test_a_wrong_code_does_not_confirm_the_app(after_password, superuser):
    client = after_password(superuser)
    client.get(SETUP)

    response = client.post(SETUP, {"otp_token": "12345"})

    assertContains(response, "That code is not valid.")
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_someone_with_an_app_cannot_set_up_another(client_as, superuser):
    response = client_as(superuser).get(SETUP)

    assertRedirects(response, SECURITY)


def test_recovery_codes_are_shown_once_and_downloadable_meanwhile(client_as, superuser):
    client = client_as(superuser)
    client.post(CODES)
    codes = codes_of(superuser)

    shown = client.get(CODES)
    download = client.get(reverse("two_factor:recovery_codes_download"))
    client.get(SECURITY)

    for each in codes:
        assertContains(shown, each)
        assert each in download.content.decode()
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Content-Type"].startswith("text/plain")
    assertRedirects(client.get(CODES), SECURITY)
    assert client.get(reverse("two_factor:recovery_codes_download")).status_code == 404


def test_new_recovery_codes_void_the_old(client_as, superuser):
    client = client_as(superuser)
    client.post(CODES)
    old = codes_of(superuser)

    client.post(CODES)

    assert len(codes_of(superuser)) == 10
    assert not old & codes_of(superuser)


def test_recovery_codes_are_made_only_in_a_verified_session(after_password, superuser, app_of):
    app_of(superuser)
    client = after_password(superuser)

    response = client.post(CODES)

    assert response.url.startswith(reverse("two_factor:verify"))
    assert not codes_of(superuser)


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(
    client_as, after_password, superuser, type_code, mailoutbox, committed
):
    client_as(superuser).post(CODES)
    one = sorted(codes_of(superuser))[0]
    client = after_password(superuser)

    with committed():
        response = type_code(client, one.upper(), follow=True)

    assert DEVICE_ID_SESSION_KEY in client.session
    assertContains(response, "You have 9 left")
    assert [m.subject for m in mailoutbox] == [
        "A recovery code was used to sign in to your schoolstaff account"
    ]
    assert "You have 9 left." in mailoutbox[0].body
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.RECOVERY_CODE_USED).count() == 1
    again = type_code(after_password(superuser), one)
    assertContains(again, "That code is not valid.")


def test_the_security_page_lists_the_app_and_codes_left(client_as, superuser):
    client = client_as(superuser)
    client.post(CODES)

    response = client.get(SECURITY)

    assertContains(response, "Authenticator app")
    assertContains(response, "10 of 10 left")
    assertNotContains(response, "Remove the authenticator app")
    assertContains(response, "It cannot be removed")
