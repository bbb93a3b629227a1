import json
import time
from base64 import b32encode

import django_otp
import segno
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.generic import FormView, TemplateView, View
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn import views as passkey_views
from django_otp_webauthn.models import WebAuthnCredential

from . import factors, policy
from .forms import AppSetupForm, ConfirmForm, PasskeyNameForm, SecondStepForm

# New recovery codes wait here between being made and being shown (and downloaded).
NEW_RECOVERY_CODES = "two_factor_new_recovery_codes"
# When the session last passed a second factor: removing a passkey asks for a recent one.
VERIFIED_AT = "two_factor_verified_at"
FRESH_SECONDS = 5 * 60


def next_url(request):
    """Where to go after the second step: the `next` asked for, if it is on this site."""
    url = request.POST.get("next") or request.GET.get("next")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url("home")


def verify_session(request, device):
    """Mark this session as having passed `device`, under a new session key."""
    django_otp.login(request, device)
    request.session.cycle_key()
    policy.second_step_passed(request)
    request.session[VERIFIED_AT] = time.time()


def verified_recently(request):
    return time.time() - request.session.get(VERIFIED_AT, 0) < FRESH_SECONDS


def second_step_pending(request):
    """Whether the page is shown between the password and the second factor (no menus)."""
    return bool(request.session.get(policy.STEP_DUE_SINCE))


class CodeCheckMixin:
    """A form that asks for a code: wrong codes count towards the sign-in lockout."""

    form_class = SecondStepForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def dispatch(self, request, *args, **kwargs):
        if (
            request.method == "POST"
            and request.user.is_authenticated
            and factors.second_step_locked(request, request.user)
        ):
            return self.locked_out()
        return super().dispatch(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error("otp_token", "invalid_code") and factors.count_failure(
            self.request, self.request.user
        ):
            return self.locked_out()
        return super().form_invalid(form)

    def locked_out(self):
        """End the session; AxesMiddleware answers with the lockout page (429)."""
        request = self.request
        request.axes_locked_out = True
        request.axes_credentials = factors.lockout_credentials(request.user)
        logout(request)
        return redirect("login")


class SecondStepView(CodeCheckMixin, FormView):
    """After the password: a code from the authenticator app, or a recovery code."""

    template_name = "two_factor/verify.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_verified():
            return HttpResponseRedirect(next_url(request))
        if not factors.has_factor(request.user):
            return redirect("two_factor:setup_app")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "next": next_url(self.request),
            "second_step": second_step_pending(self.request),
            "has_passkey": factors.passkeys_of(self.request.user).exists(),
        }

    def form_valid(self, form):
        verify_session(self.request, form.device)
        if isinstance(form.device, StaticDevice):
            left = factors.recovery_code_used(self.request.user, self.request)
            messages.warning(
                self.request,
                f"You signed in with a recovery code. You have {left} left: "
                "make new ones from your security page before they run out.",
            )
        return HttpResponseRedirect(next_url(self.request))


class AppSetupView(FormView):
    """Add an authenticator app: scan the QR code (or type the key), then type a code."""

    template_name = "two_factor/setup_app.html"
    form_class = AppSetupForm

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if factors.app_of(user) is not None:
            messages.info(request, "You have an authenticator app already: remove it first.")
            return redirect("two_factor:security")
        if factors.has_factor(user) and not user.is_verified():
            return redirect("two_factor:verify")
        # The same key until it is confirmed, so that reloading the page changes nothing.
        self.device = TOTPDevice.objects.filter(user=user, confirmed=False).last()
        if self.device is None:
            self.device = TOTPDevice.objects.create(
                user=user, name=factors.APP_NAME, confirmed=False
            )
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "device": self.device}

    def get_context_data(self, **kwargs):
        key = b32encode(self.device.bin_key).decode()
        qr_code = segno.make_qr(self.device.config_url, error="m")
        return {
            **super().get_context_data(**kwargs),
            # segno's SVG has neither script nor style attribute: the CSP allows it inline.
            "qr_svg": mark_safe(qr_code.svg_inline(scale=4, light="#fff", omitsize=False)),
            "key": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
            "required": policy.required_for(self.request.user),
            "second_step": second_step_pending(self.request),
        }

    def form_valid(self, form):
        request = self.request
        factors.confirm_app(self.device, request)
        TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
        verify_session(request, self.device)
        request.session[NEW_RECOVERY_CODES] = factors.generate_recovery_codes(request.user, request)
        messages.success(request, "Your authenticator app is set up.")
        return redirect("two_factor:recovery_codes")


class VerifiedRequiredMixin:
    """For changes to one's factors: only in a session that has passed one."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_verified():
            raise PermissionDenied("Sign in with your second factor first.")
        return super().dispatch(request, *args, **kwargs)


class RecoveryCodesView(VerifiedRequiredMixin, TemplateView):
    """New recovery codes, shown once (POST makes them, replacing the old ones)."""

    template_name = "two_factor/recovery_codes.html"

    def get(self, request, *args, **kwargs):
        if NEW_RECOVERY_CODES not in request.session:
            return redirect("two_factor:security")
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        request.session[NEW_RECOVERY_CODES] = factors.generate_recovery_codes(request.user, request)
        messages.success(request, "New recovery codes made: the old ones no longer work.")
        return redirect("two_factor:recovery_codes")

    def get_context_data(self, **kwargs):
        codes = self.request.session[NEW_RECOVERY_CODES]
        return {**super().get_context_data(**kwargs), "codes": codes}


class RecoveryCodesDownloadView(VerifiedRequiredMixin, View):
    """The new recovery codes as a text file, while their page is open."""

    def get(self, request, *args, **kwargs):
        codes = request.session.get(NEW_RECOVERY_CODES)
        if not codes:
            raise Http404("No new recovery codes to download.")
        text = (
            f"Recovery codes for {request.user.email} at School Staff ({request.get_host()}).\n"
            "Each works once, in place of a code from your authenticator app.\n\n"
            + "\n".join(codes)
            + "\n"
        )
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="schoolstaff-recovery-codes.txt"'
        return response


class SecurityView(TemplateView):
    """One's second factors, and how to add and remove them."""

    template_name = "two_factor/security.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        # Shown once: leaving their page for this one forgets them.
        self.request.session.pop(NEW_RECOVERY_CODES, None)
        app = factors.app_of(user)
        passkeys = list(factors.passkeys_of(user))
        # Nobody the policy covers removes their last factor.
        can_remove = not policy.required_for(user) or (app is not None) + len(passkeys) > 1
        return {
            **super().get_context_data(**kwargs),
            "app": app,
            "passkeys": passkeys,
            "recovery_codes_left": factors.recovery_codes_left(user),
            "required": policy.required_for(user),
            "can_remove": can_remove,
            "can_add_passkey": user.is_verified() or not factors.has_factor(user),
        }


