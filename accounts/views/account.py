"""Signing in and one's own account: Django's auth views with our forms and rules."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.messages.views import SuccessMessageMixin
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.generic import (
    TemplateView,
)

from audit.actors import client_ip
from audit.models import AuditEvent
from subjects.models import SubjectGroup

from ..forms.account import (
    EmailAuthenticationForm,
    InvitationAcceptForm,
    OwnPasswordChangeForm,
    OwnPasswordSetForm,
)
from ..models import EmailRequest, Staff, StaffTally
from ..tokens import invitation_token_generator


def too_many_requests(request):
    return render(
        request,
        "429.html",
        {"message": "Too many emails were asked for. Please wait an hour and try again."},
        status=429,
    )


def locked_out(request, response, credentials):
    """The page for a sign-in refused by a lockout: the same whether the account exists or not."""
    if getattr(request, "account_locked_out", False):
        # Locked by failures from every address: only a new password or an operator unlocks it.
        return render(request, "429.html", {"account_locked": True}, status=429)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "429.html", {"lockout_minutes": minutes}, status=429)


def allow_email_request(request, kind, email):
    return EmailRequest.objects.allow(
        kind,
        Staff.objects.normalize_email(email),
        client_ip(request) or None,
        per_email=settings.EMAIL_REQUEST_LIMIT_PER_ADDRESS,
        per_ip=settings.EMAIL_REQUEST_LIMIT_PER_IP,
    )


class HomeView(TemplateView):
    """One's own details and what one can do; for a manager, the staff in numbers too."""

    template_name = "home.html"
    # How many of the latest changes to staff and groups a manager sees.
    latest_changes = 5

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if user.has_perm("accounts.change_staff"):
            context["staff_counts"] = StaffTally.objects.counts()
            context["group_count"] = SubjectGroup.objects.count()
        if user.has_perm("accounts.view_staff"):
            context["latest_changes"] = AuditEvent.objects.newest(
                RECORD_CHANGES, self.latest_changes
            )
        return context


# What a manager's home page lists as the latest changes: records, not sign-ins.
RECORD_CHANGES = [
    AuditEvent.Kind.CREATED,
    AuditEvent.Kind.CHANGED,
    AuditEvent.Kind.DEACTIVATED,
    AuditEvent.Kind.ACTIVATED,
    AuditEvent.Kind.DELETED,
    AuditEvent.Kind.IMPORTED,
    AuditEvent.Kind.IMPORT_CHANGED,
]


class LoginView(auth_views.LoginView):
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


@method_decorator(login_not_required, name="dispatch")
class LogoutView(auth_views.LogoutView):
    """Log out on POST; on GET, a page with the button to do it (or a link to log in again)."""

    # A followed link or a typed address is a GET: it gets a page, never a bare 405.
    http_method_names = ["get", "post", "options"]
    template_name = "registration/logout.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data())

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have been logged out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = OwnPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        if not allow_email_request(self.request, "password reset", form.cleaned_data["email"]):
            return too_many_requests(self.request)
        self.extra_email_context = {"link_lifetime": link_lifetime(settings.PASSWORD_RESET_TIMEOUT)}
        return super().form_valid(form)


def link_lifetime(seconds):
    """How long an emailed link works, in words: '1 hour', '90 minutes', '2 days'."""
    minutes = seconds // 60
    for unit, size in (("day", 24 * 60), ("hour", 60)):
        if minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{pluralize(count)}"
    return f"{minutes} minute{pluralize(minutes)}"


class ActiveAccountLinkMixin:
    """An emailed link does nothing for an account deactivated since it was sent."""

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None


class PasswordResetConfirmView(ActiveAccountLinkMixin, auth_views.PasswordResetConfirmView):
    form_class = OwnPasswordSetForm


class InvitationAcceptView(
    ActiveAccountLinkMixin, SuccessMessageMixin, auth_views.PasswordResetConfirmView
):
    """Let an invited member choose their password, then sign them in."""

    form_class = InvitationAcceptForm
    token_generator = invitation_token_generator
    template_name = "registration/invitation_accept.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("home")
    success_message = "Welcome! Your password is set and you are signed in."
