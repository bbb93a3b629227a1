"""Bad values are answered clearly, never with a server error, and nothing is saved half-way."""

import csv
import io
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertFormError

from accounts.models import Staff
from accounts.staff_export import StaffExport
from accounts.staff_import import StaffImport
from accounts.tests.admin_forms import admin_change_data
from accounts.tests.factories import StaffFactory, edit_data
from audit.actors import client_ip
from audit.models import AuditEvent
from subjects.models import SubjectGroup
from subjects.tests.factories import SubjectGroupFactory

pytestmark = pytest.mark.django_db


def content_of(response):
    return b"".join(response.streaming_content).decode("utf-8-sig")


def cache_writes():
    """Count the keys written to the cache, whatever the cache backend."""
    written = set()

    def spy(method):
        def write(key, *args, **kwargs):
            written.add(key)
            return method(key, *args, **kwargs)

        return write

    patches = [mock.patch.object(cache, name, spy(getattr(cache, name))) for name in ("set", "add")]
    return written, patches


# Exports
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["staff:export", "audit:export"])
def test_the_same_export_twice_gives_the_same_file(client_as, superuser, ada, url):
    client = client_as(superuser)

    first = content_of(client.get(reverse(url)))
    again = client.get(reverse(url))

    assert again.status_code == 200
    assert content_of(again) == first


def test_an_export_renders_no_page_and_keeps_nothing_in_the_cache(client_as, manager, ada):
    client = client_as(manager)
    written, patches = cache_writes()

    with patches[0], patches[1]:
        response = client.get(reverse("staff:export"), {"q": "ada"})
        content = content_of(response)

    assert "ada@school.example" in content
    assert not [template.name for template in response.templates]
    assert written == set()


def test_every_cell_of_both_exports_is_quoted(client_as, superuser):
    StaffFactory(email="ada@school.example", first_name="Ada;=1+1", last_name="Lovelace")
    Client().post(reverse("login"), {"username": "a;=1+1@school.example", "password": "x"})
    client = client_as(superuser)

    for url in ("staff:export", "audit:export"):
        text = content_of(client.get(reverse(url), {"status": "all"}))
        for cells, line in zip(csv.reader(io.StringIO(text)), text.splitlines(), strict=True):
            # A spreadsheet splitting on ";" keeps each quoted cell whole.
            assert line == ",".join('"' + cell.replace('"', '""') + '"' for cell in cells)
        assert '"Ada;=1+1"' in text or "a;=1+1@school.example" in text


@pytest.mark.parametrize("name", ["'=1+1", "'@home", "'-5", "''", "O'Brien", "'Neill", "=1+1"])
def test_exporting_and_importing_again_changes_nobody(name):
    StaffFactory(email="eve@school.example", first_name=name, last_name=name)
    exported = "".join(StaffExport(Staff.objects.all()).chunks()).lstrip("\ufeff")

    staff_import = StaffImport(exported)

    assert staff_import.errors == []
    assert staff_import.counts == (0, 0, 1)


# The audit trail's dates
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("until", ["9999-12-31", "31/12/9999"])
@pytest.mark.parametrize("url", ["audit:list", "audit:export"])
def test_a_date_beyond_any_record_is_ignored_with_a_notice(client_as, superuser, url, until):
    response = client_as(superuser).get(reverse(url), {"until": until})

    assert response.status_code == 200
    if url == "audit:list":
        assertContains(response, "choose a day between 1900 and 2100")
    else:
        content_of(response)


@pytest.mark.parametrize("url", ["audit:list", "audit:export"])
def test_the_first_day_of_year_one_is_ignored_east_of_utc_too(client_as, superuser, settings, url):
    settings.TIME_ZONE = "Asia/Tokyo"
    AuditEvent.objects.record(AuditEvent.Kind.LOGIN, superuser, actor=superuser)

    response = client_as(superuser).get(reverse(url), {"since": "0001-01-01"})

    assert response.status_code == 200
    if url == "audit:export":
        assert "Sam Super signed in" in content_of(response)


