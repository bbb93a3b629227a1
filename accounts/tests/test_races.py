"""Requests that race each other on PostgreSQL are answered as if they had come one by one.

SQLite runs one writing transaction at a time (IMMEDIATE, see settings), so these
races cannot happen there; the PostgreSQL run of the suite checks them. Each test
holds its requests at a barrier inside the code, so that they really overlap.
"""

import threading
import time

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from accounts.forms.staff import StaffCreationForm
from accounts.models import (
    EmailRequest,
    EmailRequestQuerySet,
    Staff,
    StaffMark,
    StaffStretch,
    StaffStretchQuerySet,
    StaffTally,
)
from accounts.staff_import import StaffImport
from accounts.tests.factories import StaffFactory
from accounts.tests.staff_writes import counted_one_by_one, stretched

pytestmark = [
    # Emptied after each test and refilled with what the migrations made, as the browser
    # tests are: a database emptied any other way gets new content type ids, which a later
    # refill would clash with.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises writing transactions; the PostgreSQL run checks the races",
    ),
]


def at_once(*requests):
    """Run each request in a thread of its own, all together; return their responses."""
    responses = [None] * len(requests)

    def run(index, request):
        try:
            responses[index] = request()
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses


def held_at(barrier, method):
    """`method`, made to wait at `barrier` after it has run, until every racer is there."""

    def wait_then_return(*args, **kwargs):
        result = method(*args, **kwargs)
        barrier.wait(timeout=10)
        return result

    return wait_then_return


@pytest.fixture
def manager(db):
    """Someone who may add and change staff: given permissions, as the tables are emptied
    between these tests, the "Staff managers" group its migration made included."""
    staff = StaffFactory(email="racing.manager@school.example")
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_staff", "change_staff", "view_staff"])
    )
    return staff


def signed_in(staff):
    client = Client()
    client.raise_request_exception = False
    client.force_login(staff)
    return client


def test_two_creates_of_one_email_at_once_give_the_form_error_not_a_server_error(
    manager, monkeypatch
):
    barrier = threading.Barrier(2)
    monkeypatch.setattr(StaffCreationForm, "clean", held_at(barrier, StaffCreationForm.clean))
    data = {"email": "twice@school.example", "first_name": "Tia", "last_name": "Twice"}
    clients = [signed_in(manager), signed_in(manager)]

    responses = at_once(
        *(lambda client=client: client.post(reverse("staff:create"), data) for client in clients)
    )

    assert sorted(response.status_code for response in responses) == [200, 302]
    [refused] = [response for response in responses if response.status_code == 200]
    assert "A staff member with this email already exists." in refused.content.decode()
    assert Staff.objects.filter(email="twice@school.example").count() == 1


def test_two_import_confirmations_at_once_import_once_and_say_so(manager, monkeypatch):
    text = b"email,first_name,last_name\nnew@school.example,Nia,New\n"
    clients = [signed_in(manager), signed_in(manager)]
    tokens = []
    for client in clients:
        client.post(reverse("staff:import"), {"file": SimpleUploadedFile("s.csv", text)})
        tokens.append(client.session["pending_staff_import"]["token"])
    barrier = threading.Barrier(2)
    save = StaffImport.save

    def save_once_both_have_checked(self):
        assert self.errors == []  # Checked against the records as they are now.
        barrier.wait(timeout=10)
        return save(self)

    monkeypatch.setattr(StaffImport, "save", save_once_both_have_checked)

    responses = at_once(
        *(
            lambda client=client, token=token: client.post(
                reverse("staff:import_preview"), {"token": token}, follow=True
            )
            for client, token in zip(clients, tokens, strict=True)
        )
    )

    assert [response.status_code for response in responses] == [200, 200]
    pages = " ".join(response.content.decode() for response in responses)
    assert "Staff imported: 1 created" in pages
    assert "Someone else added some of these staff" in pages
    assert Staff.objects.filter(email="new@school.example").count() == 1


