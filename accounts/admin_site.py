"""The admin site: its parameters checked, one's own password changed as on the site, and
no way in without the second factor that the site's policy asks for."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from records.admin import CheckedAdminSite

from .views.account import PasswordChangeView


class StaffAdminSite(CheckedAdminSite):
    site_header = "schoolstaff administration"
    site_title = "schoolstaff admin"

    def has_permission(self, request):
        # Everyone the admin lets in has staff status, which every policy but "none" covers.
        return super().has_permission(request) and (
            settings.TWO_FACTOR_REQUIRED == "none" or request.user.is_verified()
        )

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        """Never take a password here: the site's login page, then its second step."""
        user, index = request.user, reverse("admin:index", current_app=self.name)
        next_url = request.GET.get("next", index)
        if self.has_permission(request):
            return redirect(index)
        if not user.is_authenticated:
            to = settings.LOGIN_URL
        elif user.is_active and user.is_staff and not user.is_verified():
            to = "two_factor:verify"
        else:
            raise PermissionDenied  # Signed in fully, without staff status: no loop.
        return redirect(f"{resolve_url(to)}?{urlencode({'next': next_url})}")

    def password_change(self, request, extra_context=None):
        """Django's page, with the site's form: a wrong current password is a failed sign-in."""
        # As Django's own, which in 5.2 takes no other form and gives the form no request.
        defaults = {
            "success_url": reverse("admin:password_change_done", current_app=self.name),
            "extra_context": {**self.each_context(request), **(extra_context or {})},
        }
        if self.password_change_template is not None:
            defaults["template_name"] = self.password_change_template
        request.current_app = self.name
        return PasswordChangeView.as_view(**defaults)(request)
