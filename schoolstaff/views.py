import hashlib
import logging
import sys

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.messages.views import SuccessMessageMixin
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.template import loader
from django.template.loader import render_to_string
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.generic import View
from django.views.generic.detail import SingleObjectMixin

from accounts.models import DirectoryVersion

logger = logging.getLogger(__name__)


class ObjectSuccessMessageMixin(SuccessMessageMixin):
    """Name the object in the success message: "Staff member %(object)s created."."""

    def get_success_message(self, cleaned_data):
        return self.success_message % {"object": self.object}


class KeysFirstPaginator(Paginator):
    """Find a page's primary keys first, then fetch just those rows.

    A deep page (page 1,000 of 2,000) then skips its offset in an index rather
    than reading and dropping 25,000 whole rows: two queries, either way fast.
    """

    def page(self, number):
        page = super().page(number)
        keys = list(page.object_list.values_list("pk", flat=True))
        rows = self.object_list.filter(pk__in=keys).in_bulk()
        page.object_list = [rows[key] for key in keys]
        return page


class ForgivingPaginationMixin:
    """Paginate, turning a page number that does not exist into the nearest page, with a note."""

    # Set when the number of rows is already known (CachedListMixin), to count them once.
    known_count = None

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        if self.known_count is not None:
            paginator.count = self.known_count
        asked = self.request.GET.get(self.page_kwarg, "")
        page = paginator.get_page(self.page_number())
        if asked and asked != str(page.number):
            self.list_notices.append(
                f"There is no page “{asked[:20]}”: showing page {page.number} "
                f"of {paginator.num_pages}."
            )
        return paginator, page, page.object_list, page.has_other_pages()

    def page_number(self):
        """The page asked for, or 1 when no number is given (the paginator clamps the rest)."""
        try:
            return max(int(self.request.GET.get(self.page_kwarg, 1)), 1)
        except ValueError:
            return 1

    @cached_property
    def list_notices(self):
        """What was asked for but could not be shown, said above the list."""
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, "notices": self.list_notices}


class PagedObjectListMixin(ForgivingPaginationMixin, SingleObjectMixin):
    """One object's page with a list of what belongs to it, a page at a time.

    For a ListView whose get_queryset() lists what belongs to `self.object`:
    a group's members, a person's history.
    """

    paginate_by = 25

    def get(self, request, *args, **kwargs):
        self.object = self.get_object(queryset=self.model._default_manager.all())
        return super().get(request, *args, **kwargs)


class FilteredListMixin(ForgivingPaginationMixin):
    """A list searched, filtered and sorted by `filter_form_class` from the query string."""

    filter_form_class = None
    paginate_by = 25

    def get_queryset(self):
        self.filter_form = self.filter_form_class(self.request.GET)
        queryset = self.filter_form.filter(super().get_queryset())
        self.list_notices.extend(self.filter_form.notices)
        return queryset

    def get_context_data(self, **kwargs):
        form = self.filter_form
        return super().get_context_data(filter_form=form, sort=form.cleaned_data["sort"], **kwargs)


class CachedListMixin:
    """Keep a list's rendered content in the cache until staff or subject groups change.

    Rendering the rows, the filter form and the pagination costs most of a list
    page (docs/performance.md). The content depends only on the search, filters,
    sort and page, the viewer's permissions and the data, so it is kept under
    those as cleaned (never the raw query string, so that made-up parameters add
    no entries), the permissions and the DirectoryVersion, which every change to
    staff or groups replaces. A page that falls back from what was asked, with a
    notice, is rendered each time and not kept. The page around the content
    (navbar, messages) is rendered for each request.
    """

    content_template_name = None

    def get_template_names(self):
        # Named, not derived from the object list, which a cached page never fetches.
        return [self.template_name]

    def get(self, request, *args, **kwargs):
        self.object_list = self.get_queryset()
        key = self.content_cache_key()
        content = cache.get(key) if key else None
        if content is None:
            context = self.get_context_data()
            content = render_to_string(self.content_template_name, context, request)
            if key and not context["notices"]:
                cache.set(key, content, settings.LIST_CACHE_SECONDS)
        return self.render_to_response({"content": mark_safe(content)})

    def content_cache_key(self):
        """The key of this page's content, or None when it is not to be kept."""
        if not settings.LIST_CACHE_SECONDS or self.list_notices:
            return None
        version = DirectoryVersion.objects.current()
        if version is None:
            return None
        filters = sorted(self.filter_form.cleaned_data.items())
        list_key = f"list:{self.content_template_name}:{version}:{digest(filters)}"
        # Counted once per list, so that a page past the end is known without the database.
        self.known_count = cache.get_or_set(
            f"{list_key}:count", self.object_list.count, settings.LIST_CACHE_SECONDS
        )
        number = self.page_number()
        if number > max(1, -(-self.known_count // self.paginate_by)):
            return None
        user = self.request.user
        viewer = [user.is_superuser, *sorted(user.get_all_permissions())]
        return f"{list_key}:{number}:{digest(viewer)}"


def digest(values):
    return hashlib.sha256(repr(values).encode()).hexdigest()


class CSVExportView(View):
    """A list as filtered and sorted on its page, every row of it, streamed as a CSV file.

    Straight from the query, a chunk of rows at a time: nothing is rendered or
    kept in the cache, and 50,000 rows never sit in memory.
    """

    queryset = None
    filter_form_class = None
    export_class = None
    file_name = None

    def get(self, request, *args, **kwargs):
        rows = self.filter_form_class(request.GET).filter(self.queryset.all())
        return StreamingHttpResponse(
            self.export_class(rows).chunks(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{self.file_name}"'},
        )


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
