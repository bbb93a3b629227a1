"""No address of the site or the admin answers a server error, whatever its parameters hold.

Every URL pattern is requested as each kind of person (anonymous, a plain member, a Staff
manager, a superuser) with a table of hostile values in every parameter its view reads:
the query string on GET, the form fields on POST, and X-Forwarded-For where the client's
address is recorded. Refusing a value (a form error, a 4xx, a note on a list) is fine; a
5xx never is, and neither is an exception half-way through a streamed CSV file.

To keep the walk fast, a value goes into all of a page's parameters at once; where some
refuse it (a form error, the admin's "?e=1"), the others are sent it again without them,
so that each value reaches each parameter's code at least once for every person who may
use the page. Parameters that refuse almost everything go alone (`alone`). Each request
is rolled back once answered, so that every request meets the same records, sessions and
lockout counts, whatever the ones before it did.
"""

import dataclasses
import logging
import sys
import traceback
from collections import defaultdict
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.admin.helpers import AdminForm
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import got_request_exception
from django.db import transaction
from django.forms import BaseForm, MultiWidget
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Staff
from accounts.tests.admin_forms import admin_change_data
from accounts.tests.factories import NEW_PASSWORD, PASSWORD, StaffFactory, edit_data
from accounts.tokens import invitation_token_generator
from audit.models import AuditEvent
from subjects.models import SubjectGroup

pytestmark = pytest.mark.django_db

# The hostile values that name a day, or try to.
HOSTILE_DAYS = (
    "0001-01-01",
    "9999-12-31",
    "31/12/9999",
    "2024-02-30",
    "99999-01-01",
    "1" * 21 + "-01-01",
)
# What people type by mistake, and what people who probe a site type on purpose.
HOSTILE_VALUES = (
    "",
    "  \t ",
    "0",
    "-1",
    "1.5",
    "abc",
    "9" * 25,
    str(2**63),
    str(2**63 - 1),
    "\x00",
    "x" * 5000,
    "a" * 250 + "@school.example",  # An email address longer than any column holds.
    "\u202e",  # Right-to-left override.
    "\u200b",  # Zero-width space.
    "\ufeff",  # Byte-order mark.
    "\x1b",
    "\x7f",
    *HOSTILE_DAYS,
    "%",
    "'",
    '"',
    "<script>",
    "../",
    ["1", "2"],  # The parameter twice: ?a=1&a=2.
)

# Sent as a request header rather than in the query string or the form.
X_FORWARDED_FOR = "X-Forwarded-For"
HEADERS = {X_FORWARDED_FOR}
# Sent as an uploaded CSV file with the value in every cell.
UPLOADS = {"file"}
# Sent in the address, on POST too: the admin keeps a changelist's filters there.
IN_ADDRESS = {"_changelist_filters"}

IMPORT_CSV = "email,first_name,last_name,subject_group\nnia@school.example,Nia,New,Mathematics\n"

# An <int:pk> that names nothing: the converter takes any digits.
ODD_PKS = (0, 2**63 - 1, 2**63, int("9" * 25))
# An object id in the admin's <path:object_id> and <id>, which take any text.
ODD_OBJECT_IDS = ("0", "-1", "abc", str(2**63 - 1), str(2**63), "9" * 25, "\x00", "%", "x" * 5000)


# How each address is asked for
# ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Alone:
    """Parameters tried apart from the others, beside `companions`, with `values` too.

    For parameters that refuse most values outright (an admin filter, `_to_field`, an edit
    form's version), which would hide what the others do with theirs; and for values that
    mean something only together (the day of a month of a year).
    """

    names: tuple
    companions: dict = dataclasses.field(default_factory=dict)
    values: tuple = ()
    hostile: bool = True


def alone(*names, values=(), **companions):
    return Alone(names, companions, values)


def flag(name):
    """A parameter read for its presence only (`"_continue" in request.POST`): sent once."""
    return Alone((name,), values=("1",), hostile=False)


def names_of(parameters):
    return {
        name
        for parameter in parameters
        for name in (parameter.names if isinstance(parameter, Alone) else [parameter])
    }


@dataclasses.dataclass(frozen=True)
class Target:
    """The path's arguments, the record they name, and whether to walk the parameters there.

    An address that names nothing is asked once for each method: its view stops at the
    missing record before it reads a parameter.
    """

    kwargs: dict
    record: object = None
    walk: bool = True
    # The parameters that do something else here than at the other targets.
    only: tuple | None = None


def no_path(world, user):
    return [Target({})]


def records_and_odd_pks(*names):
    def targets(world, user):
        records = [Target({"pk": getattr(world, name).pk}, getattr(world, name)) for name in names]
        return [*records, *(Target({"pk": pk}, walk=False) for pk in ODD_PKS)]

    return targets


def ada_and_oneself(world, user):
    """Ada, and one's own account, whose new email also takes one's current password."""
    own = [Target({"pk": user.pk}, user, only=("email", "current_password"))] if user else []
    return [*records_and_odd_pks("ada")(world, user), *own]


