import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.models import STRETCHED_FIELDS, Staff, StaffMark
from accounts.tests.factories import StaffFactory
from subjects.models import SubjectGroup

pytestmark = pytest.mark.django_db

MANAGER_EMAIL = "manager@demo.school.example"
MEMBER_EMAIL = "member@demo.school.example"


def seed_demo(*args, **options):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, **options)
    return out.getvalue()


def demo_staff():
    return Staff.objects.filter(email__endswith="@demo.school.example").exclude(email=MANAGER_EMAIL)


def manager_password(output):
    return re.search(r"with the password (\S+)$", output, re.MULTILINE)[1]


def test_creates_the_staff_asked_for_spread_over_the_groups_asked_for():
    output = seed_demo(staff=300, groups=5, seed=1)

    assert demo_staff().count() == 300
    assert SubjectGroup.objects.count() == 5
    members = SubjectGroup.objects.with_staff_count()
    assert all(group.staff_count > 20 for group in members)
    assert 0 < demo_staff().filter(subject_group=None).count() < 30
    assert "300 demo staff" in output


def test_the_staff_list_is_marked_for_deep_pages_before_anyone_asks_for_one(monkeypatch):
    monkeypatch.setattr("accounts.models.STAFF_PER_STRETCH", 10)  # Too long past 40 staff.

    seed_demo(staff=300, groups=3, seed=1)

    for field in STRETCHED_FIELDS:
        assert StaffMark.objects.filter(field=field).count() >= 30


def test_demo_emails_are_unique_lower_case_and_numbered():
    seed_demo(staff=300, groups=3, seed=2)

    emails = list(demo_staff().values_list("email", flat=True))
    assert len(set(emails)) == 300
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+\.\d+@demo\.school\.example", e) for e in emails)


def test_demo_staff_are_never_staff_or_superusers():
    seed_demo(staff=100, groups=3, seed=3)

    assert not demo_staff().filter(is_staff=True).exists()
    assert not demo_staff().filter(is_superuser=True).exists()


def test_existing_accounts_and_groups_are_left_as_they_were(subject_group):
    existing = [
        StaffFactory(email="ada@school.example", subject_group=subject_group),
        # An account that looks like demo data is still somebody's.
        StaffFactory(email="ada.smith.1@demo.school.example", first_name="Ada"),
    ]
    before = list(Staff.objects.order_by("pk").values())

    seed_demo(staff=50, groups=3, seed=5)
    seed_demo(staff=60, groups=3, seed=6, manager=True)

    after = Staff.objects.filter(pk__in=[staff.pk for staff in existing]).order_by("pk")
    assert list(after.values()) == before
    assert SubjectGroup.objects.get(pk=subject_group.pk).name == "Mathematics"
    # The existing "Mathematics" group is reused, not duplicated.
    assert SubjectGroup.objects.count() == 3


def test_running_again_adds_only_what_is_missing():
    seed_demo(staff=40, groups=2, seed=7)
    first_run = set(demo_staff().values_list("pk", "email"))

    output = seed_demo(staff=40, groups=2, seed=7)
    assert set(demo_staff().values_list("pk", "email")) == first_run
    assert "Created 0 subject groups and 0 demo staff" in output

    seed_demo(staff=70, groups=4, seed=7)
    assert demo_staff().count() == 70
    assert SubjectGroup.objects.count() == 4
    assert first_run < set(demo_staff().values_list("pk", "email"))


def test_manager_option_prints_a_login_that_works_on_the_login_page(can_sign_in):
    output = seed_demo(staff=5, groups=1, manager=True)

    password = manager_password(output)
    assert MANAGER_EMAIL in output
    assert can_sign_in(MANAGER_EMAIL, password)


def test_demo_manager_is_a_staff_manager_who_can_reach_the_admin():
    seed_demo(staff=0, groups=0, manager=True)

    manager = Staff.objects.get(email=MANAGER_EMAIL)
    assert manager.is_staff
    assert not manager.is_superuser
    assert manager.groups.filter(name="Staff managers").exists()
    assert manager.has_perms(
        f"{app}.{action}_{model}"
        for app, model in [("accounts", "staff"), ("subjects", "subjectgroup")]
        for action in ["add", "change", "delete", "view"]
    )


def test_manager_option_again_resets_the_password_without_emailing(can_sign_in):
    old_password = manager_password(seed_demo(staff=0, groups=0, manager=True))
    Staff.objects.filter(email=MANAGER_EMAIL).update(is_active=False, must_change_password=True)
    Staff.objects.get(email=MANAGER_EMAIL).groups.clear()

    new_password = manager_password(seed_demo(staff=0, groups=0, manager=True))

    assert Staff.objects.filter(email=MANAGER_EMAIL).count() == 1
    assert not can_sign_in(MANAGER_EMAIL, old_password)
    assert can_sign_in(MANAGER_EMAIL, new_password)
    assert Group.objects.get(name="Staff managers").user_set.filter(email=MANAGER_EMAIL).exists()
    assert mail.outbox == []


def test_more_groups_than_subjects_is_refused():
    with pytest.raises(CommandError, match="--groups"):
        seed_demo(groups=1000)


def test_member_option_prints_the_login_of_a_plain_member(can_sign_in):
    output = seed_demo(staff=5, groups=1, manager=True, member=True)

    login = re.search(r"as (member@\S+) with the password (\S+)$", output, re.MULTILINE)
    assert login[1] == MEMBER_EMAIL
    assert can_sign_in(MEMBER_EMAIL, login[2])
    member = Staff.objects.get(email=MEMBER_EMAIL)
    assert not member.is_staff
    assert not member.is_superuser
    assert not member.groups.exists()
    assert not member.get_all_permissions()
