"""No lost updates: a record's version, carried by its edit form and checked on saving.

Two people open the same edit form; the first saves. The second form still
holds the version it was opened on, and its save is refused, with the record's
current values, instead of silently replacing the first person's changes.
"""

from django import forms
from django.db import models


class VersionedModel(models.Model):
    """A record with a version, which each save of what its edit form shows advances
    (changes.models.TrackedRecord, the owner of every change)."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


class VersionCheckMixin:
    """For a ModelForm of a VersionedModel: refuse to save over a newer version.

    The check locks the record's row until the request's transaction ends (every
    request that writes runs in one), so no other save can slip in between the
    check and this form's own save.
    """

    conflict_message = (
        "Someone else changed this record after you opened this form, so your changes "
        "were not saved. Its current values are shown beside yours. Check them, then save "
        "again if you still want your values."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = None
        # The record's name as saved, for the page's heading: a form that is not valid
        # leaves what was typed in its instance.
        self.saved_label = str(self.instance) if self.instance.pk else ""
        if self.instance.pk:
            # Text, not a number: a missing or garbled version is answered like an
            # outdated one, with the current values, rather than with an error on a
            # field nobody can see.
            self.fields["version"] = forms.CharField(
                widget=forms.HiddenInput, required=False, initial=self.instance.version
            )

    def clean(self):
        cleaned_data = super().clean()
        if "version" in self.fields:
            model = type(self.instance)
            current = model._default_manager.select_for_update().get(pk=self.instance.pk)
            if cleaned_data.get("version") != str(current.version):
                self.current = current
                self.saved_label = str(current)
                # Saving the form again then means: my values, over these.
                self.data = self.data.copy()
                self.data[self.add_prefix("version")] = current.version
                raise forms.ValidationError(self.conflict_message, code="changed_meanwhile")
        return cleaned_data

    def conflicting_values(self):
        """(label, current value, your value) for each field of the record the form shows."""
        for name in self._meta.fields:
            field = self.fields[name]
            yield (
                field.label,
                display(getattr(self.current, name)),
                display(self.cleaned_data.get(name)),
            )


def display(value):
    return "—" if value in (None, "") else str(value)
