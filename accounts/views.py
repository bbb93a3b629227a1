from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import PermissionRequiredMixin, UserPassesTestMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.generic import (
    CreateView,
    DeleteView,
    DetailView,
    FormView,
    ListView,
    TemplateView,
    UpdateView,
    View,
)
from django.views.generic.detail import (
    BaseDetailView,
    SingleObjectMixin,
    SingleObjectTemplateResponseMixin,
)

from schoolstaff.views import (
    CachedListMixin,
    FilteredListMixin,
    KeysFirstPaginator,
    ObjectSuccessMessageMixin,
    PagedObjectListMixin,
)

from . import emails
from .audit_export import AuditExport
from .forms import (
    AuditEventFilterForm,
    EmailAuthenticationForm,
    InvitationAcceptForm,
    OwnPasswordChangeForm,
    OwnPasswordSetForm,
    StaffChangeForm,
    StaffCreationForm,
    StaffImportConfirmForm,
    StaffImportForm,
    StaffListFilterForm,
    StaffSetPasswordForm,
)
from .models import AuditEvent, EmailRequest, Staff
from .security import client_ip
from .staff_export import StaffExport
from .tokens import invitation_token_generator


def too_many_requests(request):
    return render(
        request,
        "429.html",
        {"message": "Too many emails were asked for. Please wait an hour and try again."},
        status=429,
    )


def locked_out(request, response, credentials):
    """The page for a sign-in refused by a lockout: the same whether the account exists or not."""
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
    template_name = "home.html"


class LoginView(auth_views.LoginView):
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have been logged out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = OwnPasswordChangeForm


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        if not allow_email_request(self.request, "password reset", form.cleaned_data["email"]):
            return too_many_requests(self.request)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = OwnPasswordSetForm


class InvitationAcceptView(SuccessMessageMixin, auth_views.PasswordResetConfirmView):
    """Let an invited member choose their password, then sign them in."""

    form_class = InvitationAcceptForm
    token_generator = invitation_token_generator
    template_name = "registration/invitation_accept.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("home")
    success_message = "Welcome! Your password is set and you are signed in."


class AccountRulesMixin:
    """Refuse, with the reason, what the account rules forbid beyond permissions."""

    def get_object(self, queryset=None):
        staff = super().get_object(queryset)
        if refusal := self.get_refusal(staff):
            raise PermissionDenied(refusal)
        return staff

    def get_refusal(self, staff):
        return staff.refusal_to_change_by(self.request.user)


class StaffListView(CachedListMixin, FilteredListMixin, ListView):
    queryset = Staff.objects.select_related("subject_group")
    filter_form_class = StaffListFilterForm
    paginator_class = KeysFirstPaginator
    template_name = "accounts/staff_list.html"
    content_template_name = "accounts/_staff_list.html"


class StaffDetailView(DetailView):
    queryset = Staff.objects.select_related("subject_group")


class StaffCreateView(PermissionRequiredMixin, ObjectSuccessMessageMixin, CreateView):
    model = Staff
    form_class = StaffCreationForm
    permission_required = "accounts.add_staff"
    success_message = "Staff member %(object)s created."

    def form_valid(self, form):
        response = super().form_valid(form)
        if self.object.is_invited:
            emails.send_invitation(self.object, self.request)
            messages.info(self.request, f"An invitation was emailed to {self.object.email}.")
        return response


class StaffUpdateView(
    PermissionRequiredMixin, AccountRulesMixin, ObjectSuccessMessageMixin, UpdateView
):
    model = Staff
    form_class = StaffChangeForm
    permission_required = "accounts.change_staff"
    success_message = "Staff member %(object)s updated."

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "editor": self.request.user}


class StaffSetPasswordView(
    PermissionRequiredMixin, AccountRulesMixin, ObjectSuccessMessageMixin, UpdateView
):
    model = Staff
    form_class = StaffSetPasswordForm
    permission_required = "accounts.change_staff"
    template_name = "accounts/staff_set_password.html"
    success_message = "Password set for %(object)s."

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = kwargs.pop("instance")
        return {**kwargs, "editor": self.request.user}

    def form_valid(self, form):
        response = super().form_valid(form)
        # A new password ends the owner's sessions; keep this one if it is theirs.
        if self.object == self.request.user:
            update_session_auth_hash(self.request, self.object)
        return response


