import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout, middleware
from django.shortcuts import redirect
from django.urls import reverse


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    """Send anonymous visitors to the login page, and tell them why."""

    def handle_no_permission(self, request, view_func):
        messages.info(request, "You must be logged in to access this page.")
        return super().handle_no_permission(request, view_func)


class SessionExpiryMiddleware:
    """End a session 30 minutes after its last request, or 12 hours after sign-in."""

    # Saving the session on every request would cost a write each time.
    activity_resolution = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if SESSION_KEY in request.session and not request.user.is_authenticated:
            # Deactivated or deleted since: end the session for good.
            request.session.flush()
        elif request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            signed_in_at = session.setdefault("signed_in_at", now)
            last_seen_at = session.setdefault("last_seen_at", now)
            if (
                now - signed_in_at > settings.SESSION_ABSOLUTE_TIMEOUT
                or now - last_seen_at > settings.SESSION_IDLE_TIMEOUT
            ):
                logout(request)
                messages.info(request, "Your session has expired. Please log in again.")
            elif now - last_seen_at >= self.activity_resolution:
                session["last_seen_at"] = now
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """Until its owner replaces a password someone else chose, every page leads to that."""

    allowed_views = {"password_change", "password_change_done", "logout", "admin:logout"}

    def __init__(self, get_response):
        self.get_response = get_response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.user.is_authenticated
            and request.user.must_change_password
            and request.resolver_match.view_name not in self.allowed_views
        ):
            messages.info(
                request, "Your password was set by someone else. Please choose your own now."
            )
            return redirect(reverse("password_change"))
        return None

    def __call__(self, request):
        return self.get_response(request)
