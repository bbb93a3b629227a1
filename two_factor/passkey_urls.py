"""The passkey library's URLs under its own names, two of them with our views in front."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import views as passkey_views

from . import views

app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/",
        passkey_views.BeginCredentialRegistrationView.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        views.PasskeyRegistrationCompleteView.as_view(),
        name="credential-registration-complete",
    ),
    # Signing in with a passkey alone starts signed out.
    path(
        "authentication/begin/",
        login_not_required(passkey_views.BeginCredentialAuthenticationView.as_view()),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        login_not_required(views.PasskeyAuthenticationCompleteView.as_view()),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        login_not_required(JavaScriptCatalog.as_view(packages=["django_otp_webauthn"])),
        name="js-i18n-catalog",
    ),
]
