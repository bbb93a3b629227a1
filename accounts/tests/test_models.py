import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.admin import StaffAdminChangeForm
from accounts.forms.staff import StaffCreationForm
from accounts.models import Staff
from accounts.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


# Email: stored lower-cased and trimmed
# ------------------------------------------------------------------------------


def test_create_user_stores_email_lower_cased_and_trimmed(password):
    staff = Staff.objects.create_user(
        "  Ada.Lovelace@School.EXAMPLE ", password, first_name="Ada", last_name="Lovelace"
    )

    staff.refresh_from_db()
    assert staff.email == "ada.lovelace@school.example"


def test_save_stores_email_lower_cased_and_trimmed():
    staff = StaffFactory.build(email=" Ada@School.Example  ", first_name="Ada", last_name="L")

    staff.save()

    assert Staff.objects.get(pk=staff.pk).email == "ada@school.example"


def test_saving_an_existing_staff_member_lower_cases_a_changed_email(plain_staff):
    plain_staff.email = "NEW.Address@School.Example "
    plain_staff.save()

    assert Staff.objects.get(pk=plain_staff.pk).email == "new.address@school.example"


def test_admin_change_form_stores_email_lower_cased_and_trimmed(plain_staff):
    form = StaffAdminChangeForm(
        data={
            "email": "  Pat.Plain@School.Example ",
            "first_name": "Pat",
            "last_name": "Plain",
            "is_active": "on",
            "date_joined": "2024-09-01 08:30:00",
        },
        instance=plain_staff,
    )

    assert form.is_valid(), form.errors
    form.save()
    assert Staff.objects.get(pk=plain_staff.pk).email == "pat.plain@school.example"


def test_creation_form_stores_email_lower_cased_and_trimmed(db, password):
    form = StaffCreationForm(
        data={
            "email": " Ada@School.Example ",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "password1": password,
            "password2": password,
        }
    )

    assert form.is_valid(), form.errors
    form.save()
    assert Staff.objects.filter(email="ada@school.example").count() == 1


def test_creation_form_refuses_an_existing_email_in_another_case(plain_staff, password):
    form = StaffCreationForm(
        data={
            "email": "PLAIN@School.Example",
            "first_name": "Other",
            "last_name": "Person",
            "password1": password,
            "password2": password,
        }
    )

    assert not form.is_valid()
    assert form.errors["email"] == ["A staff member with this email already exists."]
    assert Staff.objects.count() == 1


# Email: unique without regard to case, in the database
# ------------------------------------------------------------------------------


