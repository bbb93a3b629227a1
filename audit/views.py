"""The audit trail's pages: every event, filtered, and its CSV export, for superusers."""

from django.contrib.auth.mixins import UserPassesTestMixin
from django.views.generic import ListView

from lists.views import CSVExportView, FilteredListMixin

from .exports import AuditExport
from .forms import AuditEventFilterForm
from .models import AuditEvent


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
