from django.urls import path

from .views import spreadsheets, staff

app_name = "staff"

urlpatterns = [
    path("", staff.StaffListView.as_view(), name="list"),
    path("add/", staff.StaffCreateView.as_view(), name="create"),
    path("export.csv", spreadsheets.StaffExportView.as_view(), name="export"),
    path("import/", spreadsheets.StaffImportView.as_view(), name="import"),
    path("import/preview/", spreadsheets.StaffImportPreviewView.as_view(), name="import_preview"),
    path("<int:pk>/", staff.StaffDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", staff.StaffUpdateView.as_view(), name="update"),
    path("<int:pk>/password/", staff.StaffSetPasswordView.as_view(), name="set_password"),
    path("<int:pk>/invite/", staff.StaffResendInvitationView.as_view(), name="resend_invitation"),
    path(
        "<int:pk>/deactivate/",
        staff.StaffActivationView.as_view(activate=False),
        name="deactivate",
    ),
    path("<int:pk>/activate/", staff.StaffActivationView.as_view(activate=True), name="activate"),
    path("<int:pk>/delete/", staff.StaffDeleteView.as_view(), name="delete"),
    path("<int:pk>/history/", staff.StaffHistoryView.as_view(), name="history"),
]
