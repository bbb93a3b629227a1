"""The site's URLs plus pages that write and then fail, or lose the database."""

from django.db import OperationalError, connection
from django.http import HttpResponse
from django.urls import path

from schoolstaff.urls import handler500  # noqa: F401 (the site's error pages)
from schoolstaff.urls import urlpatterns as site_urlpatterns
from subjects.models import SubjectGroup


def write_then_fail(request):
    SubjectGroup.objects.create(name="Written before the error")
    raise RuntimeError("after the write")


def report_transaction(request):
    return HttpResponse("in a transaction" if connection.in_atomic_block else "autocommit")


def lose_the_database(request):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: secret detail")


urlpatterns = [
    *site_urlpatterns,
    path("write-then-fail/", write_then_fail),
    path("transaction/", report_transaction),
    path("database-gone/", lose_the_database),
]
