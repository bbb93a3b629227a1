"""Test clients signed in after both steps, or after the password only."""

import os
import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from two_factor import factors, policy


def current_code(device, steps_ahead=0):
    """The code the person's app shows now (or `steps_ahead` 30-second steps later)."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{code:06d}"


def unused_code(device):
    """A code the device accepts now: the current one, or the next if that was used."""
    device.refresh_from_db()
    now = int((time.time() - device.t0) // device.step) + device.drift
    return current_code(device, steps_ahead=1 if device.last_t >= now else 0)


def give_app(user):
    """A confirmed authenticator app for `user`: theirs, or a new one."""
    return factors.app_of(user) or TOTPDevice.objects.create(
        user=user, name=factors.APP_NAME, confirmed=True
    )


def verify_client_session(client, user):
    """Mark the client's session as having passed the user's app."""
    device = give_app(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.pop(policy.STEP_DUE_SINCE, None)
    session.save()
    return device


def verify_force_login(monkeypatch):
    """Make Client.force_login pass the second step too, unless the client says otherwise."""
    force_login = Client.force_login

    def force_login_with_second_step(self, user, backend=None):
        force_login(self, user, backend)
        if not getattr(self, "password_only", False) and (
            policy.required_for(user) or factors.has_factor(user)
        ):
            verify_client_session(self, user)

    monkeypatch.setattr(Client, "force_login", force_login_with_second_step)


def give_passkey(user, name="Work laptop"):
    """A confirmed passkey for `user`, as the library stores one (without its ceremony)."""
    from django_otp_webauthn.models import WebAuthnCredential

    return WebAuthnCredential.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=os.urandom(16),
        public_key=os.urandom(32),
        sign_count=0,
        aaguid="00000000-0000-0000-0000-000000000000",
    )
