from django import forms

from .factors import normalize_code, verify_code


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Code")
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        )

    def to_python(self, value):
        return normalize_code(super().to_python(value))


class SecondStepForm(forms.Form):
    """A code from the person's authenticator app, or one of their recovery codes."""

    error_messages = {
        "invalid_code": "That code is not valid. Codes from the app change every 30 seconds "
        "and each works once.",
    }

    otp_token = CodeField(
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery "
        "codes.",
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        self.device = None
        super().__init__(*args, **kwargs)

    def clean_otp_token(self):
        code = self.cleaned_data["otp_token"]
        self.device = verify_code(self.user, code)
        if self.device is None:
            raise forms.ValidationError(self.error_messages["invalid_code"], code="invalid_code")
        return code


class AppSetupForm(forms.Form):
    """The first code from a newly added authenticator app, which confirms it."""

    error_messages = {
        "invalid_code": "That code is not valid. Check that the app shows “School Staff” and "
        "that your phone's clock is right, then type the code it shows now.",
    }

    otp_token = CodeField(help_text="The 6-digit code the app shows for School Staff.")

    def __init__(self, device, *args, **kwargs):
        self.device = device
        super().__init__(*args, **kwargs)

    def clean_otp_token(self):
        code = self.cleaned_data["otp_token"]
        if not (code.isdigit() and len(code) == 6 and self.device.verify_token(code)):
            raise forms.ValidationError(self.error_messages["invalid_code"], code="invalid_code")
        return code


class ConfirmForm(forms.Form):
    """Nothing to type: the session has just passed a second factor."""


class PasskeyNameForm(forms.Form):
    credential = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    name = forms.CharField(max_length=64, required=False)

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())
