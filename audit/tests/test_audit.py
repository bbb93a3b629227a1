"""The audit trail records who changed which staff record or group, when and from where."""

import io
import json
import logging
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Staff
from accounts.tests.admin_forms import admin_change_data
from accounts.tests.factories import NEW_PASSWORD, StaffFactory, edit_data
from accounts.tokens import invitation_token_generator
from audit.actors import acting_as, command_from_argv
from audit.models import AuditedModel, AuditEvent
from subjects.models import SubjectGroup
from subjects.tests.factories import SubjectGroupFactory

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.7"


def events_about(target, **filters):
    """Events about a record, newest first, but for its creation by a test's fixture."""
    events = AuditEvent.objects.about(target).exclude(kind="created", actor_label="system")
    return list(events.filter(**filters))


def last_event(**filters):
    return AuditEvent.objects.filter(**filters).first()


@pytest.fixture
def maths(db):
    return SubjectGroupFactory(name="Maths")


@pytest.fixture
def science(db):
    return SubjectGroupFactory(name="Science")


@pytest.fixture
def ada_in_science(ada, science):
    ada.subject_group = science
    ada.save()
    AuditEvent.objects.all().delete()  # Only what the test does, from here.
    return Staff.objects.get(pk=ada.pk)


# Changes on the site
# ------------------------------------------------------------------------------


def test_a_site_edit_records_the_manager_the_ip_and_each_field_changed(
    client_as, manager, ada_in_science, subject_group
):
    client_as(manager).post(
        reverse("staff:update", kwargs={"pk": ada_in_science.pk}),
        edit_data(ada_in_science, subject_group=subject_group.pk, last_name="Byron"),
        REMOTE_ADDR=CLIENT_IP,
    )

    [event] = events_about(ada_in_science)
    assert (event.kind, event.actor, event.actor_label, event.ip) == (
        "changed",
        manager,
        manager.email,
        CLIENT_IP,
    )
    assert event.changes == [
        {"field": "last_name", "label": "Last name", "old": "Lovelace", "new": "Byron"},
        {
            "field": "subject_group",
            "label": "Subject group",
            "old": "Science",
            "new": "Mathematics",
        },
    ]
    assert event.description == (
        "Mary Manager changed Last name from Lovelace to Byron "
        "and Subject group from Science to Mathematics"
    )


def test_saving_a_form_unchanged_records_nothing(client_as, manager, ada_in_science):
    client_as(manager).post(
        reverse("staff:update", kwargs={"pk": ada_in_science.pk}), edit_data(ada_in_science)
    )

    assert events_about(ada_in_science) == []


def test_adding_a_staff_member_records_their_values_and_the_invitation(
    client_as, manager, subject_group
):
    client_as(manager).post(
        reverse("staff:create"),
        {
            "email": "alan@school.example",
            "first_name": "Alan",
            "last_name": "Turing",
            "subject_group": subject_group.pk,
            "password1": "",
            "password2": "",
        },
    )

    alan = Staff.objects.get(email="alan@school.example")
    invited, created = events_about(alan)
    assert (created.kind, created.actor, invited.kind, invited.actor) == (
        "created",
        manager,
        "invitation_sent",
        manager,
    )
    assert created.created_with == (
        "Email alan@school.example, First name Alan, Last name Turing, Subject group Mathematics"
    )
    assert created.description == "Mary Manager added Alan Turing"


def test_deactivating_and_reactivating_are_recorded_as_such(client_as, manager, ada):
    client = client_as(manager)
    client.post(reverse("staff:deactivate", kwargs={"pk": ada.pk}))
    client.post(reverse("staff:activate", kwargs={"pk": ada.pk}))

    assert [event.description for event in events_about(ada)] == [
        "Mary Manager reactivated Ada Lovelace",
        "Mary Manager deactivated Ada Lovelace",
    ]


