from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("", views.StaffListView.as_view(), name="list"),
    path("add/", views.StaffCreateView.as_view(), name="create"),
    path("export.csv", views.StaffExportView.as_view(), name="export"),
    path("import/", views.StaffImportView.as_view(), name="import"),
    path("import/preview/", views.StaffImportPreviewView.as_view(), name="import_preview"),
    path("<int:pk>/", views.StaffDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.StaffUpdateView.as_view(), name="update"),
    path("<int:pk>/password/", views.StaffSetPasswordView.as_view(), name="set_password"),
    path("<int:pk>/invite/", views.StaffResendInvitationView.as_view(), name="resend_invitation"),
    path(
        "<int:pk>/deactivate/",
        views.StaffActivationView.as_view(activate=False),
        name="deactivate",
    ),
    path("<int:pk>/activate/", views.StaffActivationView.as_view(activate=True), name="activate"),
    path("<int:pk>/delete/", views.StaffDeleteView.as_view(), name="delete"),
    path("<int:pk>/history/", views.StaffHistoryView.as_view(), name="history"),
]
