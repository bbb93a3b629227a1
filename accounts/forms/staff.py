"""Forms for the staff pages: editing, adding, setting a password, and the list's filters."""

from django import forms
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    BaseUserCreationForm,
)
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.db.models import F
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe

from lists.forms import ListFilterForm
from records.versioning import VersionCheckMixin
from subjects.models import SubjectGroup

from ..lockout import check_own_password
from ..models import Staff


def password_rules_help_text():
    """The password rules, as told to someone who sets another person's password."""
    rules = password_validators_help_text_html()
    return mark_safe(rules.replace("Your password", "The password").replace(" your ", " their "))


class StaffChangeForm(VersionCheckMixin, forms.ModelForm):
    """Edit a staff member; changing one's own email takes one's password."""

    current_password = forms.CharField(
        label="Your current password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Needed only to change your own email address.",
    )

    class Meta:
        model = Staff
        fields = ["email", "first_name", "last_name", "subject_group"]

    def __init__(self, *args, editor=None, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject_group"].empty_label = "—"
        self.editing_own_account = editor is not None and editor.pk == self.instance.pk
        if not self.editing_own_account:
            del self.fields["current_password"]
        # One's own password is checked as the login page checks it, lockouts and all.
        self.request = request

    def clean_current_password(self):
        password = self.cleaned_data["current_password"]
        email = Staff.objects.normalize_email(self.data.get(self.add_prefix("email")))
        # A blank password is no guess: only one typed is checked, and counted if wrong.
        if email != self.instance.email and not (
            password and check_own_password(self.request, self.instance, password)
        ):
            raise forms.ValidationError(
                "Enter your current password to change your own email address.",
                code="password_needed",
            )
        return password


class StaffCreationForm(BaseUserCreationForm, StaffChangeForm):
    """Add a staff member, who is invited by email unless a password is typed."""

    class Meta(StaffChangeForm.Meta):
        pass

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("password1", "password2"):
            self.fields[name].required = False
        self.fields["password1"].help_text = (
            "Leave both password fields blank to email an invitation, so that only the new "
            "member ever knows their password. A password typed here must be changed at "
            "their first sign-in. " + password_rules_help_text()
        )

    def clean(self):
        if bool(self.data.get("password1")) != bool(self.data.get("password2")):
            self.add_error("password2", "Type the password twice, or leave both blank.")
        return super().clean()

    def save(self, commit=True):
        staff = forms.ModelForm.save(self, commit=False)
        if self.cleaned_data.get("password1"):
            staff.set_password(self.cleaned_data["password1"])
            staff.must_change_password = True
        else:
            staff.set_unusable_password()
        if commit:
            staff.save()
            self.save_m2m()
        return staff


class StaffSetPasswordForm(AdminPasswordChangeForm):
    """Set someone else's password; they must replace it at their next sign-in."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields.pop("usable_password", None)
        self.fields["password1"].help_text = password_rules_help_text()

    def save(self, commit=True):
        self.user.must_change_password = True
        return super().save(commit)


class StaffListFilterForm(ListFilterForm):
    """Search, filter and sort the staff list: `?q=ada+love&group=3&status=all&sort=-email`."""

    STATUSES = {"active": {"is_active": True}, "inactive": {"is_active": False}, "all": {}}

    sort_orders = {
        "first_name": ["first_name", "last_name"],
        "last_name": ["last_name", "first_name"],
        "email": ["email"],
        # Staff without a group last, on every database.
        "subject_group": [
            F("subject_group__name").asc(nulls_last=True),
            "last_name",
            "first_name",
        ],
    }
    default_sort = "last_name"
    search_fields = ("first_name", "last_name", "email")

    group = forms.CharField(
        required=False, label="Subject group", widget=forms.Select(attrs={"class": "form-select"})
    )
    status = forms.CharField(
        required=False,
        label="Status",
        widget=forms.Select(
            choices=[("active", "Active"), ("inactive", "Inactive"), ("all", "All")],
            attrs={"class": "form-select"},
        ),
    )

    def __init__(self, data):
        super().__init__(data)
        # Looked up only when needed: a list kept in the cache needs no groups.
        self.fields["group"].widget.choices = lambda: self.group_choices

    @cached_property
    def group_choices(self):
        return [
            ("", "All subject groups"),
            ("none", "No subject group"),
            *SubjectGroup.objects.values_list("pk", "name"),
        ]

    def clean_group(self):
        return self.clean_choice("group", "")

    def clean_status(self):
        return self.clean_choice("status", "active")

    def filter(self, queryset):
        self.is_valid()
        group = self.cleaned_data["group"]
        if group == "none":
            queryset = queryset.filter(subject_group__isnull=True)
        elif group:
            queryset = queryset.filter(subject_group_id=group)
        return super().filter(queryset.filter(**self.STATUSES[self.cleaned_data["status"]]))