def test_deleting_a_staff_member_keeps_their_history_under_their_name(client_as, manager, ada):
    pk = ada.pk
    client_as(manager).post(reverse("staff:delete", kwargs={"pk": pk}))

    event = last_event(kind="deleted")
    assert (event.target_id, event.target_label, event.actor) == (
        pk,
        "Ada Lovelace (ada@school.example)",
        manager,
    )
    assert event.description == "Mary Manager deleted Ada Lovelace"


def test_subject_group_changes_on_the_site_are_recorded(client_as, manager, ada_in_science):
    client = client_as(manager)
    client.post(reverse("subjects:create"), {"name": "Music"})
    music = SubjectGroup.objects.get(name="Music")
    client.post(
        reverse("subjects:update", kwargs={"pk": music.pk}),
        {"name": "Music & Drama", "version": music.version},
    )
    science = ada_in_science.subject_group
    client.post(reverse("subjects:delete", kwargs={"pk": science.pk}))

    assert [event.description for event in events_about(music)] == [
        "Mary Manager changed Name from Music to Music & Drama",
        "Mary Manager added Music",
    ]
    assert last_event(kind="deleted").description == "Mary Manager deleted Science"
    # The database takes the members out of a deleted group; their histories say so.
    [left] = events_about(ada_in_science)
    assert left.description == "Mary Manager changed Subject group from Science to none"


# Changes in the admin
# ------------------------------------------------------------------------------


def test_an_admin_change_records_the_superuser_fields_and_groups(client_as, superuser, ada):
    managers = Group.objects.get(name="Staff managers")
    client_as(superuser).post(
        reverse("admin:accounts_staff_change", args=[ada.pk]),
        admin_change_data(ada, first_name="Augusta", is_staff="on", groups=[managers.pk]),
        REMOTE_ADDR=CLIENT_IP,
    )

    groups, change = events_about(ada)
    assert (change.actor, change.ip, groups.actor) == (superuser, CLIENT_IP, superuser)
    assert change.description == (
        "Sam Super changed Staff status from no to yes and First name from Ada to Augusta"
    )
    assert groups.description == "Sam Super added Staff managers to Groups"


def test_an_admin_deletion_is_recorded(client_as, superuser, ada):
    client_as(superuser).post(
        reverse("admin:accounts_staff_delete", args=[ada.pk]), {"post": "yes"}
    )

    assert last_event(kind="deleted").actor == superuser


def test_the_admins_bulk_delete_is_recorded_for_each_group(client_as, superuser):
    groups = SubjectGroupFactory.create_batch(3)
    client_as(superuser).post(
        reverse("admin:subjects_subjectgroup_changelist"),
        {"action": "delete_selected", "_selected_action": [g.pk for g in groups], "post": "yes"},
    )

    assert AuditEvent.objects.filter(kind="deleted", actor=superuser).count() == 3


# Commands and imports
# ------------------------------------------------------------------------------


def test_a_command_without_a_name_of_its_own_is_recorded_by_its_command_line():
    assert command_from_argv(["manage.py", "createsuperuser"]) == "command createsuperuser"
    assert command_from_argv(["/srv/app/manage.py", "shell"]) == "command shell"
    assert command_from_argv(["gunicorn"]) == "system"


def test_a_change_outside_any_request_or_command_is_the_systems(ada):
    ada.first_name = "Augusta"
    ada.save()

    [event] = events_about(ada)
    assert (event.actor, event.actor_label, event.ip) == (None, "system", None)


def test_changes_inside_acting_as_carry_its_label(ada):
    with acting_as("command tidy_names"):
        ada.last_name = "King"
        ada.save()

    assert (
        events_about(ada)[0].description
        == "Command tidy_names changed Last name from Lovelace to King"
    )


