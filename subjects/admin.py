from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from audit.admin import AuditHistoryMixin

from .forms import SubjectGroupForm
from .models import SubjectGroup


@admin.register(SubjectGroup)
class SubjectGroupAdmin(AuditHistoryMixin, admin.ModelAdmin):
    form = SubjectGroupForm
    list_display = ("name", "staff_count")
    search_fields = ("name",)
    readonly_fields = ("members",)

    # A group can have thousands of members: show the first few and link to the rest.
    members_shown = 20

    def get_queryset(self, request):
        return super().get_queryset(request).with_staff_count()

    @admin.display(description="active staff", ordering="staff_count")
    def staff_count(self, group):
        return group.staff_count

    @admin.display(description="members")
    def members(self, group):
        if group.pk is None:
            return "—"
        total = group.staff.count()
        if not total:
            return "No members."
        names = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:accounts_staff_change", args=[staff.pk]), staff)
                for staff in group.staff.all()[: self.members_shown]
            ),
        )
        changelist = reverse("admin:accounts_staff_changelist")
        return format_html(
            '{}<br><a href="{}?subject_group__id__exact={}">All {} members</a>',
            names,
            changelist,
            group.pk,
            total,
        )