class AppRemoveView(CodeCheckMixin, FormView):
    """Remove the authenticator app, after a fresh code: not the last factor of one who needs it."""

    template_name = "two_factor/remove_app.html"
    success_url = reverse_lazy("two_factor:security")

    def dispatch(self, request, *args, **kwargs):
        self.app = factors.app_of(request.user)
        if self.app is None:
            return redirect("two_factor:security")
        if policy.required_for(request.user) and factors.factor_count(request.user) == 1:
            messages.error(
                request,
                "Your account needs a second factor, so your authenticator app cannot be "
                "removed. To move to a new phone, ask an administrator to reset your factors.",
            )
            return redirect("two_factor:security")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        factors.remove_app(self.app, self.request)
        messages.success(self.request, "Your authenticator app was removed.")
        return super().form_valid(form)


class PasskeyNameView(FormView):
    """Name a passkey just added (the security page's script posts the name typed)."""

    form_class = PasskeyNameForm
    http_method_names = ["post"]

    def form_valid(self, form):
        passkeys = factors.passkeys_of(self.request.user)
        name = form.cleaned_data["name"]
        if name and passkeys.filter(pk=form.cleaned_data["credential"]).update(name=name):
            messages.success(self.request, f"Passkey “{name}” added.")
        else:
            messages.success(self.request, "Passkey added.")
        return redirect("two_factor:security")

    def form_invalid(self, form):
        return redirect("two_factor:security")


class PasskeyRemoveView(CodeCheckMixin, FormView):
    """Remove a passkey after a fresh verification: a code, or the passkey used just now."""

    template_name = "two_factor/remove_passkey.html"
    success_url = reverse_lazy("two_factor:security")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_verified():
            return redirect("two_factor:security")
        try:
            self.passkey = factors.passkeys_of(request.user).get(pk=kwargs["pk"])
        except (WebAuthnCredential.DoesNotExist, ValueError):
            raise Http404("No such passkey.") from None
        if policy.required_for(request.user) and factors.factor_count(request.user) == 1:
            messages.error(
                request, "Your account needs a second factor: add another before removing this."
            )
            return redirect("two_factor:security")
        self.asks_code = factors.app_of(request.user) is not None and not verified_recently(request)
        if request.method == "POST" and not (self.asks_code or verified_recently(request)):
            return redirect(request.path)
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return SecondStepForm if self.asks_code else ConfirmForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if not self.asks_code:
            kwargs.pop("user")
        return kwargs

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "passkey": self.passkey,
            "fresh": verified_recently(self.request),
        }

    def form_valid(self, form):
        factors.remove_passkey(self.passkey, self.request)
        messages.success(self.request, f"Passkey “{self.passkey.name}” removed.")
        return super().form_valid(form)


class PasskeyRegistrationCompleteView(passkey_views.CompleteCredentialRegistrationView):
    """The library's view, which also records the new passkey and emails its owner."""

    def post(self, *args, **kwargs):
        was_verified = self.request.user.is_verified()
        response = super().post(*args, **kwargs)
        if response.status_code != 200:
            return response
        device = WebAuthnCredential.objects.get(pk=json.loads(response.content)["id"])
        device.name = factors.PASSKEY_NAME
        device.save(update_fields=["name"])
        factors.passkey_added(device, self.request)
        if not was_verified:
            # The library counts a first passkey as passed: so do we, under a new key.
            verify_session(self.request, device)
        return response


class PasskeyAuthenticationCompleteView(passkey_views.CompleteCredentialAuthenticationView):
    """The library's view: a passkey signs in (alone, or after the password) under a new key."""

    def complete_auth(self, device):
        super().complete_auth(device)
        verify_session(self.request, device)


class ResetView(TemplateView):
    """A superuser removes someone else's second factors, for a lost device (confirm, then POST)."""

    template_name = "two_factor/reset_confirm.html"

    def dispatch(self, request, *args, **kwargs):
        self.staff = get_object_or_404(get_user_model(), pk=kwargs["pk"])
        if not request.user.is_superuser:
            raise PermissionDenied("Only a superuser can reset someone's second factors.")
        if self.staff == request.user:
            raise PermissionDenied("Nobody resets their own second factors.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "staff": self.staff,
            "has_factor": factors.has_factor(self.staff),
        }

    def post(self, request, *args, **kwargs):
        factors.reset_factors(self.staff, request)
        messages.success(
            request,
            f"The second factors of {self.staff} were removed; they have been emailed. "
            "They set up a new one when they next sign in.",
        )
        return redirect(reverse("staff:detail", kwargs={"pk": self.staff.pk}))
