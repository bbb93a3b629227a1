"""Forms for signing in and for one's own password."""

from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    SetPasswordForm,
)

from audit.models import AuditEvent

from .. import emails
from ..lockout import check_own_password, clear_account_failures


class EmailAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        # Never say which of the two was wrong.
        "invalid_login": "Invalid email or password.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # An email keyboard on phones.
        self.fields["username"].widget.input_type = "email"
        self.fields["username"].widget.attrs["autocomplete"] = "email"


class OwnPasswordMixin:
    """The owner chose this password: nothing more to change; they hear of it by email."""

    # How the audit trail records the change.
    audit_kind = AuditEvent.Kind.PASSWORD_CHANGED
    # Whether the owner is told: not of a first password, which replaces none of theirs.
    email_the_owner = True

    def save(self, commit=True):
        user = super().save(commit=False)
        user.must_change_password = False
        if commit:
            user.save(audit_kind=self.audit_kind)
            if self.email_the_owner:
                emails.send_account_email("password_changed", user.email, staff=user)
        return user


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

    email_the_owner = False

    audit_kind = AuditEvent.Kind.INVITATION_ACCEPTED
