import time

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import PASSWORD
from two_factor import policy

from .sessions import current_code, give_app


@pytest.fixture(autouse=True)
def _no_throttle_between_codes(settings):
    # django-otp refuses every code for a second after a wrong one: people wait that long.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def after_password():
    """A client that has typed the person's password on the login page, and nothing more."""

    def sign_in(staff, client=None, **extra):
        client = client or Client()
        response = client.post(
            reverse("login"), {"username": staff.email, "password": PASSWORD}, **extra
        )
        assert response.status_code == 302, "the password was refused"
        return client

    return sign_in


@pytest.fixture
def app_of():
    return give_app


@pytest.fixture
def code():
    return current_code


@pytest.fixture
def type_code():
    """Post a code on the second step, as a person types it."""

    def post(client, code, next_url="", **extra):
        data = {"otp_token": code}
        if next_url:
            data["next"] = next_url
        return client.post(reverse("two_factor:verify"), data, **extra)

    return post


def make_step_overdue(client):
    session = client.session
    session[policy.STEP_DUE_SINCE] = time.time() - policy.settings.TWO_FACTOR_STEP_SECONDS - 1
    session.save()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the transaction to commit: the emails."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