# Sign-in and client addresses
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("forwarded", ["not-an-address", "999.1.1.1", "<script>", "1.2.3.4:80"])
def test_a_forwarded_address_that_is_no_address_is_not_used(settings, rf, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", headers={"x-forwarded-for": forwarded})

    assert client_ip(request) == ""


def test_sign_in_reset_and_invitation_work_behind_a_proxy_that_forwards_garbage(
    settings, client_as, manager
):
    settings.TRUSTED_PROXY_COUNT = 1
    headers = {"x-forwarded-for": "not-an-address"}
    invited = StaffFactory(email="new@school.example", password=None)

    login = Client(headers=headers).post(
        reverse("login"), {"username": "nobody@school.example", "password": "wrong"}
    )
    reset = Client(headers=headers).post(
        reverse("password_reset"), {"email": "nobody@school.example"}
    )
    resend = client_as(manager).post(
        reverse("staff:resend_invitation", kwargs={"pk": invited.pk}), headers=headers
    )

    assert (login.status_code, reset.status_code, resend.status_code) == (200, 302, 302)
    # Recorded as coming from no known address, rather than from what the header made up.
    assert AuditEvent.objects.exists()
    assert not AuditEvent.objects.exclude(ip=None).exists()


# Dates on an account
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_the_admin_refuses_a_date_joined_no_page_could_show(
    client_as, superuser, ada, settings, time_zone, day
):
    settings.TIME_ZONE = time_zone
    joined = Staff.objects.get(pk=ada.pk).date_joined

    response = client_as(superuser).post(
        reverse("admin:accounts_staff_change", args=[ada.pk]),
        admin_change_data(ada, date_joined_0=day, date_joined_1="00:00:00"),
    )

    assert response.status_code == 200
    assertContains(response, "Enter a date between 1900 and 2100.")
    assert Staff.objects.get(pk=ada.pk).date_joined == joined


def test_every_path_refuses_a_date_no_page_could_show(ada):
    ada.date_joined = ada.date_joined.replace(year=9999)

    with pytest.raises(ValidationError, match="Enter a date between 1900 and 2100."):
        ada.full_clean()


# Names
# ------------------------------------------------------------------------------
INVISIBLE_OR_CONTROL = [
    pytest.param("\u200b", id="zero-width-space-only"),
    pytest.param("\ufeff", id="byte-order-mark-only"),
    pytest.param("Ada\x1bLovelace", id="escape"),
    pytest.param("Ada\x07", id="bell"),
    pytest.param("Ada\x7f", id="delete"),
    pytest.param("Ada\nLovelace", id="line-break"),
    pytest.param("Ada\u2028Lovelace", id="line-separator"),
    pytest.param("\u202eecalevoL", id="right-to-left-override"),
    pytest.param("Ada\u2066", id="bidi-isolate"),
]
REAL_NAMES = [
    pytest.param("Zoë", id="accent"),
    pytest.param("O'Brien", id="apostrophe"),
    pytest.param("Anne-Marie", id="hyphen"),
    pytest.param("Mary Ann", id="space"),
    pytest.param("\u0645\u06cc\u200c\u0631\u0632\u0627", id="persian-zero-width-non-joiner"),
    pytest.param("李", id="chinese"),
]


@pytest.mark.parametrize("name", INVISIBLE_OR_CONTROL)
def test_the_site_refuses_names_with_control_or_invisible_characters(client_as, manager, name):
    response = client_as(manager).post(
        reverse("staff:create"),
        {"email": "new@school.example", "first_name": name, "last_name": "New"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["first_name"]
    assert not Staff.objects.filter(email="new@school.example").exists()


@pytest.mark.parametrize("name", INVISIBLE_OR_CONTROL)
def test_the_admin_refuses_names_with_control_or_invisible_characters(
    client_as, superuser, ada, name
):
    response = client_as(superuser).post(
        reverse("admin:accounts_staff_change", args=[ada.pk]),
        admin_change_data(ada, last_name=name),
    )

    assert response.status_code == 200
    assert Staff.objects.get(pk=ada.pk).last_name == "Lovelace"


@pytest.mark.parametrize("name", INVISIBLE_OR_CONTROL)
def test_the_import_refuses_names_with_control_or_invisible_characters(name):
    quoted = name.replace('"', '""')
    staff_import = StaffImport(f'email,first_name,last_name\nnew@school.example,"{quoted}",New\n')

    assert [error.line for error in staff_import.errors] == [2]
    assert "first name" in staff_import.errors[0].reason


@pytest.mark.parametrize("name", INVISIBLE_OR_CONTROL)
def test_group_names_with_control_or_invisible_characters_are_refused(client_as, manager, name):
    response = client_as(manager).post(reverse("subjects:create"), {"name": name})

    assert response.status_code == 200
    assert not SubjectGroup.objects.exists()


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names_are_accepted_everywhere(client_as, manager, ada, name):
    client = client_as(manager)

    client.post(reverse("staff:update", kwargs={"pk": ada.pk}), edit_data(ada, first_name=name))
    client.post(reverse("subjects:create"), {"name": name})
    staff_import = StaffImport(f"email,first_name,last_name\nnew@school.example,{name},New\n")

    assert Staff.objects.get(pk=ada.pk).first_name == name
    assert SubjectGroup.objects.filter(name=name).exists()
    assert staff_import.errors == []


@pytest.mark.parametrize(
    ("existing", "duplicate"), [("Économie", "économie"), ("ß", "ẞ"), ("Ωmega", "ωmega")]
)
def test_group_names_differing_only_in_case_are_refused_in_any_alphabet(
    client_as, manager, existing, duplicate
):
    SubjectGroupFactory(name=existing)

    response = client_as(manager).post(reverse("subjects:create"), {"name": duplicate})

    assertFormError(
        response.context["form"], "name", "A subject group with this name already exists."
    )
    assert list(SubjectGroup.objects.values_list("name", flat=True)) == [existing]


def test_the_database_refuses_group_names_differing_only_in_case_in_any_alphabet(db):
    from django.db import IntegrityError, transaction

    SubjectGroupFactory(name="Économie")

    with pytest.raises(IntegrityError), transaction.atomic():
        SubjectGroup.objects.bulk_create([SubjectGroup(name="économie")])


# The list cache
# ------------------------------------------------------------------------------
def test_made_up_parameters_add_nothing_to_the_cache(client_as, manager, ada):
    client = client_as(manager)
    client.get(reverse("staff:list"))
    written, patches = cache_writes()

    with patches[0], patches[1]:
        for number in range(20):
            client.get(reverse("staff:list"), {f"junk{number}": "x", "utm": number})
            client.get(reverse("staff:list"), {"page": 1000 + number})
            client.get(reverse("staff:list"), {"group": f"nonsense{number}"})

    assert written == set()


def test_one_entry_per_list_page_however_its_address_is_written(client_as, manager, ada):
    client = client_as(manager)
    written, patches = cache_writes()

    with patches[0], patches[1]:
        for query in ["", "?sort=last_name", "?status=active&page=1", "?q=&group=", "?page=1"]:
            client.get(reverse("staff:list") + query)

    # The page's content, once.
    assert len(written) == 1


def test_a_page_past_the_end_says_which_page_is_shown(client_as, manager, ada):
    response = client_as(manager).get(reverse("staff:list"), {"page": 999})

    assertContains(response, "There is no page “999”: showing page 1 of 1.")


# The admin's own parameters
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("selected", ["", "abc", "1.5", str(2**63), "9" * 25])
def test_the_admin_says_nothing_was_selected_for_a_row_that_cannot_exist(
    client_as, superuser, ada, selected
):
    response = client_as(superuser).post(
        reverse("admin:accounts_staff_changelist"),
        # As the changelist's own form posts it, "Go" being button 0.
        {"action": "delete_selected", "index": "0", "_selected_action": [selected]},
        follow=True,
    )

    assertContains(response, "Items must be selected in order to perform actions on them.")
    assert Staff.objects.filter(pk=ada.pk).exists()


@pytest.mark.parametrize("url", ["admin:accounts_staff_change", "admin:accounts_staff_delete"])
def test_an_empty_to_field_is_ignored(client_as, superuser, ada, url):
    response = client_as(superuser).get(reverse(url, args=[ada.pk]), {"_to_field": ""})

    assertContains(response, "Ada Lovelace")


@pytest.mark.parametrize("field", ["groups", "user_permissions"])
def test_a_group_or_permission_that_cannot_exist_is_not_one_of_the_choices(
    client_as, superuser, ada, field
):
    response = client_as(superuser).post(
        reverse("admin:accounts_staff_change", args=[ada.pk]),
        admin_change_data(ada, **{field: str(2**63)}),
    )

    assertContains(response, f"Select a valid choice. {2**63} is not one of the available choices.")


@pytest.mark.parametrize(
    "params",
    [
        {"created_at__year": "9999"},
        {"created_at__year": "1" * 21},
        {"created_at__year": "2024", "created_at__month": "2", "created_at__day": "30"},
        {"created_at__gte": "0001-01-01"},
        {"kind__exact": "\x00"},
    ],
)
def test_the_audit_events_admin_answers_dates_and_filters_that_cannot_be_as_bad_filters(
    client_as, superuser, settings, params
):
    settings.TIME_ZONE = "Asia/Tokyo"

    response = client_as(superuser).get(reverse("admin:audit_auditevent_changelist"), params)

    assert response.status_code == 302
    assert response.url.endswith("?e=1")


def test_the_admins_autocomplete_refuses_a_nul_character(client_as, superuser):
    response = client_as(superuser).get(
        reverse("admin:autocomplete"),
        {"term": "\x00", "app_label": "accounts", "model_name": "staff", "field_name": "groups"},
    )

    assert response.status_code == 400