class StaffResendInvitationView(
    PermissionRequiredMixin, AccountRulesMixin, SingleObjectMixin, View
):
    model = Staff
    permission_required = "accounts.change_staff"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        staff = self.get_object()
        if not staff.is_invited:
            messages.error(request, f"{staff} has already set a password.")
        elif not allow_email_request(request, "invitation", staff.email):
            return too_many_requests(request)
        else:
            emails.send_invitation(staff, request)
            messages.success(request, f"Invitation sent again to {staff.email}.")
        return redirect(staff)


class StaffActivationView(
    PermissionRequiredMixin, AccountRulesMixin, SingleObjectTemplateResponseMixin, BaseDetailView
):
    """Ask on GET, then deactivate (or reactivate) on POST: sign-in ends, the record stays."""

    model = Staff
    permission_required = "accounts.change_staff"
    template_name = "accounts/staff_confirm_activation.html"
    activate = True

    def get_refusal(self, staff):
        if not self.activate and staff.pk == self.request.user.pk:
            return "You cannot deactivate your own account."
        return super().get_refusal(staff)

    def get_context_data(self, **kwargs):
        return super().get_context_data(activate=self.activate, **kwargs)

    def post(self, request, *args, **kwargs):
        staff = self.get_object()
        staff.is_active = self.activate
        staff.save(update_fields=["is_active"])
        done = "reactivated" if self.activate else "deactivated"
        messages.success(request, f"Staff member {staff} {done}.")
        return redirect(staff)


class StaffDeleteView(
    PermissionRequiredMixin, AccountRulesMixin, ObjectSuccessMessageMixin, DeleteView
):
    model = Staff
    permission_required = "accounts.delete_staff"
    success_url = reverse_lazy("staff:list")
    success_message = "Staff member %(object)s deleted."

    def get_refusal(self, staff):
        return staff.refusal_to_delete_by(self.request.user)


class StaffExportView(PermissionRequiredMixin, StaffListView):
    """The staff list as filtered and sorted on its page, every page of it, as a CSV file."""

    permission_required = "accounts.change_staff"
    paginate_by = None

    def render_to_response(self, context, **response_kwargs):
        # Streamed a chunk of rows at a time: 50,000 staff never sit in memory.
        return StreamingHttpResponse(
            StaffExport(self.object_list).chunks(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="staff.csv"'},
        )


class StaffImportView(PermissionRequiredMixin, FormView):
    """Upload a CSV file of staff, to preview before anything is written."""

    form_class = StaffImportForm
    permission_required = ["accounts.add_staff", "accounts.change_staff"]
    template_name = "accounts/staff_import.html"
    success_url = reverse_lazy("staff:import_preview")

    def form_valid(self, form):
        form.save(self.request.session)
        return super().form_valid(form)


class StaffImportPreviewView(PermissionRequiredMixin, FormView):
    """Show what the uploaded file would change; on confirmation, write it all at once."""

    form_class = StaffImportConfirmForm
    permission_required = ["accounts.add_staff", "accounts.change_staff"]
    template_name = "accounts/staff_import_preview.html"
    success_url = reverse_lazy("staff:list")

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "session": self.request.session,
            "editor": self.request.user,
        }

    def form_valid(self, form):
        created, updated, unchanged = form.save()
        messages.success(
            self.request,
            f"Staff imported: {created} created, {updated} updated, {unchanged} unchanged.",
        )
        return super().form_valid(form)


class StaffHistoryView(PermissionRequiredMixin, PagedObjectListMixin, ListView):
    """A staff member's record history and account events, newest first."""

    model = Staff
    permission_required = "accounts.view_staff"
    template_name = "accounts/staff_history.html"

    def get_queryset(self):
        return AuditEvent.objects.about(self.object).select_related("actor")


class SuperuserRequiredMixin(UserPassesTestMixin):
    def test_func(self):
        return self.request.user.is_superuser


class AuditEventListView(SuperuserRequiredMixin, FilteredListMixin, ListView):
    """Every audit event, filtered by person, actor, kind and dates."""

    queryset = AuditEvent.objects.select_related("actor")
    filter_form_class = AuditEventFilterForm


class AuditEventExportView(AuditEventListView):
    """The audit events as filtered on their page, every page of them, as a CSV file."""

    paginate_by = None

    def render_to_response(self, context, **response_kwargs):
        return StreamingHttpResponse(
            AuditExport(self.object_list).chunks(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
