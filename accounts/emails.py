"""The emails the site sends about an account. None ever contains a password."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit.models import AuditEvent

from .tokens import invitation_token_generator


def send_account_email(template, to, **context):
    """Send `emails/<template>.txt` (first line: subject) once the transaction commits."""
    subject, body = render_to_string(f"emails/{template}.txt", context).split("\n", 1)

    def send():
        send_mail(subject.strip(), body.strip() + "\n", None, [to])

    # A change that rolls back must not have announced itself.
    transaction.on_commit(send)


def send_invitation(staff, request):
    path = reverse(
        "invitation_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(staff.pk)),
            "token": invitation_token_generator.make_token(staff),
        },
    )
    send_account_email(
        "invitation",
        staff.email,
        staff=staff,
        link=request.build_absolute_uri(path),
        days=settings.INVITATION_TIMEOUT // (24 * 3600),
    )
    AuditEvent.objects.record(AuditEvent.Kind.INVITATION_SENT, staff, request=request)
