import os
import tempfile

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from hypothesis import settings as hypothesis_settings

from accounts.tests.factories import PASSWORD, StaffFactory
from subjects.tests.factories import SubjectGroupFactory
from two_factor.tests.sessions import verify_force_login

# Property tests keep no database of examples, and their caches outside the checkout.
hypothesis_settings.register_profile("schoolstaff", database=None)
hypothesis_settings.load_profile("schoolstaff")
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "schoolstaff-hypothesis")
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_step(monkeypatch):
    """client.force_login signs in as far as a person who has passed both steps.

    Tests of the second step itself sign in with the password only (two_factor.tests).
    """
    verify_force_login(monkeypatch)


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def subject_group(db):
    return SubjectGroupFactory(name="Mathematics")


@pytest.fixture
def plain_staff(db):
    return StaffFactory(email="plain@school.example", first_name="Pat", last_name="Plain")


@pytest.fixture
def manager(db):
    staff = StaffFactory(email="manager@school.example", first_name="Mary", last_name="Manager")
    staff.groups.add(Group.objects.get(name="Staff managers"))
    return staff


@pytest.fixture
def superuser(db):
    return StaffFactory(
        email="root@school.example",
        first_name="Sam",
        last_name="Super",
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def ada(db):
    """A plain staff member whom the tests view, edit, invite, lock out and delete."""
    return StaffFactory(email="ada@school.example", first_name="Ada", last_name="Lovelace")


@pytest.fixture
def other_superuser(db):
    return StaffFactory(
        email="grace@school.example",
        first_name="Grace",
        last_name="Hopper",
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def users_by_role(plain_staff, manager, superuser):
    """Each role's user by name, for tables of role × page."""
    return {"plain": plain_staff, "manager": manager, "superuser": superuser}


@pytest.fixture
def client_as(db):
    """A test client signed in as the given staff member: each person has their own."""
    clients = {}

    def sign_in(staff):
        if staff.pk not in clients:
            clients[staff.pk] = Client()
            clients[staff.pk].force_login(staff)
        return clients[staff.pk]

    return sign_in


@pytest.fixture
def can_sign_in(db):
    """Whether the login page accepts an email and password, as a person would type them."""

    def attempt(email, password):
        response = Client().post(reverse("login"), {"username": email, "password": password})
        return response.status_code == 302

    return attempt


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache, as a fresh server does."""
    cache.clear()
