"""The audit trail's pages: a staff member's history, /audit/ with its export, and the admin."""

import csv
import io
from datetime import date, datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.tests.factories import StaffFactory, edit_data
from audit.models import AuditEvent
from subjects.tests.factories import SubjectGroupFactory

pytestmark = pytest.mark.django_db

ROLES = ("plain", "manager", "superuser")


def history_url(staff):
    return reverse("staff:history", kwargs={"pk": staff.pk})


@pytest.fixture
def ada_renamed(ada, manager):
    """Ada, renamed Augusta by the manager on the site."""
    AuditEvent.objects.all().delete()
    client = Client()
    client.force_login(manager)
    client.post(
        reverse("staff:update", kwargs={"pk": ada.pk}),
        edit_data(ada, first_name="Augusta"),
        REMOTE_ADDR="203.0.113.7",
    )
    ada.refresh_from_db()
    return ada


# Who may see them
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "expected"),
    [
        # page:        plain, manager, superuser
        ("history", (403, 200, 200)),
        ("audit:list", (403, 403, 200)),
        ("audit:export", (403, 403, 200)),
    ],
)
@pytest.mark.parametrize("role", range(3))
def test_each_role_gets_the_expected_status(
    client_as, users_by_role, ada, url_name, expected, role
):
    url = history_url(ada) if url_name == "history" else reverse(url_name)

    response = client_as(users_by_role[ROLES[role]]).get(url)

    assert response.status_code == expected[role]


@pytest.mark.parametrize("url_name", ["history", "audit:list", "audit:export"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, ada, url_name):
    url = history_url(ada) if url_name == "history" else reverse(url_name)

    response = client.get(url)

    assertRedirects(response, f"{reverse('login')}?next={url}")


def test_the_staff_page_links_to_the_history_only_for_those_allowed(client_as, users_by_role, ada):
    for role, shown in [("plain", False), ("manager", True), ("superuser", True)]:
        response = client_as(users_by_role[role]).get(ada.get_absolute_url())
        assert (history_url(ada) in response.content.decode()) is shown


def test_only_superusers_see_the_audit_trail_in_the_menu(client_as, manager, superuser):
    assertNotContains(client_as(manager).get(reverse("home")), reverse("audit:list"))
    assertContains(client_as(superuser).get(reverse("home")), reverse("audit:list"))


# A staff member's history
# ------------------------------------------------------------------------------


def test_the_history_reads_as_sentences_newest_first(client_as, manager, ada_renamed):
    ada_renamed.last_name = "King"
    ada_renamed.save()

    response = client_as(manager).get(history_url(ada_renamed))

    content = response.content.decode()
    assert content.index("System changed Last name from Lovelace to King") < content.index(
        "Mary Manager changed First name from Ada to Augusta"
    )


def test_only_superusers_see_where_people_signed_in_from(
    client_as, manager, superuser, ada_renamed
):
    as_manager = client_as(manager).get(history_url(ada_renamed))
    as_superuser = Client()
    as_superuser.force_login(superuser)

    assertNotContains(as_manager, "203.0.113.7")
    assertNotContains(as_manager, "IP address")
    assertContains(as_superuser.get(history_url(ada_renamed)), "203.0.113.7")


def test_the_history_shows_25_events_a_page(client_as, manager, ada):
    AuditEvent.objects.bulk_create(AuditEvent.build(AuditEvent.Kind.LOGIN, ada) for _ in range(30))

    response = client_as(manager).get(history_url(ada))
    second = client_as(manager).get(history_url(ada), {"page": 2})

    assert len(response.context["object_list"]) == 25
    assert len(second.context["object_list"]) == 31 - 25  # With the fixture's creation.


def test_the_history_shows_only_that_persons_events(client_as, manager, ada, plain_staff):
    plain_staff.first_name = "Patricia"
    plain_staff.save()

    response = client_as(manager).get(history_url(ada))

    assertNotContains(response, "Patricia")


# The whole audit trail
# ------------------------------------------------------------------------------


@pytest.fixture
def trail(ada_renamed, manager, superuser, plain_staff):
    """Events of several kinds, people and days."""
    old = AuditEvent.build(AuditEvent.Kind.LOGIN_FAILED, email_typed="=cmd|' /C calc'!A0")
    # Noon of the site's day forty days ago: forty days of UTC before a late evening can
    # fall on the next local day when summer time lies between.
    old.created_at = at_local(timezone.localdate() - timedelta(days=40), time(12))
    old.save()
    group = SubjectGroupFactory(name="Physics")
    return {"old": old, "group": group}


def at_local(day, clock):
    return timezone.make_aware(datetime.combine(day, clock))


def descriptions(response):
    return [event.description for event in response.context["object_list"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "augusta"}, ["Mary Manager changed First name from Ada to Augusta"]),
        ({"q": "ada@school"}, ["Mary Manager changed First name from Ada to Augusta"]),
        (
            {"actor": "mary"},
            ["Mary Manager changed First name from Ada to Augusta", "Mary Manager signed in"],
        ),
        (
            {"actor": "manager@school"},
            ["Mary Manager changed First name from Ada to Augusta", "Mary Manager signed in"],
        ),
        ({"kind": "login_failed"}, ["Failed sign-in as “=cmd|' /C calc'!A0”"]),
        ({"q": "physics", "kind": "created"}, ["System added Physics"]),
    ],
)
def test_the_audit_trail_filters_by_person_actor_and_kind(
    client_as, superuser, trail, query, expected
):
    response = client_as(superuser).get(reverse("audit:list"), query)

    assert descriptions(response) == expected