def test_database_refuses_an_upper_case_email_written_by_update(plain_staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.filter(pk=plain_staff.pk).update(email="PLAIN@SCHOOL.EXAMPLE")

    assert Staff.objects.get(pk=plain_staff.pk).email == "plain@school.example"


def test_database_refuses_an_email_with_surrounding_spaces_written_by_update(plain_staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.filter(pk=plain_staff.pk).update(email=" plain@school.example ")


def test_database_refuses_a_duplicate_email_in_another_case_from_bulk_create(plain_staff):
    duplicate = Staff(email="Plain@School.Example", first_name="Pat", last_name="Twin")

    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.bulk_create([duplicate])

    assert Staff.objects.count() == 1


def test_database_refuses_a_duplicate_lower_case_email_from_bulk_create(plain_staff):
    duplicate = Staff(email="plain@school.example", first_name="Pat", last_name="Twin")

    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.bulk_create([duplicate])

    assert Staff.objects.count() == 1


def test_saving_a_duplicate_email_in_another_case_fails(plain_staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffFactory(email="PLAIN@school.example")

    assert Staff.objects.count() == 1


def test_full_clean_reports_a_duplicate_email_in_another_case(plain_staff):
    twin = StaffFactory.build(email="Plain@School.Example", first_name="Pat", last_name="Twin")

    with pytest.raises(ValidationError) as caught:
        twin.full_clean()

    assert caught.value.message_dict["email"] == ["A staff member with this email already exists."]


# The manager
# ------------------------------------------------------------------------------


def test_create_user_makes_an_active_staff_member_without_privileges(password):
    staff = Staff.objects.create_user("ada@school.example", password, first_name="Ada")

    assert staff.is_active
    assert not staff.is_staff
    assert not staff.is_superuser
    assert staff.check_password(password)
    assert staff.password != password


def test_create_user_without_a_password_makes_an_unusable_password():
    staff = Staff.objects.create_user("ada@school.example")

    assert not staff.has_usable_password()


def test_create_superuser_makes_an_active_staff_superuser(password):
    staff = Staff.objects.create_superuser(
        "Root@School.Example", password, first_name="Sam", last_name="Super"
    )

    staff.refresh_from_db()
    assert staff.email == "root@school.example"
    assert staff.is_active
    assert staff.is_staff
    assert staff.is_superuser
    assert staff.check_password(password)


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("is_staff", "Superuser must have is_staff=True."),
        ("is_superuser", "Superuser must have is_superuser=True."),
    ],
)
def test_create_superuser_refuses_a_false_flag(flag, message, password):
    with pytest.raises(ValueError, match=message):
        Staff.objects.create_superuser("root@school.example", password, **{flag: False})

    assert not Staff.objects.exists()


@pytest.mark.parametrize("email", ["", None])
@pytest.mark.parametrize("create", ["create_user", "create_superuser"])
def test_create_refuses_a_missing_email(create, email, password):
    with pytest.raises(ValueError, match="The email address must be set."):
        getattr(Staff.objects, create)(email, password)

    assert not Staff.objects.exists()


@pytest.mark.parametrize(
    "typed", ["plain@school.example", "PLAIN@School.Example", "  Plain@school.example  "]
)
def test_get_by_natural_key_ignores_case_and_surrounding_spaces(plain_staff, typed):
    assert Staff.objects.get_by_natural_key(typed) == plain_staff


def test_get_by_natural_key_does_not_find_an_unknown_email(plain_staff):
    with pytest.raises(Staff.DoesNotExist):
        Staff.objects.get_by_natural_key("someone.else@school.example")


# Names
# ------------------------------------------------------------------------------


def test_str_is_the_full_name():
    staff = StaffFactory.build(first_name="Ada", last_name="Lovelace")

    assert str(staff) == "Ada Lovelace"


def test_get_short_name_is_the_first_name():
    staff = StaffFactory.build(first_name="Ada", last_name="Lovelace")

    assert staff.get_short_name() == "Ada"


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_names_are_required(field):
    staff = StaffFactory.build(email="ada@school.example", first_name="Ada", last_name="Lovelace")
    setattr(staff, field, "")

    with pytest.raises(ValidationError) as caught:
        staff.full_clean()

    assert list(caught.value.message_dict) == [field]


def test_a_complete_staff_member_passes_full_clean():
    staff = StaffFactory.build(email="ada@school.example", first_name="Ada", last_name="Lovelace")

    staff.full_clean()


# The last active superuser
# ------------------------------------------------------------------------------

LAST_SUPERUSER = "This is the last active superuser: the site needs at least one."


def test_last_active_superuser_cannot_lose_is_superuser(superuser):
    superuser.is_superuser = False

    with pytest.raises(ValidationError) as caught:
        superuser.full_clean()

    assert caught.value.message_dict == {"is_superuser": [LAST_SUPERUSER]}


def test_last_active_superuser_cannot_be_deactivated(superuser):
    superuser.is_active = False

    with pytest.raises(ValidationError) as caught:
        superuser.full_clean()

    assert caught.value.message_dict == {"is_active": [LAST_SUPERUSER]}


def test_last_active_superuser_can_be_cleaned_unchanged(superuser):
    superuser.full_clean()


def test_an_inactive_superuser_does_not_count_as_another_active_superuser(superuser):
    StaffFactory(is_superuser=True, is_staff=True, is_active=False)
    superuser.is_active = False

    with pytest.raises(ValidationError):
        superuser.full_clean()


@pytest.mark.parametrize("flag", ["is_superuser", "is_active"])
def test_a_superuser_may_lose_a_flag_when_another_active_superuser_exists(superuser, flag):
    StaffFactory(is_superuser=True, is_staff=True)
    setattr(superuser, flag, False)

    superuser.full_clean()


def test_a_new_staff_member_who_is_not_superuser_passes_full_clean(superuser):
    newcomer = StaffFactory.build(email="new@school.example", first_name="N", last_name="Ew")

    newcomer.full_clean()


# Who may change or delete whom
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "target", "allowed"),
    [
        ("superuser", "superuser", True),
        ("superuser", "manager", True),
        ("superuser", "plain", True),
        ("manager", "superuser", False),
        ("manager", "manager", True),
        ("manager", "plain", True),
        ("plain", "superuser", False),
        ("plain", "plain", True),
    ],
)
def test_only_a_superuser_can_change_a_superuser(users_by_role, actor, target, allowed):
    refusal = users_by_role[target].refusal_to_change_by(users_by_role[actor])

    assert (refusal == "") is allowed


@pytest.mark.parametrize(
    ("actor", "target", "allowed"),
    [
        ("superuser", "superuser", False),
        ("superuser", "manager", True),
        ("superuser", "plain", True),
        ("manager", "manager", False),
        ("manager", "superuser", False),
        ("manager", "plain", True),
        ("plain", "plain", False),
        ("plain", "superuser", False),
    ],
)
def test_nobody_can_delete_themselves_and_only_a_superuser_a_superuser(
    users_by_role, actor, target, allowed
):
    refusal = users_by_role[target].refusal_to_delete_by(users_by_role[actor])

    assert (refusal == "") is allowed


def test_a_superuser_can_delete_another_superuser(superuser):
    other = StaffFactory(is_superuser=True, is_staff=True)

    assert other.refusal_to_delete_by(superuser) == ""
