from django import forms

from lists.forms import ListFilterForm
from records.versioning import VersionCheckMixin

from .models import SubjectGroup, name_key


class SubjectGroupForm(forms.ModelForm):
    class Meta:
        model = SubjectGroup
        fields = ["name"]

    def clean_name(self):
        # The database refuses the duplicate too; checking here puts the
        # message next to the field.
        name = self.cleaned_data["name"]
        others = SubjectGroup.objects.exclude(pk=self.instance.pk)
        if others.filter(name_key=name_key(name)).exists():
            raise forms.ValidationError(
                "A subject group with this name already exists.", code="duplicate_name"
            )
        return name


class SubjectGroupChangeForm(VersionCheckMixin, SubjectGroupForm):
    """Rename a group on the site, never over someone else's newer change."""


class SubjectGroupListFilterForm(ListFilterForm):
    """Search and sort the subject groups: `?q=math&sort=-staff_count`."""

    sort_orders = {"name": ["name"], "staff_count": ["staff_count", "name"]}
    default_sort = "name"
    search_fields = ("name",)
