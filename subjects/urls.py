from django.urls import path

from . import views

app_name = "subjects"

urlpatterns = [
    path("", views.SubjectGroupListView.as_view(), name="list"),
    path("add/", views.SubjectGroupCreateView.as_view(), name="create"),
    path("<int:pk>/", views.SubjectGroupDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.SubjectGroupUpdateView.as_view(), name="update"),
    path("<int:pk>/delete/", views.SubjectGroupDeleteView.as_view(), name="delete"),
]
