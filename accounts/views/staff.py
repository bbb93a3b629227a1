"""The staff pages: the list, a member's page and history, and what managers do to accounts."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views.generic import (
    CreateView,
    DeleteView,
    DetailView,
    ListView,
    UpdateView,
    View,
)
from django.views.generic.detail import (
    BaseDetailView,
    SingleObjectMixin,
    SingleObjectTemplateResponseMixin,
)

from audit.models import AuditEvent
from lists.views import (
    CachedListMixin,
    FilteredListMixin,
    GroupedPaginator,
    KeysFirstPaginator,
    PagedObjectListMixin,
    url_for_pk,
)
from records.views import ObjectSuccessMessageMixin

from .. import emails
from ..forms.staff import (
    StaffChangeForm,
    StaffCreationForm,
    StaffListFilterForm,
    StaffSetPasswordForm,
)
from ..models import Staff
from .account import allow_email_request, too_many_requests


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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Each row's links, without reversing a URL for each.
        detail_url, update_url = url_for_pk("staff:detail"), url_for_pk("staff:update")
        for member in context["staff_list"]:
            member.detail_url, member.update_url = detail_url(member.pk), update_url(member.pk)
        return context

    def get_paginator(self, queryset, per_page, **kwargs):
        # A page's rows are fetched by their keys, without searching again.
        kwargs["rows"] = self.queryset
        # Counted from the tally, rather than by stepping through an index, unless searched.
        tally = self.filter_form.tally()
        count, sizes = (None, None) if tally is None else (tally.total, tally.by_group)
        sort = self.filter_form.cleaned_data["sort"]
        if sort.removeprefix("-") != "subject_group":
            kwargs["count"] = count
            kwargs["sorted_when_found"] = self.filter_form.sorted_when_found(queryset)
            kwargs["stretches"] = self.filter_form.stretches()
            return super().get_paginator(queryset, per_page, **kwargs)
        # By group, a group at a time: no index holds the groups' names.
        way = "-" if sort.startswith("-") else ""
        return GroupedPaginator(
            queryset,
            per_page,
            group_field="subject_group",
            groups=lambda: [pk for pk, _ in self.filter_form.groups],
            sizes=sizes,
            within=[f"{way}last_name", f"{way}first_name", f"{way}pk"],
            descending=bool(way),
            **kwargs,
        )


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


class StaffHistoryView(PermissionRequiredMixin, PagedObjectListMixin, ListView):
    """A staff member's record history and account events, newest first."""

    model = Staff
    permission_required = "accounts.view_staff"
    template_name = "accounts/staff_history.html"

    def get_queryset(self):
        return AuditEvent.objects.about(self.object).select_related("actor")
