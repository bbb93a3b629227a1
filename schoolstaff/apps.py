from django.contrib.admin.apps import AdminConfig


class SchoolStaffAdminConfig(AdminConfig):
    default_site = "schoolstaff.admin.SchoolStaffAdminSite"
