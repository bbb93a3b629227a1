from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.paginator import Paginator

from .models import AuditEvent


class AuditHistoryMixin:
    """An object's History page shows its audit trail, newest first, 25 a page."""

    object_history_template = "admin/audit_history.html"

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            events = AuditEvent.objects.about(obj).select_related("actor")
            page = Paginator(events, 25).get_page(request.GET.get("p"))
            extra_context = {**(extra_context or {}), "audit_page": page}
        # Django checks the permissions and answers for an object that does not exist.
        return super().history_view(request, object_id, extra_context)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, for superusers to read: nobody adds, changes or deletes an event."""

    list_display = ("created_at", "kind", "actor_label", "target_label", "ip", "description")
    list_filter = ("kind", "created_at")
    list_select_related = ("actor",)
    search_fields = ("actor_label", "target_label", "email_typed")
    date_hierarchy = "created_at"

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