def test_the_import_command_records_each_member_created_and_changed(tmp_path, ada, science):
    AuditEvent.objects.all().delete()
    path = tmp_path / "staff.csv"
    path.write_text(
        "email,first_name,last_name,subject_group\n"
        "ada@school.example,Ada,Lovelace,science\n"
        "alan@school.example,Alan,Turing,Computing\n"
    )

    call_command("import_staff", str(path), "--create-groups", stdout=io.StringIO())

    alan = Staff.objects.get(email="alan@school.example")
    computing = SubjectGroup.objects.get(name="Computing")
    [changed] = events_about(ada)
    [added] = events_about(alan)
    [group_added] = events_about(computing)
    assert {changed.actor_label, added.actor_label, group_added.actor_label} == {
        "command import_staff"
    }
    assert changed.description == (
        "Command import_staff changed Subject group from none to Science by import"
    )
    assert added.kind == "imported"
    assert added.created_with == (
        "Email alan@school.example, First name Alan, Last name Turing, Subject group Computing"
    )
    assert group_added.description == "Command import_staff added Computing by import"


def test_the_import_page_records_the_signed_in_manager(client_as, manager, ada):
    client = client_as(manager)
    upload = SimpleUploadedFile(
        "staff.csv", b"email,first_name,last_name\nada@school.example,Ada,King\n"
    )
    client.post(reverse("staff:import"), {"file": upload})
    token = client.session["pending_staff_import"]["token"]
    client.post(reverse("staff:import_preview"), {"token": token}, REMOTE_ADDR=CLIENT_IP)

    [event] = events_about(ada)
    assert (event.kind, event.actor, event.ip) == ("import_changed", manager, CLIENT_IP)
    assert event.description == "Mary Manager changed Last name from Lovelace to King by import"


def test_the_import_records_its_events_in_bulk(tmp_path, django_assert_max_num_queries):
    rows = "".join(f"p{n}@school.example,First,Last\n" for n in range(1200))
    path = tmp_path / "staff.csv"
    path.write_text("email,first_name,last_name\n" + rows)

    # Far fewer than a query a row: SQLite takes some 90 rows an insert.
    with django_assert_max_num_queries(40):
        call_command("import_staff", str(path), stdout=io.StringIO())

    assert AuditEvent.objects.filter(kind="imported").count() == 1200


# Passwords
# ------------------------------------------------------------------------------