def admin_records(name, argument="object_id"):
    def targets(world, user):
        record = getattr(world, name)
        return [
            Target({argument: str(record.pk)}, record),
            *(Target({argument: value}, walk=False) for value in ODD_OBJECT_IDS),
        ]

    return targets


def uid(staff_or_value):
    value = staff_or_value.pk if isinstance(staff_or_value, Staff) else staff_or_value
    return urlsafe_base64_encode(force_bytes(value))


def emailed_links(name, token_generator):
    """The link as emailed, once opened (its token then waits in the session), and garbled."""

    def targets(world, user):
        staff = getattr(world, name)
        token = token_generator.make_token(staff)
        someone_else = world.invited if staff == world.ada else world.ada
        bad_uids = ["abc", "!!", "x" * 5000, *(uid(value) for value in ("0", str(2**63), "\x00"))]
        bad_tokens = [
            token[:-1] + ("y" if token.endswith("x") else "x"),
            "abc",
            "1-abc",
            "zzzzzzzzzzzzzz-abc",  # A timestamp too large for base 36.
            "-",
            "x" * 5000,
            token_generator.make_token(someone_else),
        ]
        return [
            Target({"uidb64": uid(staff), "token": "set-password"}, staff),
            Target({"uidb64": uid(staff), "token": token}, walk=False),
            *(Target({"uidb64": value, "token": token}, walk=False) for value in bad_uids),
            *(Target({"uidb64": uid(staff), "token": value}, walk=False) for value in bad_tokens),
        ]

    return targets


def open_the_link(view, name, token_generator):
    """Open the emailed link once, so that the session holds its token, as a browser's does."""

    def prepare(client, world):
        staff = getattr(world, name)
        token = token_generator.make_token(staff)
        client.get(reverse(view, kwargs={"uidb64": uid(staff), "token": token}))

    return prepare


def with_a_pending_import(client, world):
    """Upload a file on the import page, so that it waits in the session for confirmation."""
    client.post(reverse("staff:import"), {"file": as_upload(FileContent(IMPORT_CSV))})
    preview = client.get(reverse("staff:import_preview"))
    form = page_form(preview) if preview.status_code == 200 else None
    world.import_token = form.initial.get("token", "") if form else ""


def nothing(world, record):
    return {}


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """What one URL pattern's view reads, and a valid request to put each hostile value in."""

    get: tuple = ()
    post: tuple = ()
    get_data: Callable = nothing
    post_data: Callable = nothing
    targets: Callable = no_path
    # A list kept in the cache, or an export: asked twice, as a cache hit must not fail either.
    twice: bool = False
    # Done once for each person before the walk, and kept: what their session must hold.
    prepare: Callable | None = None
    # For a pattern without a name: its address from its arguments.
    address: Callable | None = None


# The site
# ------------------------------------------------------------------------------
STAFF_LIST = ("q", "group", "status", "sort", "page")
GROUP_LIST = ("q", "sort", "page")
AUDIT_LIST = ("q", "actor", "kind", "since", "until", "sort", "page")
# A wrong email or password hides what the rest of a sign-in does: they go apart from it.
# (A password is hashed whether or not its email is anyone's.)
SIGN_IN = (alone("username", "password"), "next", X_FORWARDED_FOR)
NEW_PASSWORDS = ("new_password1", "new_password2")
STAFF_FIELDS = ("email", "first_name", "last_name", "subject_group")


def sign_in_as(name):
    return lambda world, record: {"username": getattr(world, name).email, "password": PASSWORD}


def new_password_twice(world, record):
    return {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}


def password_change(world, record):
    return {"old_password": PASSWORD, **new_password_twice(world, record)}


def set_password(world, record):
    return {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}


def new_staff(world, record):
    return {
        "email": "nia@school.example",
        "first_name": "Nia",
        "last_name": "New",
        "subject_group": world.subject_group.pk,
        "password1": "",
        "password2": "",
    }


def staff_edit(world, staff):
    return {**edit_data(staff), "current_password": PASSWORD}


def group_edit(world, group):
    return {"name": group.name, "version": group.version}


