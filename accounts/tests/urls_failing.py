"""The site's URLs plus one page that fails, to see what a server error looks like."""

from django.urls import path

from schoolstaff.urls import urlpatterns as site_urlpatterns

SECRET_DETAIL = "the-internal-detail-nobody-should-see"


def failing_view(request):
    raise RuntimeError(SECRET_DETAIL)


urlpatterns = [
    *site_urlpatterns,
    path("failing/", failing_view, name="failing"),
]
