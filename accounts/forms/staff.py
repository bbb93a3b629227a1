"""Forms for the staff pages: editing, adding, setting a password, and the list's filters."""

from django import forms
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    BaseUserCreationForm,
)
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.db import connections
from django.db.models import F, Func, Q, TextField
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from lists.forms import ListFilterForm
from records.versioning import VersionCheckMixin
from subjects.models import SubjectGroup

from .. import emails
from ..lockout import check_own_password
from ..models import INVITED, STRETCHED_FIELDS, Staff, StaffStretch, StaffTally


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

    def save(self, commit=True):
        staff = super().save(commit)
        # The owner hears at their old address that they sign in with another now.
        old_email = self.initial.get("email")
        if commit and old_email and staff.email != old_email:
            emails.send_account_email("email_changed", old_email, staff=staff, old_email=old_email)
        return staff

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
        user = super().save(commit=False)
        user.must_change_password = True
        if commit:
            user.save()
            emails.send_account_email("password_changed", user.email, staff=user)
        return user


# Rows found by a search, beyond which SQLite reads names from an index instead.
COMMON = 5000
# Rows found, beyond which PostgreSQL reads a search's page from the sort's index
# rather than sorting the rows found. Finding and sorting cost about 4 µs a row
# (heap pages, mostly); walking the index costs the rows it passes, most of the
# index for a surname late in the alphabet sorted by last name. 20,000 is 2 to 4
# times a common surname's rows at 500,000 staff.
COMMON_ON_POSTGRESQL = 20000


class StaffListFilterForm(ListFilterForm):
    """Search, filter and sort the staff list: `?q=ada+love&group=3&status=all&sort=-email`."""

    STATUSES = {
        "active": Q(is_active=True),
        "invited": INVITED,
        "inactive": Q(is_active=False),
        "all": Q(),
    }

    # Each status as the tally counts it (StaffTally), to count a list without searching it.
    TALLIED_STATUSES = {
        "active": Q(is_active=True),
        "invited": Q(is_active=True, is_invited=True),
        "inactive": Q(is_active=False),
        "all": Q(),
    }

    # Each status that the stretches count (StaffStretch): they know who is active, not
    # who is invited.
    STRETCHED_STATUSES = {
        status: q for status, q in TALLIED_STATUSES.items() if status != "invited"
    }

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
            choices=[
                ("active", "Active"),
                ("invited", "Invited"),
                ("inactive", "Inactive"),
                ("all", "All"),
            ],
            attrs={"class": "form-select"},
        ),
    )

    def __init__(self, data):
        super().__init__(data)
        # Looked up only when needed: a list kept in the cache needs no groups.
        self.fields["group"].widget.choices = lambda: self.group_choices

    @cached_property
    def groups(self):
        """(pk, name) of every subject group, by name, as the list sorts them."""
        return list(SubjectGroup.objects.order_by("name", "pk").values_list("pk", "name"))

    @cached_property
    def group_choices(self):
        return [("", "All subject groups"), ("none", "No subject group"), *self.groups]

    def group_options(self):
        """The group select's options, the chosen one selected: a loop in the template is slower."""
        chosen = self.cleaned_data["group"]
        return format_html_join(
            "\n",
            '<option value="{}"{}>{}</option>',
            (
                (value, " selected" if str(value) == chosen else "", label)
                for value, label in self.group_choices
            ),
        )

    def clean_group(self):
        return self.clean_choice("group", "")

    def tally(self):
        """The tally's rows that count the staff listed, or None when a search chooses them."""
        self.is_valid()
        if self.cleaned_data["q"]:
            return None
        tally = StaffTally.objects.filter(self.TALLIED_STATUSES[self.cleaned_data["status"]])
        return self.filter_group(tally)

    def stretches(self):
        """A callable giving the stretches of the staff listed (StaffStretch), or None.

        None when they do not divide the list: a search, a group (a short list of
        its own), the invited, or a sort by subject group.
        """
        self.is_valid()
        data = self.cleaned_data
        field = data["sort"].removeprefix("-")
        status = self.STRETCHED_STATUSES.get(data["status"])
        if data["q"] or data["group"] or field not in STRETCHED_FIELDS or status is None:
            return None
        return lambda: (field, StaffStretch.objects.filter(status).sizes(field))

    def clean_status(self):
        return self.clean_choice("status", "active")

    # A word is in one of the fields when it is in all three joined by spaces, as
    # no word has a space. PostgreSQL finds it in one trigram index of this.
    search_text = Func(
        "first_name",
        "last_name",
        "email",
        template="(%(expressions)s)",
        arg_joiner=" || ' ' || ",
        output_field=TextField(),
    )

    def search(self, queryset, words):
        """Each word in first name, last name or email, ignoring case, through an index.

        The indexes are made by accounts/migrations/0011_staff_search.py. On
        SQLite, a full-text index of trigrams finds words of three characters or
        more: each quoted word must be within one column, as with icontains.
        Shorter words have no trigram; icontains checks them among the rows found.
        On PostgreSQL, icontains on the joined text reads its trigram index, and
        `sorted_when_found` keeps the planner from walking a name index instead.
        """
        connection = connections[queryset.db]
        if connection.vendor == "postgresql":
            queryset = queryset.alias(search_text=self.search_text)
            for word in words:
                queryset = queryset.filter(search_text__icontains=word)
            return queryset
        indexed = [word for word in words if len(word) >= 3]
        if connection.vendor == "sqlite" and indexed:
            match = " ".join('"' + word.replace('"', '""') + '"' for word in indexed)
            found = "SELECT rowid FROM staff_search WHERE staff_search MATCH %s"
            # Words in most rows ("example", in every email) are found sooner by
            # reading the names from an index than by looking up each row found.
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM ({found} LIMIT %s)", [match, COMMON + 1])
                (count,) = cursor.fetchone()
            if count <= COMMON:
                queryset = queryset.filter(pk__in=RawSQL(found, [match]))
                words = [word for word in words if len(word) < 3]
        return super().search(queryset, words)

    def sorted_when_found(self, queryset):
        """How many rows `queryset` may have and still be sorted once found, or None.

        On PostgreSQL, a search of few rows (a word of 3 characters or more, for
        the trigram index) is found through that index, counted and sorted, in
        one query (`KeysFirstPaginator.count_and_sort`). The planner expects the
        rows a search finds to lie all along the sort's index, and would rather
        walk it filtering each row: for a surname late in the alphabet that reads
        most of the index. A search of more rows is read in order from that index.
        """
        words = self.cleaned_data["q"].split()
        if connections[queryset.db].vendor == "postgresql" and any(len(w) >= 3 for w in words):
            return COMMON_ON_POSTGRESQL
        return None

    def filter(self, queryset):
        self.is_valid()
        queryset = self.filter_group(queryset.filter(self.STATUSES[self.cleaned_data["status"]]))
        return super().filter(queryset)

    def filter_group(self, queryset):
        """The staff, or their tally, of the group chosen."""
        group = self.cleaned_data["group"]
        if group == "none":
            return queryset.filter(subject_group__isnull=True)
        if group:
            return queryset.filter(subject_group_id=group)
        return queryset
