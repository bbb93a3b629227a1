from functools import reduce
from operator import or_

from django import forms
from django.db.models import Q


class ListFilterForm(forms.Form):
    """A list page's search box and sort order, read from the query string.

    Nothing here is ever invalid: a value that makes no sense falls back to the
    default, and `notices` says so.
    """

    # Sort key (as in `?sort=key` or `?sort=-key`) to the fields (or
    # expressions) it orders by.
    sort_orders = {}
    default_sort = ""
    # A row matches when each word of the search is in one of these fields.
    search_fields = ()

    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "class": "form-control"}),
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data):
        # Every field is text that falls back when it makes no sense; only a NUL
        # character, which no database stores, would make one invalid.
        super().__init__({key: value.replace("\x00", "") for key, value in data.items()})
        self.notices = []

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())[:100]

    def clean_sort(self):
        sort = self.cleaned_data["sort"]
        if sort.removeprefix("-") in self.sort_orders:
            return sort
        if sort:
            self.notices.append(f"Cannot sort by “{sort}”: sorted the usual way instead.")
        return self.default_sort

    def clean_choice(self, name, fallback, called=None):
        """The value of a select, or `fallback` when it is not one of its choices.

        `called` names the filter in the notice, where its label would not read well.
        """
        value = self.cleaned_data[name]
        if not value:
            return fallback
        if value in {str(key) for key, _ in self.fields[name].widget.choices}:
            return value
        called = called or self.fields[name].label.lower()
        self.notices.append(f"Ignored the unknown {called} “{value[:20]}”.")
        return fallback

    def filter(self, queryset):
        self.is_valid()
        queryset = self.search(queryset, self.cleaned_data["q"].split())
        return queryset.order_by(*self.ordering())

    def search(self, queryset, words):
        """The rows with each word in one of `search_fields`, ignoring case."""
        for word in words:
            queryset = queryset.filter(
                reduce(or_, (Q(**{f"{field}__icontains": word}) for field in self.search_fields))
            )
        return queryset

    def ordering(self):
        sort = self.cleaned_data["sort"]
        # The primary key last, so that pages never overlap however many rows tie.
        fields = [*self.sort_orders[sort.removeprefix("-")], "pk"]
        if not sort.startswith("-"):
            return fields
        return [
            f"-{field}" if isinstance(field, str) else field.copy().reverse_ordering()
            for field in fields
        ]
