import pytest

from accounts.tests.factories import StaffFactory
from subjects.tests.factories import SubjectGroupFactory


@pytest.fixture
def school(db):
    """Staff of every kind: in two groups and none, active, invited and inactive."""
    maths, science = SubjectGroupFactory(name="Mathematics"), SubjectGroupFactory(name="Science")
    for group in (maths, science, None):
        StaffFactory.create_batch(3, subject_group=group)
        StaffFactory(subject_group=group, is_active=False)
        for is_active in (True, False):
            invited = StaffFactory.build(subject_group=group, is_active=is_active)
            invited.set_unusable_password()
            invited.save()
    return maths, science
