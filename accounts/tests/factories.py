import factory
import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection

from accounts.models import Staff


def edit_data(staff, **changes):
    """What the staff edit form posts when it is saved unchanged, but for `changes`."""
    return {
        "email": staff.email,
        "first_name": staff.first_name,
        "last_name": staff.last_name,
        "subject_group": staff.subject_group_id or "",
        "version": staff.version,
        **changes,
    }


PASSWORD = "correct-horse-battery-staple"
# What people choose when they change or set a password in the tests.
NEW_PASSWORD = "violet harbour lights"


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@school.example")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


def staff_for_postgresql_plans(count, last_name):
    """`count` staff named `last_name(number)`, indexed and analysed, for PostgreSQL's planner.

    Skips the test where pg_trgm could not be created: search scans then, as it did before.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            pytest.skip("pg_trgm could not be created: search scans, as it did before")
    password = make_password(None)
    Staff.objects.bulk_create(
        Staff(
            email=f"teacher{number}@school.example",
            first_name=f"First{number}",
            last_name=last_name(number),
            password=password,
        )
        for number in range(count)
    )
    with connection.cursor() as cursor:
        # The GIN index's pending entries merged, and the statistics the planner reads.
        cursor.execute("SELECT gin_clean_pending_list('staff_search_trgm')")
        cursor.execute("ANALYZE accounts_staff")
