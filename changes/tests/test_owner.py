"""Every change to a kept record, one or many, is recorded, versioned and outdates the lists."""

import pytest
from django.db import transaction

from accounts.models import Staff
from accounts.tests.factories import StaffFactory
from audit.models import AuditEvent
from lists.models import DirectoryChange
from subjects.models import SubjectGroup

pytestmark = pytest.mark.django_db


def test_one_save_records_the_change_advances_the_version_and_outdates_the_lists(ada):
    token = DirectoryChange.objects.version()

    ada.last_name = "King"
    ada.save()

    assert Staff.objects.get(pk=ada.pk).version == 2
    assert AuditEvent.objects.about(ada).filter(kind="changed").exists()
    assert DirectoryChange.objects.version() != token


def test_a_sign_in_time_saved_alone_is_no_change_to_show(ada):
    token = DirectoryChange.objects.version()
    events = AuditEvent.objects.count()

    ada.last_login = ada.date_joined
    ada.save(update_fields=["last_login"])

    assert (AuditEvent.objects.count(), DirectoryChange.objects.version()) == (events, token)
    assert Staff.objects.get(pk=ada.pk).version == 1


def test_many_created_at_once_are_each_recorded_and_outdate_the_lists(subject_group):
    token = DirectoryChange.objects.version()

    created = Staff.create_in_bulk(
        [
            Staff(
                email=f"n{number}@school.example",
                first_name="N",
                last_name=f"New{number}",
                subject_group=subject_group,
            )
            for number in range(3)
        ]
    )

    events = [
        event
        for event in AuditEvent.objects.filter(kind="created")
        if event.target_type.model == "staff"
    ]
    assert sorted(event.description for event in events) == [
        f"System added N New{number}" for number in range(3)
    ]
    assert all("Subject group Mathematics" in event.created_with for event in events)
    assert len(created) == 3
    assert DirectoryChange.objects.version() != token


def test_many_changed_at_once_are_each_recorded_versioned_and_outdate_the_lists(subject_group):
    members = [StaffFactory(email=f"m{number}@school.example") for number in range(3)]
    token = DirectoryChange.objects.version()
    loaded = list(Staff.objects.filter(pk__in=[member.pk for member in members]))
    for member in loaded:
        member.subject_group = subject_group

    Staff.update_in_bulk(loaded, ["subject_group"])

    assert set(
        Staff.objects.filter(pk__in=[m.pk for m in members]).values_list("version", flat=True)
    ) == {2}
    changes = AuditEvent.objects.filter(kind="changed").values_list("changes", flat=True)
    assert [change[0]["new"] for change in changes] == ["Mathematics"] * 3
    assert DirectoryChange.objects.version() != token


def test_a_change_that_rolls_back_leaves_no_event_and_the_lists_as_they_were(ada):
    token = DirectoryChange.objects.version()

    with pytest.raises(RuntimeError), transaction.atomic():
        SubjectGroup.create_in_bulk([SubjectGroup(name="Latin")])
        raise RuntimeError

    assert not SubjectGroup.objects.filter(name="Latin").exists()
    assert not AuditEvent.objects.filter(target_label="Latin").exists()
    assert DirectoryChange.objects.version() == token
