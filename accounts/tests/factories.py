import factory

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
