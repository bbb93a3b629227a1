import secrets

from django import forms
from django.conf import settings
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AuthenticationForm,
    BaseUserCreationForm,
    PasswordChangeForm,
    SetPasswordForm,
)
from django.db.models import F
from django.template.defaultfilters import filesizeformat

from schoolstaff.forms import ListFilterForm
from subjects.models import SubjectGroup

from .models import AuditEvent, Staff
from .staff_import import StaffImport


class EmailAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        # Never say which of the two was wrong.
        "invalid_login": "Invalid email or password.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].widget.attrs["autocomplete"] = "email"


class StaffChangeForm(forms.ModelForm):
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

    def __init__(self, *args, editor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject_group"].empty_label = "—"
        self.editing_own_account = editor is not None and editor.pk == self.instance.pk
        if not self.editing_own_account:
            del self.fields["current_password"]

    def clean_current_password(self):
        password = self.cleaned_data["current_password"]
        email = Staff.objects.normalize_email(self.data.get(self.add_prefix("email")))
        if email != self.instance.email and not self.instance.check_password(password):
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
            "their first sign-in. " + self.fields["password1"].help_text
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
    """Set someone's password; they must replace it at their next sign-in."""

    def __init__(self, user, *args, editor=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields.pop("usable_password", None)
        self.editor = editor

    def save(self, commit=True):
        self.user.must_change_password = self.editor is None or self.editor.pk != self.user.pk
        return super().save(commit)


class OwnPasswordMixin:
    """The owner chose this password: nothing more to change."""

    # How the audit trail records the change.
    audit_kind = AuditEvent.Kind.PASSWORD_CHANGED

    def save(self, commit=True):
        self.user.must_change_password = False
        self.user.audit_password_kind = self.audit_kind
        return super().save(commit)


class OwnPasswordChangeForm(OwnPasswordMixin, PasswordChangeForm):
    pass


class OwnPasswordSetForm(OwnPasswordMixin, SetPasswordForm):
    """Choose a new password through a password-reset link."""

    audit_kind = AuditEvent.Kind.PASSWORD_RESET


class InvitationAcceptForm(OwnPasswordSetForm):
    """Choose a first password through an invitation link."""

    audit_kind = AuditEvent.Kind.INVITATION_ACCEPTED


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
        self.fields["group"].widget.choices = [
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


# Where an uploaded staff file waits between its preview and its confirmation.
PENDING_STAFF_IMPORT = "pending_staff_import"


class StaffImportForm(forms.Form):
    """Upload a CSV file of staff, which waits in the session to be previewed and confirmed."""

    file = forms.FileField(label="CSV file")
    create_groups = forms.BooleanField(
        label="Create subject groups that do not exist yet", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".csv,text/csv"
        self.fields["file"].help_text = (
            "The first line names the columns email, first_name, last_name and, if you like, "
            "subject_group; other columns are ignored. Saved as UTF-8 (“CSV UTF-8” in Excel), "
            f"with commas or semicolons, at most {filesizeformat(settings.STAFF_IMPORT_MAX_BYTES)}."
        )

    def clean_file(self):
        file = self.cleaned_data["file"]
        self.text = StaffImport.decode(file)
        # Refuses, here on the upload form, a file that holds no staff rows at all.
        StaffImport(self.text)
        return file

    def save(self, session):
        """Keep the file in the session until it is confirmed or replaced."""
        # The session is kept on the server, out of the uploader's reach, and
        # the size limit bounds it. No file is written anywhere.
        session[PENDING_STAFF_IMPORT] = {
            "text": self.text,
            "file_name": self.cleaned_data["file"].name,
            "create_groups": self.cleaned_data["create_groups"],
            # So that a preview left open in another tab cannot confirm a later upload.
            "token": secrets.token_urlsafe(),
        }


class StaffImportConfirmForm(forms.Form):
    """Confirm the import waiting in the session: check it once more, then write it."""

    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, session, editor, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session
        self.pending = session.get(PENDING_STAFF_IMPORT)
        self.staff_import = None
        if self.pending:
            self.initial["token"] = self.pending["token"]
            # Checked again against the records as they are now, not at the preview.
            self.staff_import = StaffImport(
                self.pending["text"], create_groups=self.pending["create_groups"], editor=editor
            )

    def clean_token(self):
        token = self.cleaned_data["token"]
        if not self.pending or token != self.pending["token"]:
            raise forms.ValidationError(
                "This preview is out of date: it was imported already, or another file was "
                "uploaded since. Nothing was imported.",
                code="stale",
            )
        return token

    def clean(self):
        if self.staff_import and self.staff_import.errors:
            raise forms.ValidationError(
                "The file has problems: nothing was imported.", code="invalid_rows"
            )
        return super().clean()

    def save(self):
        counts = self.staff_import.save()
        del self.session[PENDING_STAFF_IMPORT]
        return counts
