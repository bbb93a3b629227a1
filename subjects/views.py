from django.contrib.auth.mixins import PermissionRequiredMixin
from django.urls import reverse_lazy
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from lists.views import (
    CachedListMixin,
    FilteredListMixin,
    KeysFirstPaginator,
    PagedObjectListMixin,
)
from records.views import ObjectSuccessMessageMixin

from .forms import SubjectGroupChangeForm, SubjectGroupForm, SubjectGroupListFilterForm
from .models import SubjectGroup


class SubjectGroupListView(CachedListMixin, FilteredListMixin, ListView):
    queryset = SubjectGroup.objects.with_staff_count()
    filter_form_class = SubjectGroupListFilterForm
    template_name = "subjects/subjectgroup_list.html"
    content_template_name = "subjects/_subjectgroup_list.html"


class SubjectGroupDetailView(PagedObjectListMixin, ListView):
    """A group and a page of its members."""

    model = SubjectGroup
    template_name = "subjects/subjectgroup_detail.html"
    paginator_class = KeysFirstPaginator

    def get_queryset(self):
        return self.object.staff.order_by("last_name", "first_name", "pk")

    def get_paginator(self, queryset, per_page, **kwargs):
        # Counted from the staff tally's rows for the group, not member by member.
        kwargs["count"] = self.object.staff_tally.total
        return super().get_paginator(queryset, per_page, **kwargs)


class SubjectGroupCreateView(PermissionRequiredMixin, ObjectSuccessMessageMixin, CreateView):
    model = SubjectGroup
    form_class = SubjectGroupForm
    permission_required = "subjects.add_subjectgroup"
    success_message = "Subject group %(object)s created."


class SubjectGroupUpdateView(PermissionRequiredMixin, ObjectSuccessMessageMixin, UpdateView):
    model = SubjectGroup
    form_class = SubjectGroupChangeForm
    permission_required = "subjects.change_subjectgroup"
    success_message = "Subject group %(object)s updated."


class SubjectGroupDeleteView(PermissionRequiredMixin, ObjectSuccessMessageMixin, DeleteView):
    model = SubjectGroup
    permission_required = "subjects.delete_subjectgroup"
    success_url = reverse_lazy("subjects:list")
    success_message = "Subject group %(object)s deleted."