SITE = {
    "login": Endpoint(get=("next",), post=SIGN_IN, post_data=sign_in_as("ada")),
    "logout": Endpoint(post=("next",)),
    "password_change": Endpoint(post=("old_password", *NEW_PASSWORDS), post_data=password_change),
    "password_reset": Endpoint(
        post=("email", X_FORWARDED_FOR), post_data=lambda world, _: {"email": world.ada.email}
    ),
    "password_reset_confirm": Endpoint(
        targets=emailed_links("ada", default_token_generator),
        post=NEW_PASSWORDS,
        post_data=new_password_twice,
        prepare=open_the_link("password_reset_confirm", "ada", default_token_generator),
    ),
    "invitation_accept": Endpoint(
        targets=emailed_links("invited", invitation_token_generator),
        post=NEW_PASSWORDS,
        post_data=new_password_twice,
        prepare=open_the_link("invitation_accept", "invited", invitation_token_generator),
    ),
    "staff:list": Endpoint(get=STAFF_LIST, twice=True),
    "staff:export": Endpoint(get=STAFF_LIST, twice=True),
    "staff:create": Endpoint(post=(*STAFF_FIELDS, "password1", "password2"), post_data=new_staff),
    "staff:import": Endpoint(
        post=("file", "create_groups"),
        post_data=lambda world, _: {"file": FileContent(IMPORT_CSV), "create_groups": "on"},
    ),
    "staff:import_preview": Endpoint(
        post=("token",),
        post_data=lambda world, _: {"token": world.import_token},
        prepare=with_a_pending_import,
    ),
    "staff:detail": Endpoint(targets=records_and_odd_pks("ada", "superuser")),
    # Any other version than the record's is refused as someone else's change.
    "staff:update": Endpoint(
        targets=ada_and_oneself,
        post=(*STAFF_FIELDS, "current_password", alone("version")),
        post_data=staff_edit,
    ),
    "staff:set_password": Endpoint(
        targets=records_and_odd_pks("ada", "superuser"),
        post=("password1", "password2"),
        post_data=set_password,
    ),
    "staff:resend_invitation": Endpoint(
        targets=records_and_odd_pks("invited", "ada"), post=(X_FORWARDED_FOR,)
    ),
    "staff:deactivate": Endpoint(targets=records_and_odd_pks("ada", "superuser")),
    "staff:activate": Endpoint(targets=records_and_odd_pks("ada", "superuser")),
    "staff:delete": Endpoint(targets=records_and_odd_pks("ada", "superuser")),
    "staff:history": Endpoint(targets=records_and_odd_pks("ada"), get=("page",)),
    "subjects:list": Endpoint(get=GROUP_LIST, twice=True),
    "subjects:create": Endpoint(post=("name",), post_data=lambda world, _: {"name": "Science"}),
    "subjects:detail": Endpoint(targets=records_and_odd_pks("subject_group"), get=("page",)),
    "subjects:update": Endpoint(
        targets=records_and_odd_pks("subject_group"),
        post=("name", alone("version")),
        post_data=group_edit,
    ),
    "subjects:delete": Endpoint(targets=records_and_odd_pks("subject_group")),
    "audit:list": Endpoint(get=AUDIT_LIST, twice=True),
    "audit:export": Endpoint(get=AUDIT_LIST, twice=True),
    "two_factor:verify": Endpoint(get=("next",), post=("otp_token", "next")),
    "two_factor:setup_app": Endpoint(get=("next",), post=("otp_token",)),
    "two_factor:remove_app": Endpoint(post=("otp_token",)),
    "two_factor:reset": Endpoint(targets=records_and_odd_pks("ada", "superuser")),
    "two_factor:name_passkey": Endpoint(post=("credential", "name")),
    "two_factor:remove_passkey": Endpoint(targets=records_and_odd_pks("ada"), post=("otp_token",)),
    "otp_webauthn:credential-registration-begin": Endpoint(),
    "otp_webauthn:credential-registration-complete": Endpoint(),
    "otp_webauthn:credential-authentication-begin": Endpoint(),
    "otp_webauthn:credential-authentication-complete": Endpoint(get=("next",)),
}


# The admin
# ------------------------------------------------------------------------------
# Every changelist: search, order, page, show all, popup, facets, the flag of a refused
# filter; `_to_field` refuses most values. Filters that refuse values (ids, flags, dates)
# go alone too: the others only choose rows.
CHANGELIST = ("q", "o", "p", "all", "_popup", "_facets", "e", alone("_to_field"))
# An action on the selected rows, and its confirmation (`post`); an unknown action hides
# the rest, and selecting across every page selects oneself, whom nobody deletes.
ACTIONS = ("index", "post", alone("action"), alone("_selected_action"), alone("select_across"))
# What a change, add or delete page's address carries from the changelist, and for
# popups. (`_to_field` is read from a form sent from the page the same way, before the
# form is looked at: walked on GET.)
PAGE_EXTRAS = ("_changelist_filters", flag("_popup"), alone("_to_field"))
# The changelist's filters, which the page's address keeps, and the form's buttons, read
# for their presence only.
FORM_EXTRAS = ("_changelist_filters", flag("_continue"), flag("_addanother"), flag("_popup"))
# "Save as new" on a change form adds a record instead, with the add form's rules.
CHANGE_FORM_EXTRAS = (*FORM_EXTRAS, flag("_saveasnew"))


def date_filter(field):
    return (alone(f"{field}__gte"), alone(f"{field}__lt"))


def date_hierarchy(field):
    """Its year, month and day, with the last ones of the calendar too."""
    year, month, day = (f"{field}__{part}" for part in ("year", "month", "day"))
    return (
        alone(year, values=("1", "9999", "10000")),
        alone(month, **{year: "9999"}, values=("1", "12", "13")),
        alone(day, **{year: "9999", month: "12"}, values=("1", "31", "32")),
    )


def first_day(field):
    """The date hierarchy's first day, which begins in year 0 east of UTC."""
    year, month, day = (f"{field}__{part}" for part in ("year", "month", "day"))
    return (alone(day, **{year: "1", month: "1"}, values=("1",)),)