def test_the_email_limits_hold_under_parallel_requests(settings, monkeypatch):
    settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS = 3
    StaffFactory(email="target@school.example")
    racers = 8
    barrier = threading.Barrier(racers)
    allow = EmailRequestQuerySet.allow

    def allow_when_all_are_here(self, *args, **kwargs):
        barrier.wait(timeout=10)
        return allow(self, *args, **kwargs)

    monkeypatch.setattr(EmailRequestQuerySet, "allow", allow_when_all_are_here)

    def ask():
        client = Client()
        client.raise_request_exception = False
        return client.post(reverse("password_reset"), {"email": "target@school.example"})

    responses = at_once(*([ask] * racers))

    assert sorted(response.status_code for response in responses) == [302] * 3 + [429] * 5
    assert EmailRequest.objects.filter(email="target@school.example").count() == 3


def while_a_change_is_open(change, meanwhile):
    """Run `change` in a transaction held open while `meanwhile` runs in another.

    `meanwhile` fails rather than waits on the open transaction's locks (after 2
    s); what it returns is returned.
    """
    started, finished = threading.Event(), threading.Event()

    def held_open():
        with transaction.atomic():
            change()
            started.set()
            finished.wait(timeout=10)

    def then():
        started.wait(timeout=10)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                return meanwhile()
        finally:
            finished.set()

    return at_once(held_open, then)[1]


def test_concurrent_changes_never_wait_for_each_other(db):
    """Each change to staff or groups adds its own rows, for the lists and their counts."""
    ada, grace = StaffFactory(), StaffFactory()

    def change(member, first_name):
        def save():
            member.first_name, member.is_active = first_name, False
            member.save()
            return "saved"

        return save

    assert while_a_change_is_open(change(ada, "Adeline"), change(grace, "Gracie")) == "saved"
    assert {s.first_name for s in Staff.objects.filter(pk__in=[ada.pk, grace.pk])} == {
        "Adeline",
        "Gracie",
    }
    assert StaffTally.objects.filter(is_active=False).total() == 2


def test_the_tally_is_compacted_without_waiting_for_open_changes_or_losing_them(db):
    """A change's rows in the staff tally are only ever added: a compaction leaves them be."""
    StaffFactory.create_batch(3)
    ada = StaffFactory()

    def deactivate_ada():
        ada.is_active = False
        ada.save()

    def compaction():
        StaffTally.objects.compact()
        return "compacted"

    assert while_a_change_is_open(deactivate_ada, compaction) == "compacted"
    assert StaffTally.objects.counts() == {
        "active": 3,
        "invited": 0,
        "inactive": 1,
        "without_group": 3,
    }


def test_setting_the_marks_waits_for_an_open_change_and_counts_it(db, monkeypatch):
    """A member added as the marks are set is counted in the stretch the new marks give them."""
    monkeypatch.setattr("accounts.models.STAFF_PER_STRETCH", 2)
    for name in "ABCDEF":
        StaffFactory(last_name=name)
    started = threading.Event()

    def add_zed():
        # Counted by its trigger in the only stretch there is yet, "".
        with transaction.atomic():
            StaffFactory(last_name="Zed")
            started.set()
            time.sleep(0.5)
        return "added"

    def set_the_marks():
        started.wait(timeout=10)
        StaffStretch.objects.mark("last_name")
        return "marked"

    assert at_once(add_zed, set_the_marks) == ["added", "marked"]
    assert StaffMark.objects.filter(field="last_name").count() > 1
    assert stretched() == counted_one_by_one()


def test_readers_that_find_a_stretch_too_long_together_set_the_marks_once(db, monkeypatch):
    monkeypatch.setattr("accounts.models.STAFF_PER_STRETCH", 1)  # Too long past 4 staff.
    for name in "ABCDEF":
        StaffFactory(last_name=name)
    both_read = threading.Barrier(2, timeout=10)
    staff_unchanged = StaffStretchQuerySet._staff_unchanged
    set_marks = StaffStretchQuerySet._set_marks
    marked = []

    def after_both_read(self):
        both_read.wait()
        return staff_unchanged(self)

    def counted(self, field):
        marked.append(field)
        set_marks(self, field)

    monkeypatch.setattr(StaffStretchQuerySet, "_staff_unchanged", after_both_read)
    monkeypatch.setattr(StaffStretchQuerySet, "_set_marks", counted)

    def read():
        return StaffStretch.objects.sizes("last_name")

    first, second = at_once(read, read)

    assert marked == ["last_name"]
    assert first == second
    assert sum(staff for _, staff in first) == 6
    assert stretched() == counted_one_by_one()
