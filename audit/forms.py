"""The audit trail's filters."""

from datetime import datetime, time, timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone

from lists.forms import ListFilterForm
from records.validators import FIRST_YEAR, LAST_YEAR

from .models import AuditEvent


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
        return self.clean_choice("kind", "", called="kind of event")

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