def split_datetimes(*fields):
    return tuple(f"{field}_{part}" for field in fields for part in (0, 1))


def day_ends(*fields):
    """Dates typed in the admin's split date-and-time fields, at both ends of a day."""
    return tuple(
        alone(f"{field}_0", **{f"{field}_1": time})
        for field in fields
        for time in ("00:00:00", "23:59:59")
    )


def selected(name):
    return lambda world, _: {
        "action": "delete_selected",
        "_selected_action": [getattr(world, name).pk],
        "index": "0",
    }


def bare_admin_address(view):
    """The admin's unnamed `<object_id>/`, which redirects to the change page."""
    return lambda kwargs: reverse(view, args=[kwargs["object_id"]]).removesuffix("change/")


def model_admin(
    app_label,
    model_name,
    record,
    *,
    filters=(),
    actions=ACTIONS,
    add=(),
    change=(),
    add_data=nothing,
    change_data=nothing,
):
    """A ModelAdmin's changelist, add, change, delete and history pages, and its bare address."""
    prefix = f"admin:{app_label}_{model_name}"
    targets = admin_records(record)
    return {
        f"{prefix}_changelist": Endpoint(
            get=(*CHANGELIST, *filters), post=actions, post_data=selected(record)
        ),
        f"{prefix}_add": Endpoint(
            get=(*add, *PAGE_EXTRAS), post=(*add, *FORM_EXTRAS), post_data=add_data
        ),
        f"{prefix}_change": Endpoint(
            targets=targets,
            get=PAGE_EXTRAS,
            post=(*change, *CHANGE_FORM_EXTRAS),
            post_data=change_data,
        ),
        f"{prefix}_delete": Endpoint(
            targets=targets,
            get=PAGE_EXTRAS,
            post=("post", "_changelist_filters", flag("_popup")),
            post_data=lambda world, _: {"post": "yes"},
        ),
        f"{prefix}_history": Endpoint(targets=targets, get=("p", "_changelist_filters")),
        f"admin/{app_label}/{model_name}/<path:object_id>/": Endpoint(
            targets=targets, address=bare_admin_address(f"{prefix}_change")
        ),
    }


def admin_staff_change(world, staff):
    return {**admin_change_data(staff), "groups": [], "user_permissions": []}


def admin_group_change(world, group):
    return {"name": group.name, "permissions": list(group.permissions.values_list("pk", flat=True))}


def catch_all_paths(world, user):
    paths = ["nowhere/", "accounts/staff/add", *(quote(value) for value in ODD_OBJECT_IDS)]
    return [Target({"url": path}) for path in paths]


def view_on_site_paths(world, user):
    staff_type = str(ContentType.objects.get_for_model(Staff).pk)
    return [
        Target({"content_type_id": staff_type, "object_id": str(world.ada.pk)}),
        *(Target({"content_type_id": staff_type, "object_id": value}) for value in ODD_OBJECT_IDS),
        *(Target({"content_type_id": value, "object_id": "1"}) for value in ODD_OBJECT_IDS),
    ]


def app_lists(world, user):
    return [Target({"app_label": label}) for label in ("auth", "axes", "accounts", "subjects")]


ADMIN = {
    "admin:login": Endpoint(get=("next",), post=SIGN_IN, post_data=sign_in_as("superuser")),
    "admin:logout": Endpoint(post=("next",)),
    "admin:password_change": Endpoint(
        post=("old_password", *NEW_PASSWORDS), post_data=password_change
    ),
    # What the autocomplete of a staff member's subject group would ask; a model or field
    # that has none is refused before the rest is read.
    "admin:autocomplete": Endpoint(
        get=("term", "page", alone("app_label"), alone("model_name"), alone("field_name")),
        get_data=lambda world, _: {
            "app_label": "accounts",
            "model_name": "staff",
            "field_name": "subject_group",
        },
    ),
    "admin:view_on_site": Endpoint(targets=view_on_site_paths),
    "admin:app_list": Endpoint(targets=app_lists),
    "admin/(?P<url>.*)$": Endpoint(
        targets=catch_all_paths, address=lambda kwargs: "/admin/" + kwargs["url"]
    ),
    **model_admin(
        "accounts",
        "staff",
        "ada",
        filters=(
            "subject_group__isnull",
            "is_active__isnull",
            "is_staff__isnull",
            "groups__isnull",
            alone("subject_group__id__exact"),
            alone("is_active__exact"),
            alone("is_staff__exact"),
            alone("groups__id__exact"),
        ),
        add=(*STAFF_FIELDS, "password1", "password2"),
        add_data=new_staff,
        change=(
            *STAFF_FIELDS,
            "password",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
            *split_datetimes("last_login", "date_joined"),
        ),
        change_data=admin_staff_change,
    ),
    "admin:auth_user_password_change": Endpoint(
        targets=admin_records("ada", argument="id"),
        get=(flag("_popup"),),
        post=("password1", "password2", flag("_popup")),
        post_data=set_password,
    ),
    # Nobody adds, changes or deletes an audit event: no actions, and read-only pages.
    **model_admin(
        "audit",
        "auditevent",
        "audit_event",
        actions=(),
        filters=(
            "kind__exact",
            "kind__isnull",
            *date_filter("created_at"),
            *date_hierarchy("created_at"),
        ),
    ),
    **model_admin(
        "subjects",
        "subjectgroup",
        "subject_group",
        add=("name",),
        add_data=lambda world, _: {"name": "Science"},
        change=("name",),
        change_data=lambda world, group: {"name": group.name},
    ),
    **model_admin(
        "auth",
        "group",
        "managers_group",
        add=("name", "permissions"),
        add_data=lambda world, _: {"name": "Librarians", "permissions": [world.permission.pk]},
        change=("name", "permissions"),
        change_data=admin_group_change,
    ),
    **model_admin(
        "axes",
        "accessattempt",
        "access_attempt",
        filters=(
            "path_info",
            "path_info__isnull",
            "locked_out",
            *date_filter("attempt_time"),
            *date_hierarchy("attempt_time"),
        ),
    ),
    **model_admin(
        "axes",
        "accesslog",
        "access_log",
        filters=(
            "logout_time__isnull",
            "path_info",
            "path_info__isnull",
            *date_filter("attempt_time"),
            *date_hierarchy("attempt_time"),
            *date_filter("logout_time"),
        ),
    ),
    **model_admin(
        "axes",
        "accessfailurelog",
        "access_failure_log",
        filters=(
            "locked_out__isnull",
            "path_info",
            "path_info__isnull",
            alone("locked_out__exact"),
            *date_filter("attempt_time"),
            *date_hierarchy("attempt_time"),
        ),
    ),
}

