"""Forms for importing staff from a CSV file: the upload, and its confirmation."""

import secrets

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from subjects.models import SubjectGroup

from ..staff_import import StaffImport

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
        if self.pending is not None and "rows" not in self.pending:
            # Left by an earlier version of the site, which kept the file's text: upload again.
            del session[PENDING_STAFF_IMPORT]
            self.pending = None
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

    # The preview names this many of the staff to create and to update; the rest are counted.
    preview_size = 50

    def preview(self):
        """The first staff to create, and what changes for the first staff to update.

        As read already for the counts, with one more query for the groups' names:
        as cheap for 10,000 rows as for ten.
        """
        staff_import = self.staff_import
        staff_import.errors  # noqa: B018 (checks the rows once, which sorts them out)
        groups = SubjectGroup.objects.values_list("pk", "name_key", "name")
        names = {key: name for _, key, name in groups} | staff_import.new_groups
        ids = {pk: name for pk, _, name in groups}

        def group_name(key):
            return "—" if not key else names.get(key, key)

        created = [
            {"email": email, "name": f"{first} {last}", "group": group_name(group)}
            for email, first, last, group in staff_import.new_rows[: self.preview_size]
        ]
        changed = []
        for staff, group in staff_import.changed_staff[: self.preview_size]:
            old = staff.audit_snapshot
            changes = []
            old_name = f"{old.get('first_name', '')} {old.get('last_name', '')}"
            new_name = f"{staff.first_name} {staff.last_name}"
            if old_name != new_name:
                changes.append(("Name", old_name, new_name))
            old_group = ids.get(old.get("subject_group_id"), "—")
            if group is not None and old_group != group_name(group):
                changes.append(("Subject group", old_group, group_name(group)))
            changed.append({"email": staff.email, "changes": changes})
        return {
            "created": created,
            "created_more": len(staff_import.new_rows) - len(created),
            "changed": changed,
            "changed_more": len(staff_import.changed_staff) - len(changed),
        }

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
