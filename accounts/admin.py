from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from audit.admin import AuditHistoryMixin
from records.admin import CheckedChoicesAdminMixin

from . import emails
from .forms.staff import StaffCreationForm, StaffSetPasswordForm
from .models import Staff


class StaffAdminChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = Staff
        field_classes = {}


@admin.register(Staff)
class StaffAdmin(CheckedChoicesAdminMixin, AuditHistoryMixin, UserAdmin):
    form = StaffAdminChangeForm
    add_form = StaffCreationForm
    change_password_form = StaffSetPasswordForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "subject_group")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "first_name",
                    "last_name",
                    "subject_group",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    # Few and narrow enough to fit beside the admin's sidebars at 1280 px.
    list_display = ("name", "email", "subject_group", "is_active", "is_admin")
    list_filter = ("subject_group", "is_active", "is_staff", "groups")
    list_select_related = ("subject_group",)
    search_fields = ("email", "first_name", "last_name")
    ordering = ("last_name", "first_name")

    # Whoever may grant these holds every power: only superusers see them.
    superuser_only_fields = ("is_staff", "is_superuser", "groups", "user_permissions")

    @admin.display(description="Name", ordering="last_name")
    def name(self, staff):
        return f"{staff.last_name}, {staff.first_name}"

    @admin.display(description="Admin", boolean=True, ordering="is_staff")
    def is_admin(self, staff):
        return staff.is_staff

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": self._without_superuser_only(options["fields"])})
            for name, options in fieldsets
        ]

    def _without_superuser_only(self, fields):
        return [field for field in fields if field not in self.superuser_only_fields]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # Changing one's own sign-in email takes one's password: the site asks for it.
        if obj is not None and obj.pk == request.user.pk:
            return (*readonly, "email")
        return readonly

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.is_invited:
            emails.send_invitation(obj, request)
        # The owner hears at their old address that they sign in with another now.
        old_email = form.initial.get("email")
        if change and old_email and obj.email != old_email:
            emails.send_account_email("email_changed", old_email, staff=obj, old_email=old_email)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and not (obj and obj.refusal_to_change_by(request.user))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and not (obj and obj.refusal_to_delete_by(request.user))

    # Django answers a bare 403 on these pages; say why instead.
    def delete_view(self, request, object_id, extra_context=None):
        self._refuse_if(request, object_id, Staff.refusal_to_delete_by)
        return super().delete_view(request, object_id, extra_context)

    def user_change_password(self, request, id, form_url=""):
        # One's own password is changed by giving the current one, never set over it.
        if unquote(id) == str(request.user.pk):
            return redirect("admin:password_change")
        self._refuse_if(request, id, Staff.refusal_to_change_by)
        return super().user_change_password(request, id, form_url)

    def _refuse_if(self, request, object_id, refusal_to):
        staff = self.get_object(request, unquote(object_id))
        if staff is not None and (refusal := refusal_to(staff, request.user)):
            raise PermissionDenied(refusal)


admin.site.unregister(Group)


@admin.register(Group)
class PermissionGroupAdmin(CheckedChoicesAdminMixin, AuditHistoryMixin, GroupAdmin):
    """Groups hand out permissions: only superusers change them, whatever else one holds."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
