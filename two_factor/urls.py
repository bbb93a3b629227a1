from django.urls import path

from . import views

app_name = "two_factor"

urlpatterns = [
    path("security/", views.SecurityView.as_view(), name="security"),
    path("security/app/", views.AppSetupView.as_view(), name="setup_app"),
    path("security/app/remove/", views.AppRemoveView.as_view(), name="remove_app"),
    path("security/recovery-codes/", views.RecoveryCodesView.as_view(), name="recovery_codes"),
    path(
        "security/recovery-codes/download/",
        views.RecoveryCodesDownloadView.as_view(),
        name="recovery_codes_download",
    ),
    path("security/passkeys/name/", views.PasskeyNameView.as_view(), name="name_passkey"),
    path(
        "security/passkeys/<int:pk>/remove/",
        views.PasskeyRemoveView.as_view(),
        name="remove_passkey",
    ),
    path("security/reset/<int:pk>/", views.ResetView.as_view(), name="reset"),
    path("two-factor/", views.SecondStepView.as_view(), name="verify"),
]