ENDPOINTS = {**SITE, **ADMIN}

# Patterns whose views read no parameter: each is still asked for, with GET and with POST,
# by every person.
WITHOUT_PARAMETERS = (
    "home",
    "healthz",
    "favicon",
    # django.contrib.auth.urls' pages after a form is sent. Its login, logout, password
    # change, password reset and reset link are hidden by ours, of the same names.
    "password_change_done",
    "password_reset_done",
    "password_reset_complete",
    "admin:index",
    "admin:jsi18n",
    "admin:password_change_done",
    "two_factor:security",
    "two_factor:recovery_codes",
    "two_factor:recovery_codes_download",
    "otp_webauthn:js-i18n-catalog",
)

# The parameters that name a day or a time, which the site's time zone places: walked
# again far east and far west of UTC, where the calendar's first and last days begin or
# end in years that do not exist.
TIME_ZONE_SENSITIVE = {
    "audit:list": ("since", "until"),
    "audit:export": ("since", "until"),
    "admin:audit_auditevent_changelist": (
        *date_filter("created_at"),
        *date_hierarchy("created_at"),
        *first_day("created_at"),
    ),
    "admin:accounts_staff_change": day_ends("last_login", "date_joined"),
}


def pattern_keys(patterns=None, prefix="", namespace=""):
    """Each URL pattern's name (with its namespace), or its route when it has none."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from pattern_keys(pattern.url_patterns, route, inner)
        elif pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name
        else:
            yield route


# What was sent, and what went wrong
# ------------------------------------------------------------------------------
PROJECT = Path(settings.BASE_DIR)


class FileContent(str):
    """A file's whole content, as a valid request uploads it."""


def as_upload(value):
    """A CSV file of staff with `value` in every cell (or the file as it is)."""
    values = value if isinstance(value, list) else [value]
    header = ",".join(["email", "first_name", "last_name", "subject_group"]) + "\n"
    return [
        SimpleUploadedFile(
            "staff.csv",
            (cell if isinstance(cell, FileContent) else header + ",".join([cell] * 4)).encode(),
            content_type="text/csv",
        )
        for cell in values
    ]


def as_header(value):
    """A header as a WSGI server passes it on: bytes read as Latin-1."""
    value = ", ".join(value) if isinstance(value, list) else value
    return value.encode().decode("latin-1")


def shown(value):
    if isinstance(value, list):
        return "&".join(shown(item) for item in value)
    if len(value) > 30:
        return f"{value[:8]!r}…({len(value)} characters)"
    return repr(value)


def frame_name(frame):
    """A line of code, as `django/forms/models.py:1651 in _check_values`."""
    path = Path(frame.filename)
    if path.is_relative_to(PROJECT) and ".venv" not in path.parts:
        path = path.relative_to(PROJECT)
    else:
        # From the package on: site-packages, or the standard library's own folder.
        libraries = [i for i, part in enumerate(path.parts) if part.startswith("python3")]
        if "site-packages" in path.parts:
            path = Path(*path.parts[path.parts.index("site-packages") + 1 :])
        elif libraries:
            path = Path(*path.parts[libraries[-1] + 1 :])
    return f"{path}:{frame.lineno} in {frame.name}"


