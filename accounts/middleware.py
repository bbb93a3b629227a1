from django.contrib import messages
from django.contrib.auth import middleware


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    """Send anonymous visitors to the login page, and tell them why."""

    def handle_no_permission(self, request, view_func):
        messages.info(request, "You must be logged in to access this page.")
        return super().handle_no_permission(request, view_func)
