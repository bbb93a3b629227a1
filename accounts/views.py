from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.urls import reverse_lazy
from django.views.generic import (
    CreateView,
    DeleteView,
    DetailView,
    ListView,
    TemplateView,
    UpdateView,
)

from schoolstaff.views import ObjectSuccessMessageMixin

from .forms import EmailAuthenticationForm, StaffChangeForm, StaffCreationForm, StaffSetPasswordForm
from .models import Staff


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


class AccountRulesMixin:
    """Refuse, with the reason, what the account rules forbid beyond permissions."""

    def get_object(self, queryset=None):
        staff = super().get_object(queryset)
        if refusal := self.get_refusal(staff):
            raise PermissionDenied(refusal)
        return staff

    def get_refusal(self, staff):
        return staff.refusal_to_change_by(self.request.user)


class StaffListView(ListView):
    queryset = Staff.objects.select_related("subject_group")
    paginate_by = 25


class StaffDetailView(DetailView):
    queryset = Staff.objects.select_related("subject_group")


class StaffCreateView(PermissionRequiredMixin, ObjectSuccessMessageMixin, CreateView):
    model = Staff
    form_class = StaffCreationForm
    permission_required = "accounts.add_staff"
    success_message = "Staff member %(object)s created."


class StaffUpdateView(
    PermissionRequiredMixin, AccountRulesMixin, ObjectSuccessMessageMixin, UpdateView
):
    model = Staff
    form_class = StaffChangeForm
    permission_required = "accounts.change_staff"
    success_message = "Staff member %(object)s updated."


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
        return kwargs

    def form_valid(self, form):
        response = super().form_valid(form)
        # A new password ends the owner's sessions; keep this one if it is theirs.
        if self.object == self.request.user:
            update_session_auth_hash(self.request, self.object)
        return response


class StaffDeleteView(
    PermissionRequiredMixin, AccountRulesMixin, ObjectSuccessMessageMixin, DeleteView
):
    model = Staff
    permission_required = "accounts.delete_staff"
    success_url = reverse_lazy("staff:list")
    success_message = "Staff member %(object)s deleted."

    def get_refusal(self, staff):
        return staff.refusal_to_delete_by(self.request.user)
