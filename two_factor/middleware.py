from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse

from . import policy
from .factors import has_factor


class SecondStepRequiredMiddleware:
    """Between the password and the second factor, every page leads to the second step.

    Someone the policy covers who has no factor yet is led to set one up instead. The
    second step must be passed within TWO_FACTOR_STEP_SECONDS of the password.
    """

    allowed_views = {
        "two_factor:verify",
        "logout",
        # A passkey instead of a code.
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
        "otp_webauthn:js-i18n-catalog",
    }
    allowed_views_to_enrol = allowed_views | {"two_factor:setup_app"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        due_since = request.session.get(policy.STEP_DUE_SINCE)
        if due_since is None or (due_since == 0 and policy.required_by_status(user)):
            # A session from before this rule, or whose person has since become staff.
            due_since = policy.start_second_step(request, user)
        if not due_since:
            return None
        if policy.second_step_expired(due_since):
            logout(request)
            messages.info(request, "The second step of signing in timed out. Please log in again.")
            return redirect_to_login(request.get_full_path())
        enrolling = not has_factor(user)
        allowed = self.allowed_views_to_enrol if enrolling else self.allowed_views
        if request.resolver_match.view_name in allowed:
            return None
        to = "two_factor:setup_app" if enrolling else "two_factor:verify"
        return redirect(f"{reverse(to)}?{urlencode({'next': request.get_full_path()})}")
