from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from schoolstaff import views

handler500 = views.server_error

admin.site.site_header = "schoolstaff administration"
admin.site.site_title = "schoolstaff admin"

urlpatterns = [
    path("", account_views.HomeView.as_view(), name="home"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", account_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        account_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_reset/", account_views.PasswordResetView.as_view(), name="password_reset"
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/invite/<uidb64>/<token>/",
        account_views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("staff/", include("accounts.urls")),
    path("subjects/", include("subjects.urls")),
    path("audit/", account_views.AuditEventListView.as_view(), name="audit"),
    path("audit/export.csv", account_views.AuditEventExportView.as_view(), name="audit_export"),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
]