def test_the_audit_trail_filters_by_dates(client_as, superuser, trail):
    client = client_as(superuser)
    forty_days_ago = timezone.localdate() - timedelta(days=40)

    only_old = client.get(reverse("audit:list"), {"until": forty_days_ago.isoformat()})
    only_new = client.get(
        reverse("audit:list"), {"since": (forty_days_ago + timedelta(1)).isoformat()}
    )

    assert descriptions(only_old) == [trail["old"].description]
    assert trail["old"].description not in descriptions(only_new)
    assert len(descriptions(only_new)) > 3


def test_the_dates_are_whole_days_of_the_sites_time_zone(client_as, superuser, settings):
    settings.TIME_ZONE = "Europe/London"
    # Half past midnight in London on 1 July is 23:30 UTC on 30 June.
    event = AuditEvent.build(AuditEvent.Kind.LOGIN_FAILED, email_typed="late@school.example")
    event.created_at = at_local(date(2026, 7, 1), time(0, 30))
    event.save()
    client = client_as(superuser)

    def found(query):
        response = client.get(reverse("audit:list"), {"kind": "login_failed", **query})
        return event.description in descriptions(response)

    assert found({"since": "2026-07-01", "until": "2026-07-01"})
    assert not found({"until": "2026-06-30"})
    assert not found({"since": "2026-07-02"})


def test_a_date_that_is_no_day_is_ignored_and_said_so(client_as, superuser, trail):
    response = client_as(superuser).get(reverse("audit:list"), {"since": "2025-02-30"})

    assertContains(response, "Ignored the date “2025-02-30”: it is not a day.")
    assert trail["old"].description in descriptions(response)


def test_the_export_holds_the_filtered_events_spreadsheet_safe(client_as, superuser, trail):
    response = client_as(superuser).get(reverse("audit:export"), {"kind": "login_failed"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.DictReader(io.StringIO(text)).__iter__())  # noqa: B018
    assert [header["kind"], *(row["kind"] for row in rows)] == ["login_failed"]
    assert header["email_typed"] == "'=cmd|' /C calc'!A0"


def test_the_export_of_a_change_holds_its_fields(client_as, superuser, ada_renamed):
    response = client_as(superuser).get(reverse("audit:export"), {"kind": "changed"})

    [row] = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    assert (row["actor"], row["actor_label"], row["ip"], row["record_id"]) == (
        "Mary Manager",
        "manager@school.example",
        "203.0.113.7",
        str(ada_renamed.pk),
    )
    assert row["changes"] == "First name from Ada to Augusta"


def test_the_export_says_what_a_record_was_created_with_in_words(client_as, superuser, ada):
    response = client_as(superuser).get(reverse("audit:export"), {"kind": "created"})

    rows = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    changes = {row["record"]: row["changes"] for row in rows}
    assert "Email ada@school.example" in changes["Ada Lovelace (ada@school.example)"]
    assert "{" not in changes["Ada Lovelace (ada@school.example)"]


# Nobody changes the record
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["audit:list", "audit:export"])
def test_no_site_page_accepts_a_change_to_the_trail(client_as, superuser, ada_renamed, url_name):
    response = client_as(superuser).post(reverse(url_name))

    assert response.status_code == 405
    assert AuditEvent.objects.filter(kind="changed").exists()


