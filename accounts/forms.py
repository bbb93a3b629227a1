import secrets
from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AuthenticationForm,
    BaseUserCreationForm,
    PasswordChangeForm,
    SetPasswordForm,
)
from django.db.models import F, Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.functional import cached_property

from schoolstaff.forms import ListFilterForm
from schoolstaff.validators import FIRST_YEAR, LAST_YEAR
from schoolstaff.versioning import VersionCheckMixin
from subjects.models import SubjectGroup

from .lockout import check_own_password, clear_account_failures
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
    """Set someone else's password; they must replace it at their next sign-in."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields.pop("usable_password", None)

    def save(self, commit=True):
        self.user.must_change_password = True
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
    """Change one's own password, giving the current one as one would to sign in."""

    def __init__(self, user, *args, request, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        # A wrong one counts as a failed sign-in; while locked out, even the right one is refused.
        if not check_own_password(self.request, self.user, old_password):
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class OwnPasswordSetForm(OwnPasswordMixin, SetPasswordForm):
    """Choose a new password through a password-reset link."""

    audit_kind = AuditEvent.Kind.PASSWORD_RESET

    def save(self, commit=True):
        user = super().save(commit)
        if commit:
            # Only the owner holds the emailed link: failures from everywhere stop counting,
            # which unlocks an account they locked.
            clear_account_failures(user.email)
        return user


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


# Where an uploaded staff file waits between its preview and its confirmation.
PENDING_STAFF_IMPORT = "pending_staff_import"


class StaffImportForm(forms.Form):
    """Upload a CSV file of staff, which waits in the session to be previewed and confirmed."""

    file = forms.FileField(label="CSV file")
    create_groups = forms.BooleanField(
        label="Create subject groups that do not exist yet", required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not user.has_perm("subjects.add_subjectgroup"):
            del self.fields["create_groups"]
        self.fields["file"].widget.attrs["accept"] = ".csv,text/csv"
        self.fields["file"].help_text = (
            "The first line names the columns email, first_name, last_name and, if you like, "
            "subject_group; other columns are ignored. Saved as UTF-8 (“CSV UTF-8” in Excel), "
            f"with commas or semicolons, at most {filesizeformat(settings.STAFF_IMPORT_MAX_BYTES)}."
        )

    def clean_file(self):
        file = self.cleaned_data["file"]
        # Read once, here: refuses on the upload form a file that holds no staff rows.
        self.rows = StaffImport.from_file(file).rows
        return file

    def save(self, session):
        """Keep the file's rows in the session until they are confirmed or replaced."""
        # The session is kept on the server, out of the uploader's reach, and
        # the size limit bounds it. No file is written anywhere.
        session[PENDING_STAFF_IMPORT] = {
            "rows": self.rows,
            "file_name": self.cleaned_data["file"].name,
            "create_groups": self.cleaned_data.get("create_groups", False),
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
                rows=self.pending["rows"],
                # Asked again: the permission may have been taken away since the upload.
                create_groups=self.pending["create_groups"]
                and editor.has_perm("subjects.add_subjectgroup"),
                editor=editor,
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


class AuditEventFilterForm(ListFilterForm):
    """Filter the audit trail: `?q=ada&actor=mary&kind=changed&since=2025-01-01&until=…`."""

    sort_orders = {"created_at": ["created_at"]}
    default_sort = "-created_at"
    # The person: the record's name and email as recorded, or the email typed at sign-in.
    search_fields = ("target_label", "email_typed")

    actor = forms.CharField(
        required=False,
        label="By (name, email or command)",
        widget=forms.TextInput(attrs={"type": "search", "class": "form-control"}),
    )
    kind = forms.CharField(
        required=False,
        label="What",
        widget=forms.Select(
            choices=[("", "Everything"), *AuditEvent.Kind.choices], attrs={"class": "form-select"}
        ),
    )
    since = forms.CharField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    until = forms.CharField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )

    def clean_actor(self):
        return " ".join(self.cleaned_data["actor"].split())[:100]

    def clean_kind(self):
        return self.clean_choice("kind", "")

    def clean_since(self):
        return self.clean_date("since")

    def clean_until(self):
        return self.clean_date("until")

    def clean_date(self, name):
        """A day as YYYY-MM-DD, or None (with a notice) when it is no such day."""
        value = self.cleaned_data[name]
        try:
            day = forms.DateField().clean(value) if value else None
        except forms.ValidationError:
            self.notices.append(f"Ignored the date “{value[:20]}”: it is not a day.")
            return None
        # Nothing was recorded before then, and a day past 9999 has no end to search to.
        if day and not FIRST_YEAR <= day.year <= LAST_YEAR:
            self.notices.append(
                f"Ignored the date “{value[:20]}”: choose a day between {FIRST_YEAR} "
                f"and {LAST_YEAR}."
            )
            return None
        return day

    def filter(self, queryset):
        self.is_valid()
        data = self.cleaned_data
        for word in data["actor"].split():
            queryset = queryset.filter(
                Q(actor_label__icontains=word)
                | Q(actor__first_name__icontains=word)
                | Q(actor__last_name__icontains=word)
            )
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        # Whole days in the site's time zone, as a range that the index on created_at serves.
        if data["since"]:
            queryset = queryset.filter(created_at__gte=start_of_day(data["since"]))
        if data["until"]:
            queryset = queryset.filter(created_at__lt=start_of_day(data["until"] + timedelta(1)))
        return super().filter(queryset)


def start_of_day(day):
    return timezone.make_aware(datetime.combine(day, time.min))
