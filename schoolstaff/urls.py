from django.contrib import admin
from django.urls import include, path

from accounts.views.account import HomeView
from schoolstaff import views

handler500 = views.server_error

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/", include("two_factor.urls")),
    path("accounts/passkeys/", include("two_factor.passkey_urls")),
    path("accounts/", include("accounts.urls")),
    path("staff/", include("accounts.staff_urls")),
    path("subjects/", include("subjects.urls")),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
]
