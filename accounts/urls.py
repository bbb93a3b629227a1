"""Signing in and one's own account: Django's auth URLs, some with our views in front."""

from django.urls import include, path

from .views import account

urlpatterns = [
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", account.LogoutView.as_view(), name="logout"),
    path("password_change/", account.PasswordChangeView.as_view(), name="password_change"),
    path("password_reset/", account.PasswordResetView.as_view(), name="password_reset"),
    path(
        "reset/<uidb64>/<token>/",
        account.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "invite/<uidb64>/<token>/",
        account.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    # The rest (the "done" pages) as Django has them.
    path("", include("django.contrib.auth.urls")),
]
