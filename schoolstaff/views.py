"""The project's own pages: the health check, and the page for a server error."""

import logging
import sys

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template import loader
from django.templatetags.static import static
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_safe
def healthz(request):
    """Say whether the database (and the shared cache, when there is one) answer.

    For load balancers and monitoring: no sign-in, and nothing but "ok" or
    "unavailable" for each, so that it reveals no versions or addresses.
    """
    checks = {"database": _answers("database", _query_database)}
    if settings.REDIS_URL:
        checks["cache"] = _answers("cache", _use_cache)
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


@login_not_required
@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the mark."""
    return redirect(static("img/schoolstaff.svg"))


def _answers(name, check):
    try:
        check()
    except Exception:
        logger.warning("Health check failed: %s", name, exc_info=True)
        return "unavailable"
    return "ok"


def _query_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _use_cache():
    cache.set("healthz", "ok", timeout=10)
    if cache.get("healthz") != "ok":
        raise RuntimeError("the cache did not keep a value")


def server_error(request):
    """The 500 page, or the 503 page when the database cannot be reached.

    Called while the error is being handled, so sys.exc_info() is the error. The
    page renders without the request, as Django's own does: the user would
    need the database it could not reach.
    """
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "30"
        return response
    return defaults.server_error(request)