def test_the_admin_shows_the_trail_to_superusers_read_only(client_as, superuser, ada_renamed):
    client = client_as(superuser)
    event = AuditEvent.objects.get(kind="changed")

    assertContains(client.get(reverse("admin:audit_auditevent_changelist")), "Augusta")
    page = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    assertNotContains(page, 'name="_save"')
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403
    assert (
        client.post(
            reverse("admin:audit_auditevent_change", args=[event.pk]), {"kind": "deleted"}
        ).status_code
        == 403
    )
    assert AuditEvent.objects.get(pk=event.pk).kind == "changed"


def test_the_admin_offers_no_bulk_delete_of_events(client_as, superuser, ada_renamed):
    response = client_as(superuser).get(reverse("admin:audit_auditevent_changelist"))

    assertNotContains(response, "delete_selected")


def test_staff_managers_in_the_admin_do_not_see_the_trail(client_as, manager):
    manager.is_staff = True
    manager.save()

    response = client_as(manager).get(reverse("admin:audit_auditevent_changelist"))

    assert response.status_code == 403


# The admin's History button
# ------------------------------------------------------------------------------


def test_the_admin_history_of_a_staff_member_is_their_audit_trail(
    client_as, superuser, ada_renamed
):
    response = client_as(superuser).get(
        reverse("admin:accounts_staff_history", args=[ada_renamed.pk])
    )

    assertContains(response, "Mary Manager changed First name from Ada to Augusta")


def test_the_admin_history_of_a_subject_group_is_its_audit_trail(client_as, superuser, manager):
    group = SubjectGroupFactory(name="Physics")
    client_as(superuser).post(
        reverse("admin:subjects_subjectgroup_change", args=[group.pk]), {"name": "Physics A"}
    )

    response = client_as(superuser).get(
        reverse("admin:subjects_subjectgroup_history", args=[group.pk])
    )

    assertContains(response, "Sam Super changed Name from Physics to Physics A")
    assertContains(response, "System added Physics")


def test_the_admin_history_of_someone_unknown_is_the_usual_redirect(client_as, superuser):
    response = client_as(superuser).get(reverse("admin:accounts_staff_history", args=[999_999]))

    assert response.status_code == 302


def test_plain_staff_cannot_open_a_history_in_the_admin(client_as, plain_staff, ada):
    plain_staff.is_staff = True
    plain_staff.save()

    response = client_as(plain_staff).get(reverse("admin:accounts_staff_history", args=[ada.pk]))

    assert response.status_code == 403


def test_a_history_page_costs_the_same_queries_however_many_people_acted(
    client_as, manager, ada, django_assert_max_num_queries
):
    AuditEvent.objects.bulk_create(
        AuditEvent.build(AuditEvent.Kind.LOGIN, ada, actor=StaffFactory()) for _ in range(30)
    )
    client = client_as(manager)
    client.get(history_url(ada))

    # Session, user, permissions, the person, the count and the page with each actor.
    with django_assert_max_num_queries(9):
        client.get(history_url(ada))


def test_an_unknown_kind_of_event_is_ignored_with_a_notice_that_names_the_filter(
    client_as, superuser
):
    response = client_as(superuser).get(reverse("audit:list"), {"kind": "zzz"})

    assertContains(response, "Ignored the unknown kind of event “zzz”.")
