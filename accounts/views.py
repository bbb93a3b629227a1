from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import PermissionRequiredMixin, UserPassesTestMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
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
    CSVExportView,
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

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        if not allow_email_request(self.request, "password reset", form.cleaned_data["email"]):
            return too_many_requests(self.request)
        return super().form_valid(form)


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
    queryset = Staff.objects.with_powers().select_related("subject_group")
    filter_form_class = StaffListFilterForm
    paginator_class = KeysFirstPaginator
    template_name = "accounts/staff_list.html"
    content_template_name = "accounts/_staff_list.html"


class StaffDetailView(DetailView):
    queryset = Staff.objects.with_powers().select_related("subject_group")


class StaffCreateView(PermissionRequiredMixin, ObjectSuccessMessageMixin, CreateView):
    model = Staff
    form_class = StaffCreationForm
    permission_required = "accounts.add_staff"
    success_message = "Staff member %(object)s created."

    def form_valid(self, form):
        try:
            with transaction.atomic():
                response = super().form_valid(form)
        except IntegrityError:
            # Someone added the same email between this form's check and its save.
            form.add_error("email", Staff._meta.get_field("email").error_messages["unique"])
            return self.form_invalid(form)
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
        return {**super().get_form_kwargs(), "editor": self.request.user, "request": self.request}


class StaffSetPasswordView(
    PermissionRequiredMixin, AccountRulesMixin, ObjectSuccessMessageMixin, UpdateView
):
    model = Staff
    form_class = StaffSetPasswordForm
    permission_required = "accounts.change_staff"
    template_name = "accounts/staff_set_password.html"
    success_message = "Password set for %(object)s."

    def dispatch(self, request, *args, **kwargs):
        # One's own password is changed by giving the current one, never set over it.
        if request.user.is_authenticated and kwargs["pk"] == request.user.pk:
            messages.info(request, "To change your own password, give your current one first.")
            return redirect("password_change")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = kwargs.pop("instance")
        return kwargs


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
            # A new unusable password: the links sent before stop working.
            staff.set_unusable_password()
            staff.save(update_fields=["password"])
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


class StaffExportView(PermissionRequiredMixin, CSVExportView):
    """The staff list as searched, filtered and sorted on its page, every page of it."""

    permission_required = "accounts.change_staff"
    queryset = Staff.objects.all()
    filter_form_class = StaffListFilterForm
    export_class = StaffExport
    file_name = "staff.csv"


class StaffImportView(PermissionRequiredMixin, FormView):
    """Upload a CSV file of staff, to preview before anything is written."""

    form_class = StaffImportForm
    permission_required = ["accounts.add_staff", "accounts.change_staff"]
    template_name = "accounts/staff_import.html"
    success_url = reverse_lazy("staff:import_preview")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

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
        try:
            with transaction.atomic():
                created, updated, unchanged = form.save()
        except IntegrityError:
            # Another import or form added some of the same staff or groups meanwhile.
            messages.error(
                self.request,
                "Someone else added some of these staff or subject groups while you confirmed, "
                "so nothing was imported. Check the preview again, then confirm.",
            )
            return redirect("staff:import_preview")
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


class AuditEventExportView(SuperuserRequiredMixin, CSVExportView):
    """The audit events as filtered on their page, every page of them."""

    queryset = AuditEvent.objects.all()
    filter_form_class = AuditEventFilterForm
    export_class = AuditExport
    file_name = "audit.csv"
