"""What the pages show, and in which order: the staff pages, the home page, every page's header."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.asserts import assertContains, assertNotContains

from accounts.tests.factories import PASSWORD, StaffFactory
from accounts.tests.pages import main_content, signed_in
from accounts.tokens import invitation_token_generator
from audit.models import AuditEvent
from two_factor.tests.sessions import give_app, give_passkey

pytestmark = pytest.mark.django_db


def detail(client, staff):
    return client.get(reverse("staff:detail", kwargs={"pk": staff.pk}))


def test_home_shows_a_dash_for_no_subject_group(client_as, plain_staff):
    response = client_as(plain_staff).get(reverse("home"))

    assertNotContains(response, "None")
    assertContains(response, "—")


def test_staff_page_shows_a_dash_for_no_subject_group(client_as, manager, ada):
    response = detail(client_as(manager), ada)

    assertNotContains(response, ">None<")
    assertContains(response, '<dd class="col-sm-9">—</dd>', html=True)


@pytest.mark.parametrize(
    ("active", "invited", "badges"),
    [
        (True, False, ['<span class="badge text-bg-success">Active</span>']),
        (False, False, ['<span class="badge text-bg-secondary">Inactive</span>']),
        (
            True,
            True,
            [
                '<span class="badge text-bg-success">Active</span>',
                '<span class="badge text-bg-info">Invited</span>',
            ],
        ),
    ],
)
def test_staff_page_shows_the_status_as_badges(client_as, manager, active, invited, badges):
    member = StaffFactory(is_active=active)
    if invited:
        member.set_unusable_password()
        member.save()

    response = detail(client_as(manager), member)

    for badge in badges:
        assertContains(response, badge, html=True)


def test_staff_page_offers_deactivate_before_delete(client_as, superuser, ada):
    content = detail(client_as(superuser), ada).content.decode()

    deactivate = content.index(reverse("staff:deactivate", kwargs={"pk": ada.pk}))
    delete = content.index(reverse("staff:delete", kwargs={"pk": ada.pk}))
    assert deactivate < delete


# The home page
# ------------------------------------------------------------------------------
def home(client):
    return client.get(reverse("home"))


def test_home_shows_a_manager_the_staff_in_numbers(client_as, manager, subject_group):
    StaffFactory.create_batch(2, subject_group=subject_group)
    StaffFactory(is_active=False)
    invited = StaffFactory(subject_group=subject_group)
    invited.set_unusable_password()
    invited.save()

    response = home(client_as(manager))

    # Active: the manager, the two and the invited; without a group: the manager.
    counts = response.context["staff_counts"]
    assert counts == {"active": 4, "invited": 1, "inactive": 1, "without_group": 1}
    assertContains(response, '<span class="stat-number">4</span>', html=True)
    assertContains(response, f'href="{reverse("staff:list")}?group=none"')
    assertContains(response, f'href="{reverse("staff:list")}?status=invited"')


def test_home_counts_staff_in_the_same_queries_for_few_and_many(client_as, manager, subject_group):
    client = client_as(manager)
    home(client)
    with CaptureQueriesContext(connection) as few:
        home(client)
    StaffFactory.create_batch(30, subject_group=subject_group)
    with CaptureQueriesContext(connection) as many:
        home(client)

    assert len(many.captured_queries) == len(few.captured_queries) <= 8


def test_home_shows_a_manager_the_latest_changes(client_as, manager, ada):
    ada.last_name = "King"
    ada.save()

    response = home(client_as(manager))

    assertContains(response, "Latest changes")
    assertContains(response, "Last name from Lovelace to King")


def test_home_shows_the_newest_changes_of_every_kind_but_no_sign_ins(client_as, manager):
    # Ten of each kind, one kind after another, after the fixtures' own events.
    kinds = [AuditEvent.Kind.CREATED, AuditEvent.Kind.LOGIN, AuditEvent.Kind.DELETED]
    start = timezone.now() + timedelta(hours=1)
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=kind, target_label=f"{kind} {n}", created_at=start + timedelta(minutes=m))
        for m, (kind, n) in enumerate((kind, n) for kind in kinds for n in range(10))
    )
    client = client_as(manager)

    latest = home(client).context["latest_changes"]

    assert [event.target_label for event in latest] == [f"deleted {n}" for n in (9, 8, 7, 6, 5)]
    AuditEvent.objects.filter(kind=AuditEvent.Kind.DELETED).delete()
    latest = home(client).context["latest_changes"]
    assert [event.target_label for event in latest] == [f"created {n}" for n in (9, 8, 7, 6, 5)]


def test_home_on_an_empty_site_leads_a_manager_to_add_groups_and_import_staff(client_as, manager):
    response = home(client_as(manager))

    assertContains(response, "Next steps")
    assertContains(response, f'<a href="{reverse("staff:import")}">Import staff</a>', html=True)


def test_home_shows_plain_staff_their_details_and_links_but_no_numbers(client_as, plain_staff):
    response = home(client_as(plain_staff))

    assert "staff_counts" not in response.context
    assertNotContains(response, "Staff in numbers")
    assertContains(response, "Your details")
    assertContains(response, plain_staff.email)
    assertContains(response, reverse("staff:list"))
    assertContains(response, reverse("password_change"))


# Every page's header
# ------------------------------------------------------------------------------
# Each page opened as someone who may open it; each visit returns the response.
def url(name, record=None):
    return reverse(name, kwargs={"pk": record.pk} if record else None)


def emailed_link(name, staff, token_generator):
    uid = urlsafe_base64_encode(force_bytes(staff.pk))
    return reverse(name, kwargs={"uidb64": uid, "token": token_generator.make_token(staff)})


def after_password(staff):
    """A browser in which `staff` has typed their password, and nothing more."""
    client = Client()
    client.post(reverse("login"), {"username": staff.email, "password": PASSWORD})
    return client


def invited_member():
    member = StaffFactory()
    member.set_unusable_password()
    member.save()
    return member


def a_member_with_a_passkey():
    member = StaffFactory()
    passkey = give_passkey(member)
    return signed_in(member), passkey


def a_member_with_an_app():
    member = StaffFactory()
    give_app(member)
    return signed_in(member)


def too_many_reset_requests():
    for _ in range(settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS):
        Client().post(reverse("password_reset"), {"email": "ada@school.example"})
    return Client().post(reverse("password_reset"), {"email": "ada@school.example"})


def import_preview(client):
    upload = SimpleUploadedFile(
        "staff.csv", b"email,first_name,last_name\nnia@school.example,Nia,New\n", "text/csv"
    )
    return client.post(reverse("staff:import"), {"file": upload}, follow=True)


PAGES = {
    # Signed out
    "login": lambda s: Client().get(url("login")),
    "password_reset": lambda s: Client().get(url("password_reset")),
    "password_reset_done": lambda s: Client().get(url("password_reset_done")),
    "password_reset_confirm": lambda s: Client().get(
        emailed_link("password_reset_confirm", s.ada, default_token_generator), follow=True
    ),
    "password_reset_complete": lambda s: Client().get(url("password_reset_complete")),
    "invitation_accept": lambda s: Client().get(
        emailed_link("invitation_accept", invited_member(), invitation_token_generator),
        follow=True,
    ),
    "logged_out": lambda s: Client().get(url("logout")),
    "too_many_attempts": lambda s: too_many_reset_requests(),
    # A plain member
    "staff_detail_as_plain": lambda s: s.plain.get(url("staff:detail", s.ada)),
    "not_allowed": lambda s: s.plain.get(url("staff:update", s.ada)),
    "not_found": lambda s: s.plain.get("/no-such-page/"),
    "password_change": lambda s: s.plain.get(url("password_change")),
    "password_change_done": lambda s: s.plain.get(url("password_change_done")),
    "logout": lambda s: s.plain.get(url("logout")),
    # A manager
    "staff_detail": lambda s: s.manager.get(url("staff:detail", s.ada)),
    "staff_create": lambda s: s.manager.get(url("staff:create")),
    "staff_update": lambda s: s.manager.get(url("staff:update", s.ada)),
    "own_email_change": lambda s: s.manager.get(url("staff:update", s.manager_staff)),
    "staff_delete": lambda s: s.manager.get(url("staff:delete", s.ada)),
    "staff_deactivate": lambda s: s.manager.get(url("staff:deactivate", s.ada)),
    "staff_set_password": lambda s: s.manager.get(url("staff:set_password", s.ada)),
    "staff_history": lambda s: s.manager.get(url("staff:history", s.ada)),
    "staff_import": lambda s: s.manager.get(url("staff:import")),
    "staff_import_preview": lambda s: import_preview(s.manager),
    "subject_list": lambda s: s.manager.get(url("subjects:list")),
    "subject_detail": lambda s: s.manager.get(url("subjects:detail", s.group)),
    "subject_create": lambda s: s.manager.get(url("subjects:create")),
    "subject_update": lambda s: s.manager.get(url("subjects:update", s.group)),
    "subject_delete": lambda s: s.manager.get(url("subjects:delete", s.group)),
    # A superuser
    "audit": lambda s: s.superuser.get(url("audit:list")),
    "staff_detail_as_superuser": lambda s: s.superuser.get(url("staff:detail", s.ada)),
    # Second factors
    "security": lambda s: s.superuser.get(url("two_factor:security")),
    "setup_app": lambda s: s.plain.get(url("two_factor:setup_app")),
    "setup_app_required": lambda s: after_password(s.new_superuser).get(
        url("two_factor:setup_app")
    ),
    "recovery_codes": lambda s: s.superuser.post(url("two_factor:recovery_codes"), follow=True),
    "second_step": lambda s: after_password(s.superuser_staff).get(url("two_factor:verify")),
    "remove_app": lambda s: a_member_with_an_app().get(url("two_factor:remove_app")),
    "remove_passkey": lambda s: (
        lambda client, passkey: client.get(url("two_factor:remove_passkey", passkey))
    )(*a_member_with_a_passkey()),
    "reset_factors": lambda s: s.superuser.get(url("two_factor:reset", s.ada)),
    "home": lambda s: s.plain.get(url("home")),
    "staff_list": lambda s: s.manager.get(url("staff:list")),
}
# The actions each page's header holds, in order: the primary one first.
HEADER_ACTIONS = {
    "staff_detail": ["Edit", "Set password", "Deactivate", "Delete", "History"],
    "staff_detail_as_superuser": ["Edit", "Deactivate", "Delete", "History", "Reset second"],
    "subject_list": ["Add subject group"],
    "subject_detail": ["Edit", "Delete"],
    "audit": ["Export CSV"],
    "staff_list": ["Add staff member", "Export CSV", "Import CSV"],
}
# A form's way back (Cancel, or its like), which follows its submit button.
WAYS_BACK = {
    "password_reset": "Cancel",
    "logout": "Stay signed in",
    "password_change": "Cancel",
    "staff_create": "Cancel",
    "staff_update": "Cancel",
    "own_email_change": "Cancel",
    "staff_delete": "Cancel",
    "staff_deactivate": "Cancel",
    "staff_set_password": "Cancel",
    "staff_import": "Cancel",
    "subject_create": "Cancel",
    "subject_update": "Cancel",
    "subject_delete": "Cancel",
    "setup_app": "Cancel",
    "setup_app_required": "Not now: log out",
    "second_step": "Cancel and log out",
    "remove_app": "Cancel",
    "remove_passkey": "Cancel",
    "reset_factors": "Cancel",
}


@pytest.fixture
def site(client_as, plain_staff, manager, superuser, ada, subject_group):
    """Clients signed in as each role, and the records their pages show."""
    ada.subject_group = subject_group
    ada.save()
    return SimpleNamespace(
        plain=client_as(plain_staff),
        manager=client_as(manager),
        superuser=client_as(superuser),
        manager_staff=manager,
        superuser_staff=superuser,
        new_superuser=StaffFactory(is_staff=True, is_superuser=True),
        ada=ada,
        group=subject_group,
    )


def header_of(response):
    """The page's header: the first thing in <main> after the messages, holding its h1."""
    main = re.sub(
        r'<div class="alert [^"]*alert-dismissible.*?</div>',
        "",
        main_content(response),
        flags=re.DOTALL,
    )
    header = re.match(
        r'<main\b[^>]*>\s*(<header class="page-header">\s*<h1>.*?</header>)', main, re.DOTALL
    )
    assert header, f"<main> does not open with the page header:\n{main[:500]}"
    return header.group(1)


