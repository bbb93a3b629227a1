"""List pages searched, filtered, sorted and paged from the query string, and their CSV files."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connections, transaction
from django.db.models import Count, F
from django.db.models.expressions import OrderBy
from django.http import StreamingHttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.views.generic import View
from django.views.generic.detail import SingleObjectMixin

from .models import DirectoryChange
from .queries import in_any_of

# A list with no quicker count is counted at least this far (or as far as its
# `sorted_when_found`, to know whether to sort it), and further only as far as
# the page asked for needs.
COUNTED_AT_LEAST = 10000

# A page at most this many rows from either end of its list is walked to from
# that end, even when the list has stretches: as quick as reading them.
NEAR_AN_END = 20000


class KeysFirstPaginator(Paginator):
    """Find a page's primary keys first, then fetch just those rows.

    A deep page (page 1,000 of 2,000) then skips its offset in an index rather
    than reading and dropping 25,000 whole rows: two queries, either way fast.
    A page in the second half of the list is read from the end, backwards, so
    that no page skips more than half the list. The rows are fetched by their
    keys from `rows` (the list before it was searched and filtered, with what it
    selects), so that a search is not run again for them.

    With `stretches`, a page far from both ends is walked to from the nearest
    mark before it, rather than from an end (`keys_from_a_mark`).

    A list with no quicker `count` (a search) is counted no further than the
    page asked for needs (`count_for`): a search of a word in most rows then
    holds "more than 10000" (`more_than`), rather than being counted row by row.
    With `sorted_when_found`, a list of at most that many rows is found once,
    counted, and sorted for the page's keys, all in one query
    (`count_and_sort`, PostgreSQL): a search found through its own index,
    rather than walked along the sort's.
    """

    # When the rows were counted only so far: there are more than this many.
    more_than = None

    def __init__(
        self,
        object_list,
        per_page,
        *,
        rows=None,
        count=None,
        sorted_when_found=None,
        stretches=None,
        **kwargs,
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.rows = object_list if rows is None else rows
        # A quicker way to count the list, when there is one.
        self.count_rows = count
        self.sorted_when_found = sorted_when_found
        # A callable giving (the field the list is sorted by, [(mark, rows)] of
        # the stretches from each mark, in ascending order) or None.
        self.stretches = stretches
        # The keys of the page found with the count ({page number: keys}).
        self.found_keys = {}

    @cached_property
    def count(self):
        if self.count_rows:
            return self.count_rows()
        if self.sorted_when_found:
            # Asked for before a page: the last is wanted. Found, counted and
            # sorted for its keys at once, when there are few enough rows.
            counted, number, keys = self.count_and_sort(None, self.sorted_when_found)
            if keys is not None:
                self.found_keys[number] = keys
                return counted
        return super().count

    def get_page(self, number):
        """Page `number` (at least 1), the rows counted only as far as it needs."""
        self.count_for(number)
        return super().get_page(number)

    def count_for(self, number):
        """Count the rows only as far as page `number` needs, when there is no quicker count."""
        if self.count_rows or "count" in self.__dict__:
            return
        enough = max(number * self.per_page, COUNTED_AT_LEAST, self.sorted_when_found or 0)
        if enough > 2**31:  # Past the end of any list: counted in full, then the last page.
            return
        if self.sorted_when_found:
            counted, shown, keys = self.count_and_sort(number, enough)
            self.found_keys[shown] = keys
        else:
            counted = self.object_list.order_by()[: enough + 1].count()
        if counted > enough:
            # One row past what is shown: the page asked for has a next one.
            self.more_than = enough
        self.count = counted

    def count_and_sort(self, number, enough):
        """(rows counted up to `enough` and one more, the page shown, its keys), in one query.

        The page shown is `number`, or the last page when the rows end before it
        (or `number` is None). The rows are found once, counted, and sorted for
        the page's keys only when there are no more than `enough` and
        `sorted_when_found`; the keys are None otherwise. The sort is of the
        rows found, not of an index: nothing walks one.
        """
        connection = connections[self.object_list.db]
        query = self.object_list.query
        ordering = query.order_by or (query.default_ordering and query.get_meta().ordering)
        terms = [ordering_term(field) for field in ordering]
        columns = {f"found_{at}": term.expression for at, term in enumerate(terms)}
        found = self.object_list.order_by().values(found_key=F("pk"), **columns)
        found_sql, params = found[: enough + 1].query.get_compiler(using=found.db).as_sql()
        order = (
            ", ".join(
                " ".join([connection.ops.quote_name(column), *sql_direction(term)])
                for column, term in zip(columns, terms, strict=True)
            )
            or "found_key"
        )
        # The last page's number as Paginator.num_pages has it; LEAST ignores a NULL.
        last = "(GREATEST(rows - %s, 1) + %s - 1) / %s"
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH found AS MATERIALIZED ({found_sql}),"
                " counted AS (SELECT COUNT(*) AS rows FROM found),"
                f" shown AS (SELECT rows, LEAST(%s, {last}) AS number FROM counted)"
                " SELECT rows, number, CASE WHEN rows <= %s THEN ARRAY("
                f"  SELECT found_key FROM found ORDER BY {order} LIMIT %s"
                "   OFFSET (SELECT (number - 1) * %s FROM shown)"
                " ) END FROM shown",
                [
                    *params,
                    number,
                    *(self.orphans, self.per_page, self.per_page),
                    min(enough, self.sorted_when_found),
                    self.per_page + self.orphans,
                    self.per_page,
                ],
            )
            return cursor.fetchone()

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = self.found_keys.get(number)
        if keys is not None:
            keys = keys[: top - bottom]
        elif self.stretches and min(bottom, self.count - top) > NEAR_AN_END:
            keys = self.keys_from_a_mark(bottom, top)
        elif self.more_than is None and bottom > self.count - top:
            # The list's order, with its key last, reverses exactly.
            keys = self.object_list.values_list("pk", flat=True).reverse()
            keys = list(keys[self.count - top : self.count - bottom])[::-1]
        else:
            keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = self.rows.filter(pk__in=keys).in_bulk()
        # A row deleted since its key was read is left out, not an error.
        return self._get_page([rows[key] for key in keys if key in rows], number, self)

    def keys_from_a_mark(self, bottom, top):
        """The keys of rows `bottom` to `top`, walked to from the nearest mark before them.

        The stretches are summed to the one the page begins in (in ascending
        order: the page's last row, in a descending list), and the list is
        walked from its mark. Rows of a stretch's value all sort from its mark,
        whatever else the list is sorted by.
        """
        field, sizes = self.stretches()  # From the stretch before every mark, "".
        descending = ordering_term(self.object_list.query.order_by[0]).descending
        start = self.count - top if descending else bottom
        mark, before = "", 0
        for value, rows in sizes:
            if before + rows > start:
                mark = value
                break
            before += rows
        else:  # Counted fewer than the list (a change in between): from its start.
            before = 0
        ascending = self.object_list.reverse() if descending else self.object_list
        if mark:
            ascending = ascending.filter(**{f"{field}__gte": mark})
        at = start - before
        keys = list(ascending.values_list("pk", flat=True)[at : at + top - bottom])
        return keys[::-1] if descending else keys


def ordering_term(field):
    """A queryset's ordering (`"-last_name"`, `F("x").asc()`) as an OrderBy expression."""
    if isinstance(field, str):
        return OrderBy(F(field.removeprefix("-")), descending=field.startswith("-"))
    return field if isinstance(field, OrderBy) else field.asc()


def sql_direction(term):
    """ASC or DESC, and where NULLs go if the term says, as SQL words."""
    nulls = "NULLS LAST" if term.nulls_last else "NULLS FIRST" if term.nulls_first else None
    return ["DESC" if term.descending else "ASC", *filter(None, [nulls])]


class GroupedPaginator(KeysFirstPaginator):
    """Page a list sorted by a related row (a subject group), without sorting the whole list.

    The rows of each group are counted, an index's GROUP BY; the groups are put
    in the list's order (their names, those without a group last); a page's rows
    are then the right slices of one or two groups, each found in an index on
    (group, the order within a group). The rows come in one query, ordered as
    `object_list` is, so that a page shows what sorting the whole list would.
    """

    def __init__(
        self,
        object_list,
        per_page,
        *,
        group_field,
        groups,
        within,
        descending,
        sizes=None,
        **kwargs,
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.group_field = group_field
        # A callable giving the groups' keys in the list's ascending order.
        self.groups = groups
        # A quicker way to count each group's rows ({group key: rows}), when there is one.
        self.sizes = sizes or self.count_each_group
        # The order within a group, as in the list: descending if it is.
        self.within = within
        self.descending = descending

    @cached_property
    def segments(self):
        """(group key, number of rows) for each group with rows, in the list's order."""
        counts = self.sizes()
        # Rows without a group come last, and first when the list is reversed.
        order = [*self.groups(), None]
        segments = [(key, counts[key]) for key in order if counts.get(key)]
        return segments[::-1] if self.descending else segments

    def count_each_group(self):
        # COUNT(*), not COUNT(id): PostgreSQL then counts from an index that
        # starts with the group, without visiting each row for its key.
        return dict(
            self.object_list.order_by()
            .values_list(self.group_field)
            .annotate(rows=Count("*"))
            .values_list(self.group_field, "rows")
        )

    @cached_property
    def count(self):
        return sum(rows for _, rows in self.segments)

    def count_for(self, number):
        """Every group is counted: the page's place among them depends on it."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        slices, start = [], 0
        for key, rows in self.segments:
            if start < top and bottom < start + rows:
                members = self.object_list.filter(**{self.group_field: key}).order_by(*self.within)
                first = max(bottom - start, 0)
                slices.append(members.values("pk")[first : min(top - start, rows)])
            start += rows
        if not slices:
            return Page([], number, self)
        rows = self.rows.filter(in_any_of(slices)).order_by(*self.object_list.query.order_by)
        return Page(list(rows), number, self)


class ForgivingPaginationMixin:
    """Paginate, turning a page number that does not exist into the nearest page, with a note.

    `?page=last` is the last page, wherever that is.
    """

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        number = self.page_number()
        if number == "last":
            number = paginator.num_pages
        page = paginator.get_page(number)
        asked = self.request.GET.get(self.page_kwarg, "")
        if asked and asked not in {str(page.number), "last"}:
            self.list_notices.append(
                f"There is no page “{asked[:20]}”: showing page {page.number} "
                f"of {paginator.num_pages}."
            )
        return paginator, page, page.object_list, page.has_other_pages()

    def page_number(self):
        """The page asked for: "last", or a number, 1 when none is given.

        The paginator turns a number past the end into the last page.
        """
        asked = self.request.GET.get(self.page_kwarg, 1)
        if asked == "last":
            return asked
        try:
            return max(int(asked), 1)
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

    @cached_property
    def filter_form(self):
        form = self.filter_form_class(self.request.GET)
        form.is_valid()
        self.list_notices.extend(form.notices)
        return form

    def get_queryset(self):
        return self.filter_form.filter(super().get_queryset())

    def get_context_data(self, **kwargs):
        form = self.filter_form
        return super().get_context_data(filter_form=form, sort=form.cleaned_data["sort"], **kwargs)


class CachedListMixin:
    """Keep a list's rendered content in the cache until staff or subject groups change.

    Rendering the rows, the filter form and the pagination costs most of a list
    page (docs/performance.md). The content depends only on the search, filters,
    sort and page, the viewer's permissions and the data, so it is kept under
    those as cleaned (never the raw query string, so that made-up parameters add
    no entries), the permissions and the version that every change to staff or
    groups moves on (`DirectoryChange`). A page that falls back from what was asked, with a
    notice, is rendered each time and not kept. The page around the content
    (navbar, messages) is rendered for each request.
    """

    content_template_name = None

    def get_template_names(self):
        # Named, not derived from the object list, which a cached page never fetches.
        return [self.template_name]

    def get(self, request, *args, **kwargs):
        # The list's query is made only when the content is not kept: making it
        # may take a query (a search's, say).
        key = self.content_cache_key()
        content = cache.get(key) if key else None
        if content is None:
            self.object_list = self.listed
            context = self.get_context_data()
            content = render_to_string(self.content_template_name, context, request)
            if key and not context["notices"]:
                cache.set(key, content, settings.LIST_CACHE_SECONDS)
        return self.render_to_response({"content": mark_safe(content)})

    @cached_property
    def listed(self):
        return self.get_queryset()

    def content_cache_key(self):
        """The key of this page's content, or None when it is not to be kept."""
        if not settings.LIST_CACHE_SECONDS or self.filter_form.notices:
            return None
        version = DirectoryChange.objects.version()
        if version is None:
            return None
        filters = sorted(self.filter_form.cleaned_data.items())
        number = self.page_number()
        # A page asked for as "-1", "abc" or "02" is shown with a notice, never from the
        # cache; so is a page past the end, which is therefore never found there.
        if (self.request.GET.get(self.page_kwarg) or str(number)) != str(number):
            return None
        user = self.request.user
        viewer = [user.is_superuser, *sorted(user.get_all_permissions())]
        return (
            f"list:{self.content_template_name}:{version}:{digest(filters)}:{number}:"
            f"{digest(viewer)}"
        )


def url_for_pk(name):
    """`reverse(name, kwargs={"pk": pk})` for any pk, reversed once: for a list's rows."""
    head, tail = reverse(name, kwargs={"pk": 2147483647}).split("2147483647")
    return lambda pk: f"{head}{pk}{tail}"


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
        chunks = self.export_class(rows).chunks()
        if connections[rows.db].vendor == "postgresql":
            chunks = in_one_transaction(chunks, rows.db)
        return StreamingHttpResponse(
            chunks,
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{self.file_name}"'},
        )


def in_one_transaction(chunks, using):
    """Yield the chunks inside a transaction, opened when the first is asked for.

    Outside one, PostgreSQL keeps a streaming cursor's rows past the commit by
    computing all of them first (half a second at 500,000 staff before the first
    byte, sorted on disk); inside one, it sends the first rows at once. Not on
    SQLite, which streams either way and whose transactions here take the write lock.
    """
    with transaction.atomic(using=using):
        yield from chunks
