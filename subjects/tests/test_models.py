"""SubjectGroup: its order, its name, and the rules the database keeps."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.tests.factories import StaffFactory
from subjects.models import SubjectGroup
from subjects.tests.factories import SubjectGroupFactory

pytestmark = pytest.mark.django_db


def test_groups_are_ordered_by_name():
    for name in ("Zoology", "Art", "Music"):
        SubjectGroupFactory(name=name)

    assert [group.name for group in SubjectGroup.objects.all()] == ["Art", "Music", "Zoology"]


def test_str_is_the_name():
    assert str(SubjectGroupFactory(name="Mathematics")) == "Mathematics"


@pytest.mark.parametrize("duplicate", ["maths", "MATHS", "Maths", "mAtHs"])
def test_database_refuses_a_duplicate_name_in_any_case(duplicate):
    SubjectGroupFactory(name="Maths")

    with pytest.raises(IntegrityError), transaction.atomic():
        SubjectGroup.objects.create(name=duplicate)

    assert list(SubjectGroup.objects.values_list("name", flat=True)) == ["Maths"]


def test_database_allows_renaming_a_group_to_another_case_of_its_own_name():
    group = SubjectGroupFactory(name="Maths")

    group.name = "MATHS"
    group.save()

    group.refresh_from_db()
    assert group.name == "MATHS"


def test_model_validation_names_the_duplicate():
    SubjectGroupFactory(name="Maths")

    with pytest.raises(ValidationError, match="A subject group with this name already exists."):
        SubjectGroup(name="maths").full_clean()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("", "This field cannot be blank.", id="empty"),
        pytest.param("M" * 61, "at most 60 characters", id="61-characters"),
    ],
)
def test_model_validation_refuses_a_bad_name(name, message):
    with pytest.raises(ValidationError, match=message):
        SubjectGroup(name=name).full_clean()


def test_a_60_character_name_is_allowed():
    SubjectGroup(name="M" * 60).full_clean()


def test_with_staff_count_counts_each_groups_members():
    maths, art, music = (SubjectGroupFactory(name=name) for name in ("Maths", "Art", "Music"))
    StaffFactory.create_batch(3, subject_group=maths)
    StaffFactory(subject_group=art)
    StaffFactory(subject_group=None)

    counts = {group.name: group.staff_count for group in SubjectGroup.objects.with_staff_count()}

    assert counts == {"Maths": 3, "Art": 1, "Music": 0}


def test_with_staff_count_keeps_the_order_by_name():
    for name in ("Zoology", "Art", "Music"):
        SubjectGroupFactory(name=name)

    groups = SubjectGroup.objects.with_staff_count()

    assert [group.name for group in groups] == ["Art", "Music", "Zoology"]


def test_deleting_a_group_keeps_its_members_without_a_group():
    maths = SubjectGroupFactory(name="Maths")
    members = StaffFactory.create_batch(2, subject_group=maths)

    maths.delete()

    for member in members:
        member.refresh_from_db()
        assert member.subject_group is None