PAGE_IDS = sorted(PAGES)


@pytest.mark.parametrize("page", PAGE_IDS)
def test_every_page_opens_with_one_header_holding_its_one_h1(site, page):
    response = PAGES[page](site)
    html = response.content.decode()

    header = header_of(response)
    assert html.count("<h1") == 1
    assert "<h1" in header


@pytest.mark.parametrize("page", PAGE_IDS)
def test_no_page_has_inline_styles(site, page):
    html = PAGES[page](site).content.decode()

    assert not re.search(r"<[^>]*\sstyle=", html)


@pytest.mark.parametrize(("page", "actions"), HEADER_ACTIONS.items())
def test_a_pages_actions_are_in_its_header_primary_first(site, page, actions):
    header = header_of(PAGES[page](site))

    positions = [header.find(f">{action}") for action in actions]
    assert -1 not in positions, header
    assert positions == sorted(positions)


@pytest.mark.parametrize(("page", "way_back"), WAYS_BACK.items())
def test_a_forms_way_back_follows_its_submit_button_as_a_link(site, page, way_back):
    main = main_content(PAGES[page](site))

    form = re.search(r'<form method="post"[^>]*>.*?</form>', main, re.DOTALL).group()
    submit = form.index('type="submit"')
    back = re.search(rf'class="btn btn-link"[^>]*>{re.escape(way_back)}<', form)
    assert back, form
    assert submit < back.start()


@pytest.mark.parametrize("page", ["login", *WAYS_BACK])
def test_forms_are_kept_to_a_readable_width(site, page):
    main = main_content(PAGES[page](site))

    form = re.search(r'<form method="post"[^>]*>', main).group()
    assert 'class="form-readable"' in form
