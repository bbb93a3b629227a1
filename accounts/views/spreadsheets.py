"""Staff to and from CSV files: the export, and the import's upload, preview and confirmation."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views.generic import (
    FormView,
)

from lists.views import (
    CSVExportView,
)

from ..forms.spreadsheets import StaffImportConfirmForm, StaffImportForm
from ..forms.staff import StaffListFilterForm
from ..models import Staff
from ..staff_export import StaffExport


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
