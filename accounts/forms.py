from django import forms
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AuthenticationForm,
    BaseUserCreationForm,
)

from .models import Staff


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
    class Meta:
        model = Staff
        fields = ["email", "first_name", "last_name", "subject_group"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject_group"].empty_label = "—"


class StaffCreationForm(BaseUserCreationForm, StaffChangeForm):
    class Meta(StaffChangeForm.Meta):
        pass


class StaffSetPasswordForm(AdminPasswordChangeForm):
    """The admin's form for setting someone's password, always setting one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("usable_password", None)