def is_ours(frame):
    """A line of the project's code, less the middleware that every request passes."""
    path = Path(frame.filename)
    return (
        path.is_relative_to(PROJECT)
        and ".venv" not in path.parts
        and path.name != "middleware.py"
        and path != Path(__file__)
    )


@dataclasses.dataclass(frozen=True)
class Error:
    """An exception: its type and where it was raised, then its message."""

    where: str
    message: str

    @classmethod
    def of(cls, error):
        frames = traceback.extract_tb(error.__traceback__)
        where = type(error).__name__
        if frames:
            where += f" raised at {frame_name(frames[-1])}"
            # The caller above the database layer, and the last line of our own code.
            callers = [frame for frame in frames[:-1] if "/django/db/" not in frame.filename]
            if callers and callers[-1].filename != frames[-1].filename:
                where += f", called from {frame_name(callers[-1])}"
            ours = [frame for frame in frames if is_ours(frame)]
            if ours and ours[-1] not in (frames[-1], callers[-1] if callers else None):
                where += f"; our code: {frame_name(ours[-1])}"
        lines = str(error).strip().splitlines()
        return cls(where, lines[0][:120] if lines else "")


@dataclasses.dataclass(frozen=True)
class ServerError:
    method: str
    url: str
    role: str
    sent: str
    status: object
    error: Error


def report(server_errors):
    """The server errors, one paragraph per request and cause, listing what was sent."""
    causes = defaultdict(list)
    for found in server_errors:
        causes[found.method, found.url, found.role, found.status, found.error.where].append(found)
    paragraphs = []
    for (method, url, role, status, where), found in causes.items():
        sent = sorted({each.sent for each in found})
        listed = "; ".join(sent[:8]) + (f"; and {len(sent) - 8} more" if len(sent) > 8 else "")
        shown_url = url if len(url) <= 80 else url[:60] + f"…({len(url)} characters)"
        paragraphs.append(
            f"{method} {shown_url} as {role} → {status} {where}\n"
            f"    ({found[0].error.message})\n    sent: {listed}"
        )
    return f"{len(server_errors)} server errors:\n" + "\n".join(paragraphs)


def html_names(bound_field):
    widget = bound_field.field.widget
    if isinstance(widget, MultiWidget):
        return [bound_field.html_name + suffix for suffix in widget.widgets_names]
    return [bound_field.html_name]


def page_form(response):
    """The form the page shows (its admin form's, in the admin), or None."""
    for key in ("adminform", "form"):
        try:
            form = response.context[key]
        except (KeyError, TypeError):
            continue
        form = form.form if isinstance(form, AdminForm) else form
        if isinstance(form, BaseForm):
            return form
    return None


def errors_on(response):
    """The parameters the page's form refused, and "__all__" for errors of the whole form."""
    form = page_form(response)
    if form is None or not form.is_bound:
        return set()
    return {
        name
        for field in form.errors
        for name in (html_names(form[field]) if field in form.fields else [field])
    }


def parameters_on_page(response):
    """Every parameter that the page's forms, filters and date hierarchy send back."""
    contexts = response.context
    if contexts is None:
        return set()
    names = set()
    for context in contexts if isinstance(contexts, list) else [contexts]:
        for value in context.flatten().values():
            if isinstance(value, AdminForm):
                value = value.form
            if isinstance(value, BaseForm):
                names.update(name for bound_field in value for name in html_names(bound_field))
            elif isinstance(value, ChangeList):
                for spec in value.filter_specs:
                    names.update(spec.expected_parameters())
                if field := value.date_hierarchy:
                    names.update(f"{field}__{part}" for part in ("year", "month", "day"))
    return names


def refuses_the_person(response):
    """A page this person may not see: the view never gets to read its parameters."""
    if response is None:
        return False
    if response.status_code in (401, 403, 405):
        return True
    login_pages = (reverse("login"), reverse("admin:login"))
    return response.status_code == 302 and response["Location"].startswith(login_pages)


def refuses_the_request(response, valid_status):
    """Refused as a whole, not field by field: a 4xx, or the admin's "?e=1" after a filter."""
    if response.status_code >= 400 > valid_status:
        return True
    location = response.get("Location", "")
    return response.status_code == 302 and f"?{ERROR_FLAG}=1" in location


