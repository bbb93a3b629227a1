"""The admin site: its parameters checked, and one's own password changed as on the site."""

from django.urls import reverse

from records.admin import CheckedAdminSite

from .views.account import PasswordChangeView


class StaffAdminSite(CheckedAdminSite):
    site_header = "schoolstaff administration"
    site_title = "schoolstaff admin"

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