def test_a_password_set_by_a_manager_is_recorded_without_any_hash(client_as, manager, ada):
    client_as(manager).post(
        reverse("staff:set_password", kwargs={"pk": ada.pk}),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    [event] = events_about(ada)
    assert event.description == "Mary Manager set the password of Ada Lovelace"
    stored = json.dumps(list(AuditEvent.objects.values()), default=str)
    ada.refresh_from_db()
    assert ada.password not in stored
    assert ada.password.split("$")[-1] not in stored
    assert NEW_PASSWORD not in stored


def test_changing_ones_own_password_is_recorded(client, ada, password):
    client.force_login(ada)
    client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert events_about(ada)[0].description == "Ada Lovelace changed their password"


def test_a_password_reset_and_an_accepted_invitation_are_recorded_as_the_owners(client, ada):
    uid = urlsafe_base64_encode(force_bytes(ada.pk))
    url = reverse(
        "password_reset_confirm",
        kwargs={"uidb64": uid, "token": default_token_generator.make_token(ada)},
    )
    response = client.get(url)
    client.post(response.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    invited = StaffFactory(email="new@school.example", password=make_password(None))
    url = reverse(
        "invitation_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(invited.pk)),
            "token": invitation_token_generator.make_token(invited),
        },
    )
    invitee = Client()
    response = invitee.get(url)
    invitee.post(response.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    reset = last_event(kind="password_reset")
    accepted = last_event(kind="invitation_accepted")
    assert (reset.actor, accepted.actor) == (ada, invited)
    assert reset.description == "Ada Lovelace reset their password with an emailed link"
    assert accepted.description == (f"{invited} accepted the invitation and chose a password")


def test_a_hash_upgraded_at_sign_in_is_no_password_change(ada, password, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    assert ada.check_password(password)

    ada.refresh_from_db()
    assert ada.password.startswith("argon2")
    assert events_about(ada) == []


# Account events
# ------------------------------------------------------------------------------


def sign_in(email, password, client=None):
    client = client or Client()
    client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=CLIENT_IP)
    return client


def test_signing_in_and_out_are_recorded_with_the_ip(ada, password):
    client = sign_in(ada.email, password)
    client.post(reverse("logout"), REMOTE_ADDR=CLIENT_IP)

    signed_out, signed_in = events_about(ada)
    assert (signed_in.kind, signed_in.actor, signed_in.ip) == ("login", ada, CLIENT_IP)
    assert (signed_out.kind, signed_out.actor) == ("logout", ada)


def test_a_failed_sign_in_records_the_email_as_typed_and_the_person_if_known(ada):
    sign_in(" ADA@school.example ", "wrong password")

    event = last_event(kind="login_failed")
    assert (event.target_id, event.email_typed, event.ip) == (
        ada.pk,
        "ADA@school.example",
        CLIENT_IP,
    )


def test_a_failed_sign_in_of_an_unknown_email_is_recorded_too(db):
    sign_in("nobody@elsewhere.example", "guess")

    event = last_event(kind="login_failed")
    assert (event.target_id, event.email_typed, event.actor) == (
        None,
        "nobody@elsewhere.example",
        None,
    )
    assert event.description == "Failed sign-in as “nobody@elsewhere.example”"
    assert "guess" not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_a_lockout_is_recorded_once(ada, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        sign_in(ada.email, "wrong password")

    [event] = events_about(ada, kind="locked_out")
    assert (event.email_typed, event.ip) == (ada.email, CLIENT_IP)


def test_each_event_is_logged_in_one_line_once_committed(
    client_as, manager, ada, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.INFO, logger="schoolstaff.audit"):
        with django_capture_on_commit_callbacks(execute=True):
            client_as(manager).post(
                reverse("staff:set_password", kwargs={"pk": ada.pk}),
                {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
                REMOTE_ADDR=CLIENT_IP,
            )

    [line] = [record.getMessage() for record in caplog.records if "password" in record.getMessage()]
    assert line == (
        f"staff.password_changed actor=manager@school.example ip={CLIENT_IP} "
        f"target=staff:{ada.pk} fields=password"
    )
    ada.refresh_from_db()
    assert NEW_PASSWORD not in caplog.text and ada.password not in caplog.text


# All or nothing
# ------------------------------------------------------------------------------


def test_a_change_that_rolls_back_leaves_no_record(ada):
    with pytest.raises(RuntimeError), transaction.atomic():
        ada.first_name = "Augusta"
        ada.save()
        raise RuntimeError("Something later in the request failed.")

    assert events_about(ada) == []


def test_a_request_that_fails_after_a_change_leaves_no_record(client_as, manager, ada, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("The email could not be sent.")

    monkeypatch.setattr("accounts.views.staff.emails.send_invitation", fail)
    client = client_as(manager)
    client.raise_request_exception = False
    ada.set_unusable_password()
    ada.save()
    AuditEvent.objects.all().delete()

    response = client.post(reverse("staff:resend_invitation", kwargs={"pk": ada.pk}))

    assert response.status_code == 500
    assert events_about(ada) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_change_whose_record_fails_is_not_saved(monkeypatch):
    # Earlier tests that flushed the database re-created the content types under new ids.
    ContentType.objects.clear_cache()
    ada = StaffFactory(first_name="Ada")

    def fail(self, *args, **kwargs):
        raise RuntimeError("The audit table is unavailable.")

    monkeypatch.setattr(AuditEvent, "save", fail)
    ada.first_name = "Augusta"
    with pytest.raises(RuntimeError):
        ada.save()

    assert Staff.objects.get(pk=ada.pk).first_name == "Ada"


# Cost
# ------------------------------------------------------------------------------


def queries_of(client, *args, **kwargs):
    with CaptureQueriesContext(connection) as context:
        client.post(*args, **kwargs)
    return len(context.captured_queries)


@pytest.mark.parametrize(
    ("change", "audit_queries"),
    [
        ({"last_name": "Byron"}, 1),  # The event.
        ({"subject_group": "other"}, 2),  # The event, and the old group's name.
    ],
)
def test_recording_a_site_edit_costs_at_most_two_queries(
    client_as, manager, ada_in_science, subject_group, monkeypatch, change, audit_queries
):
    if change.get("subject_group") == "other":
        change = {"subject_group": subject_group.pk}
    client = client_as(manager)
    url = reverse("staff:update", kwargs={"pk": ada_in_science.pk})
    client.get(url)  # Warm the caches: content types, sessions.

    recorded = queries_of(client, url, edit_data(ada_in_science, **change))
    Staff.objects.filter(pk=ada_in_science.pk).update(
        last_name="Lovelace",
        subject_group=ada_in_science.subject_group,
        version=ada_in_science.version,
    )
    monkeypatch.setattr(AuditedModel, "audit_kind_and_changes", lambda *args: (None, []))
    unrecorded = queries_of(client, url, edit_data(ada_in_science, **change))

    assert recorded - unrecorded == audit_queries


@pytest.mark.parametrize("url_name", ["staff:list", "staff:detail", "subjects:list", "home"])
def test_page_views_make_no_query_of_the_audit_trail(client_as, manager, ada, url_name):
    url = (
        reverse(url_name, kwargs={"pk": ada.pk})
        if url_name == "staff:detail"
        else reverse(url_name)
    )
    client = client_as(manager)

    with CaptureQueriesContext(connection) as context:
        client.get(url)

    audit_queries = [q["sql"] for q in context.captured_queries if "auditevent" in q["sql"]]
    if url_name == "home":
        # A manager's home page reads the latest changes, in one query, and records nothing.
        assert len([sql for sql in audit_queries if sql.startswith("SELECT")]) == 1
        audit_queries = [sql for sql in audit_queries if not sql.startswith("SELECT")]
    assert not audit_queries


# Immutability and pruning
# ------------------------------------------------------------------------------


def test_an_event_cannot_be_changed_once_recorded(ada):
    ada.first_name = "Augusta"
    ada.save()
    event = last_event()

    event.kind = "deleted"
    with pytest.raises(ValueError, match="never changed"):
        event.save()


def make_event(age_days, kind=AuditEvent.Kind.LOGIN):
    return AuditEvent.objects.create(
        kind=kind, created_at=timezone.now() - timedelta(days=age_days)
    )


def test_pruning_removes_events_older_than_the_retention_period_and_says_so(settings):
    settings.AUDIT_RETENTION_DAYS = 730
    kept = [make_event(10), make_event(729)]
    make_event(731)
    make_event(800, AuditEvent.Kind.CHANGED)
    make_event(900, AuditEvent.Kind.CHANGED)
    out = io.StringIO()

    call_command("prune_audit", stdout=out)

    assert list(AuditEvent.objects.order_by("created_at")) == kept[::-1]
    assert out.getvalue() == (
        "Removed 3 audit events older than 730 days.\n  Changed: 2\n  Signed in: 1\n"
    )


def test_pruning_can_keep_fewer_days_or_only_count(settings):
    make_event(40)
    make_event(10)
    out = io.StringIO()

    call_command("prune_audit", "--days", "30", "--dry-run", stdout=out)
    assert AuditEvent.objects.count() == 2
    assert out.getvalue().startswith("Would remove 1 audit event older than 30 days.")

    call_command("prune_audit", "--days", "30", stdout=io.StringIO())
    assert AuditEvent.objects.count() == 1


def test_a_record_reloaded_with_refresh_from_db_compares_with_what_was_reloaded(ada):
    Staff.objects.filter(pk=ada.pk).update(first_name="Augusta")
    ada.refresh_from_db()

    ada.last_name = "King"
    ada.save()

    [event] = events_about(ada)
    assert [change["field"] for change in event.changes] == ["last_name"]
