"""Who is acting, for the audit trail: the signed-in user and client IP, or a command."""

import contextlib
import ipaddress
import logging
import sys
from contextvars import ContextVar
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.db import transaction

logger = logging.getLogger("schoolstaff.audit")

# The request being answered, or the label of the command being run.
_current_request = ContextVar("audit_request", default=None)
_current_label = ContextVar("audit_label", default=None)


class Actor(NamedTuple):
    staff: object  # The signed-in user, or None for a command or an anonymous visitor.
    label: str
    ip: str | None


def client_ip(request):
    """The client's IP address, trusting X-Forwarded-For only from known proxies.

    "" when there is none or what is there is not an address: a forged header
    may hold anything, and the lockout and the audit trail store it.
    """
    address = request.META.get("REMOTE_ADDR", "")
    if settings.TRUSTED_PROXY_COUNT:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [ip.strip() for ip in header.split(",") if ip.strip()]
        # Each trusted proxy appends the address it saw; anything further left
        # came from the client and may be forged.
        if len(forwarded) >= settings.TRUSTED_PROXY_COUNT:
            address = forwarded[-settings.TRUSTED_PROXY_COUNT]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return ""


def actor_of_request(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor(user, user.get_username(), client_ip(request) or None)
    return Actor(None, "", client_ip(request) or None)


def current_actor():
    """Who makes the change being recorded: a request's user, a command, or the system."""
    if (request := _current_request.get()) is not None:
        return actor_of_request(request)
    if label := _current_label.get():
        return Actor(None, label, None)
    return Actor(None, command_from_argv(sys.argv), None)


def command_from_argv(argv):
    """'command <name>' when run as `manage.py <name>`, else 'system'."""
    if len(argv) > 1 and Path(argv[0]).name in {"manage.py", "django-admin"}:
        return f"command {argv[1]}"
    return "system"


@contextlib.contextmanager
def acting_as(label):
    """Record changes made inside as made by `label`, e.g. 'command import_staff'."""
    token = _current_label.set(label)
    try:
        yield
    finally:
        _current_label.reset(token)


@contextlib.contextmanager
def answering(request):
    """Record changes made inside as made by the request's user, from its client IP."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def log_line(event):
    """One line for the log: 'staff.changed actor=ada@x ip=1.2.3.4 target=staff:12 fields=…'."""
    target = event.target_type.model if event.target_type_id else "account"
    parts = [
        f"{target}.{event.kind}",
        f"actor={event.actor_label or '-'}",
        f"ip={event.ip or '-'}",
    ]
    if event.target_id is not None:
        parts.append(f"target={target}:{event.target_id}")
    if event.changes:
        parts.append("fields=" + ",".join(change["field"] for change in event.changes))
    if event.email_typed:
        # As typed by anyone: quoted, so that it cannot forge a line of its own.
        parts.append(f"email={event.email_typed!r}")
    return " ".join(parts)


def log_on_commit(events, using=None):
    """Log the events once they are saved for good: a rolled-back change logs nothing."""

    def log():
        if logger.isEnabledFor(logging.INFO):
            for event in events:
                logger.info(log_line(event))

    transaction.on_commit(log, using=using)
