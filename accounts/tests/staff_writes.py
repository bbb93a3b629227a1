"""Writes to the staff of every kind, by every path, for the counts kept by the database,
and the stretches counted by hand to compare with."""

from collections import Counter

from django.contrib.auth.hashers import make_password
from django.db.models import Max, Sum

from accounts.models import INVITED, STRETCHED_FIELDS, Staff, StaffMark, StaffStretch
from accounts.tests.factories import NEW_PASSWORD


def invite(school):
    maths, _ = school
    Staff.objects.create_user(
        "new@school.example", first_name="New", last_name="One", subject_group=maths
    )


def choose_a_password(school):
    member = Staff.objects.filter(INVITED).first()
    member.set_password(NEW_PASSWORD)
    member.save()


def deactivate(school):
    member = Staff.objects.filter(is_active=True).first()
    member.is_active = False
    member.save(update_fields=["is_active"])


def move_to_another_group(school):
    maths, science = school
    member = Staff.objects.filter(subject_group=maths).first()
    member.subject_group = science
    member.save()


def delete_one(school):
    Staff.objects.filter(is_active=False).first().delete()


def deactivate_a_group_at_once(school):
    maths, _ = school
    Staff.objects.filter(subject_group=maths).update(is_active=False)


def move_everyone_out_of_groups(school):
    Staff.objects.update(subject_group=None)


def delete_the_invited(school):
    Staff.objects.filter(INVITED).delete()


def delete_a_group(school):
    # Its members move to no group (SET_NULL).
    school[0].delete()


def create_in_bulk(school):
    _, science = school
    Staff.create_in_bulk(
        [
            Staff(
                email=f"bulk{number}@school.example",
                first_name="Bulk",
                last_name="Made",
                subject_group=science if number % 2 else None,
                is_active=number % 3 != 0,
                password=make_password(None),
            )
            for number in range(20)
        ]
    )


def update_in_bulk(school):
    maths, _ = school
    members = list(Staff.objects.filter(subject_group=None))
    for member in members:
        member.subject_group, member.is_active = maths, True
    Staff.update_in_bulk(members, ["subject_group", "is_active"])


def rename(school):
    member = Staff.objects.filter(is_active=True).first()
    member.last_name, member.first_name = "Zebedee", "Aaron"
    member.email = "aaa.zebedee@school.example"
    member.save()


def rename_everyone_at_once(school):
    Staff.objects.update(last_name="Same")


WRITES = [
    rename,
    rename_everyone_at_once,
    invite,
    choose_a_password,
    deactivate,
    move_to_another_group,
    delete_one,
    deactivate_a_group_at_once,
    move_everyone_out_of_groups,
    delete_the_invited,
    delete_a_group,
    create_in_bulk,
    update_in_bulk,
]


def counted_one_by_one():
    """{(field, mark, active): staff}, finding each member's mark in the marks themselves."""
    counts = Counter()
    for member in Staff.objects.all():
        for field in STRETCHED_FIELDS:
            marks = StaffMark.objects.filter(field=field, value__lte=getattr(member, field))
            mark = marks.aggregate(mark=Max("value"))["mark"] or ""
            counts[field, mark, member.is_active] += 1
    return dict(counts)


def summed(counts):
    """{kind: staff}, as the rows of a model of counts (StaffTally, StaffStretch) sum them."""
    kind = counts.objects.all().kind
    sizes = counts.objects.order_by().values_list(*kind).annotate(staff=Sum("change"))
    return {tuple(kind): staff for *kind, staff in sizes if staff}


def stretched():
    """{(field, mark, active): staff}, as the stretches have them."""
    return summed(StaffStretch)