# Walking
# ------------------------------------------------------------------------------
@dataclasses.dataclass
class Walk:
    """One person's requests to one URL pattern, and the server errors they met."""

    key: str
    endpoint: Endpoint
    role: str
    client: Client
    world: object
    raised: list
    server_errors: list
    values: tuple = HOSTILE_VALUES
    valid_status: int = 200
    parameters_seen: set = dataclasses.field(default_factory=set)
    cookies: dict = dataclasses.field(default_factory=dict)

    def run(self, user):
        if self.endpoint.prepare:
            self.endpoint.prepare(self.client, self.world)
        self.cookies = {name: morsel.value for name, morsel in self.client.cookies.items()}
        refused = set()
        for target in self.endpoint.targets(self.world, user):
            url = self.address(target.kwargs)
            asked = False
            for method, parameters, data in (
                ("GET", self.endpoint.get, self.endpoint.get_data),
                ("POST", self.endpoint.post, self.endpoint.post_data),
            ):
                # An address that names nothing is asked once, with a method that the real
                # record's page answers this person.
                if not target.walk and (asked or method in refused):
                    continue
                asked = True
                base = data(self.world, target.record) if target.walk else {}
                response = self.send(method, url, base, "the valid request")
                if target.walk and refuses_the_person(response):
                    refused.add(method)
                # Where the valid request fails, the failure is all there is to say.
                if not (target.walk and parameters) or response is None:
                    continue
                if refuses_the_person(response):
                    # A refused POST reads nothing; a refused GET may carry its query along.
                    if method == "GET":
                        self.send_every_value_at_once(method, url, base, parameters)
                    continue
                if method == "GET":
                    self.parameters_seen |= parameters_on_page(response)
                if target.only is not None:
                    parameters = [
                        name for name in parameters if names_of([name]) <= set(target.only)
                    ]
                self.valid_status = response.status_code
                self.walk(method, url, base, parameters)

    def address(self, kwargs):
        if self.endpoint.address:
            return self.endpoint.address(kwargs)
        return reverse(self.key, kwargs=kwargs)

    def walk(self, method, url, base, parameters):
        together = [name for name in parameters if isinstance(name, str)]
        apart = [name for name in parameters if isinstance(name, Alone)]
        for value in self.values:
            if together:
                self.cover(method, url, base, together, value)
        for each in apart:
            for value in (*self.values, *each.values) if each.hostile else each.values:
                self.cover(method, url, {**base, **each.companions}, each.names, value, each)

    def cover(self, method, url, base, names, value, alone=None):
        """Send `value` in each of `names`; where some hide the others, send it again apart.

        Fields that refuse the value are left out of the next request, so that it reaches
        what a valid form does; a request refused as a whole is split in halves, unless its
        parameters go together (`alone`). Returns whether a server error was met.
        """
        names = list(names)
        sent = ", ".join(f"{name}={shown(value)}" for name in names)
        if alone and alone.companions:
            sent += " with " + ", ".join(f"{k}={shown(v)}" for k, v in alone.companions.items())
        response = self.send(method, url, {**base, **dict.fromkeys(names, value)}, sent)
        halves = names[: len(names) // 2], names[len(names) // 2 :]
        if response is None:
            if len(names) > 1:
                # Name the parameter that fails, or else the ones that fail only together.
                together = self.server_errors.pop()
                if not any([self.cover(method, url, base, half, value, alone) for half in halves]):
                    self.server_errors.append(together)
            return True
        if len(names) == 1:
            return False
        errors = errors_on(response)
        if refused := errors & set(names):
            rest = [name for name in names if name not in refused]
            return bool(rest) and self.cover(method, url, base, rest, value, alone)
        if alone is None and (errors or refuses_the_request(response, self.valid_status)):
            return any([self.cover(method, url, base, half, value) for half in halves])
        return False

    def send_every_value_at_once(self, method, url, base, parameters):
        """For a person the page refuses: once, with every hostile value in every parameter."""
        every_value = [
            item
            for value in HOSTILE_VALUES
            for item in (value if isinstance(value, list) else [value])
        ]
        hostile = dict.fromkeys(names_of(parameters), every_value)
        self.send(method, url, {**base, **hostile}, "every value in every parameter")

    def send(self, method, url, data, sent):
        """Ask once (twice for a cached list), rolled back; None if a server error answered."""
        response = None
        for again in range(2 if self.endpoint.twice and method == "GET" else 1):
            response, error = self.request(method, url, data)
            if error is not None or response.status_code >= 500:
                sent += " (asked again: from the cache)" if again else ""
                status = "no response" if response is None else response.status_code
                error = error or Error("no exception", "")
                self.server_errors.append(ServerError(method, url, self.role, sent, status, error))
                return None
            if response.status_code != 200:
                break
        return response

    def request(self, method, url, data):
        headers = {name: as_header(data[name]) for name in HEADERS & set(data)}
        data = {name: value for name, value in data.items() if name not in HEADERS}
        if method == "POST":
            data.update((name, as_upload(data[name])) for name in UPLOADS & set(data))
            if in_address := {name: data.pop(name) for name in IN_ADDRESS & set(data)}:
                url += "?" + urlencode(in_address, doseq=True)
        self.client.cookies.clear()
        for name, value in self.cookies.items():
            self.client.cookies[name] = value
        self.raised.clear()
        response = error = None
        with transaction.atomic():
            try:
                send = self.client.get if method == "GET" else self.client.post
                response = send(url, data, headers=headers)
                if response.streaming:
                    b"".join(response.streaming_content)
            except Exception as exception:
                error = Error.of(exception)
            finally:
                transaction.set_rollback(True)
        self.forget_the_cached_session()
        return response, self.raised[0] if self.raised else error

    def forget_the_cached_session(self):
        """A session kept in the cache too is read again from the rolled-back database."""
        key = self.cookies.get(settings.SESSION_COOKIE_NAME)
        store = import_module(settings.SESSION_ENGINE).SessionStore(key)
        if key and hasattr(store, "cache_key"):
            caches[settings.SESSION_CACHE_ALIAS].delete(store.cache_key)


@dataclasses.dataclass
class World:
    """What the pages show and change: a member of a group, an invitee, a lockout's records."""

    plain_staff: Staff
    manager: Staff
    superuser: Staff
    ada: Staff
    subject_group: SubjectGroup
    invited: Staff
    managers_group: Group
    permission: Permission
    audit_event: AuditEvent
    access_attempt: AccessAttempt
    access_log: AccessLog
    access_failure_log: AccessFailureLog
    # The confirmation token of the import waiting in the walking person's session.
    import_token: str = ""

    @classmethod
    def build(cls, users_by_role, ada, subject_group):
        ada.subject_group = subject_group
        ada.save()
        invited = StaffFactory(email="ivy@school.example", first_name="Ivy", last_name="Invited")
        invited.set_unusable_password()
        invited.save()
        sign_in = {
            "username": ada.email,
            "ip_address": "203.0.113.7",
            "user_agent": "Firefox",
            "http_accept": "*/*",
            "path_info": reverse("login"),
        }
        return cls(
            plain_staff=users_by_role["plain"],
            manager=users_by_role["manager"],
            superuser=users_by_role["superuser"],
            ada=ada,
            subject_group=subject_group,
            invited=invited,
            managers_group=Group.objects.get(name="Staff managers"),
            permission=Permission.objects.get(codename="view_staff"),
            audit_event=AuditEvent.objects.about(ada).first(),
            access_attempt=AccessAttempt.objects.create(
                **sign_in, get_data="", post_data="", failures_since_start=2
            ),
            access_log=AccessLog.objects.create(**sign_in),
            access_failure_log=AccessFailureLog.objects.create(**sign_in, locked_out=False),
        )

    def people(self):
        return {
            "anonymous": None,
            "plain": self.plain_staff,
            "manager": self.manager,
            "superuser": self.superuser,
        }


def walk_as_everyone(key, world, anonymous_client, endpoint=None, values=HOSTILE_VALUES):
    """Walk one URL pattern as each kind of person: the server errors met, and table gaps."""
    endpoint = endpoint or ENDPOINTS.get(key, Endpoint())
    server_errors, gaps, raised = [], [], []

    def remember(sender, request=None, **kwargs):
        raised.append(Error.of(sys.exc_info()[1]))

    got_request_exception.connect(remember)
    # The errors are collected here: logging every traceback as well only slows the walk.
    logging.disable(logging.CRITICAL)
    try:
        for role, user in world.people().items():
            client = anonymous_client if user is None else Client()
            client.raise_request_exception = False
            if user is not None:
                client.force_login(user)
            walk = Walk(key, endpoint, role, client, world, raised, server_errors, values)
            walk.run(user)
            walked = names_of(endpoint.get) | names_of(endpoint.post)
            if unwalked := walk.parameters_seen - walked:
                gaps.append(f"{key} as {role} sends {sorted(unwalked)}, which the table lacks")
    finally:
        logging.disable(logging.NOTSET)
        got_request_exception.disconnect(remember)
    return server_errors, gaps


# The specification
# ------------------------------------------------------------------------------
def test_every_url_pattern_is_walked():
    walked = {*ENDPOINTS, *WITHOUT_PARAMETERS}

    assert set(pattern_keys()) - walked == set(), "add the new patterns to ENDPOINTS"
    assert walked - set(pattern_keys()) == set()


@pytest.mark.parametrize("key", [*ENDPOINTS, *WITHOUT_PARAMETERS])
def test_no_parameter_value_gets_a_server_error(
    key, settings, client, users_by_role, ada, subject_group
):
    # Behind one proxy, X-Forwarded-For names the client: as forged as any parameter.
    settings.TRUSTED_PROXY_COUNT = 1
    world = World.build(users_by_role, ada, subject_group)

    server_errors, gaps = walk_as_everyone(key, world, client)

    assert not gaps, "\n".join(gaps)
    assert not server_errors, report(server_errors)


@pytest.mark.parametrize("time_zone", ["Asia/Tokyo", "America/Los_Angeles"])
@pytest.mark.parametrize("key", TIME_ZONE_SENSITIVE)
def test_no_day_gets_a_server_error_far_from_utc(
    key, time_zone, settings, client, users_by_role, ada, subject_group
):
    settings.TIME_ZONE = time_zone
    world = World.build(users_by_role, ada, subject_group)
    endpoint = ENDPOINTS[key]
    days = TIME_ZONE_SENSITIVE[key]
    only_days = dataclasses.replace(
        endpoint,
        get=days if names_of(days) & names_of(endpoint.get) else (),
        post=days if names_of(days) & names_of(endpoint.post) else (),
        targets=lambda world, user: [t for t in endpoint.targets(world, user) if t.walk],
    )

    server_errors, _ = walk_as_everyone(key, world, client, only_days, HOSTILE_DAYS)

    assert not server_errors, f"In {time_zone}: {report(server_errors)}"
