from django.contrib.messages.views import SuccessMessageMixin
from django.core.paginator import Paginator


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
    """Paginate, turning a page number that does not exist into the nearest page."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        try:
            number = max(int(self.request.GET.get(self.page_kwarg, 1)), 1)
        except ValueError:
            number = 1
        page = paginator.get_page(number)  # Past the end: the last page.
        return paginator, page, page.object_list, page.has_other_pages()


class FilteredListMixin(ForgivingPaginationMixin):
    """A list searched, filtered and sorted by `filter_form_class` from the query string."""

    filter_form_class = None
    paginate_by = 25

    def get_queryset(self):
        self.filter_form = self.filter_form_class(self.request.GET)
        return self.filter_form.filter(super().get_queryset())

    def get_context_data(self, **kwargs):
        form = self.filter_form
        return super().get_context_data(
            filter_form=form, sort=form.cleaned_data["sort"], notices=form.notices, **kwargs
        )
