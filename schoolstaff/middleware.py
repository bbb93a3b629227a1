from django.conf import settings
from django.core.exceptions import BadRequest
from django.db import transaction
from django.shortcuts import render


class AtomicWritesMiddleware:
    """Run each request that may change data in one transaction; reads in none.

    Django's ATOMIC_REQUESTS would wrap every view, and SQLite takes its write
    lock when a transaction begins (IMMEDIATE): each page view would then wait
    for the others. Last in MIDDLEWARE, so that the CSRF and sign-in checks run
    first; a view that raises rolls back everything it wrote.
    """

    safe_methods = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in self.safe_methods:
            return None
        with transaction.atomic():
            response = view_func(request, *view_args, **view_kwargs)
            # Rendered here, so that a template error also rolls back.
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
        return response


class RequestSizeLimitMiddleware:
    """Answer 413 to a request longer than MAX_REQUEST_BYTES before any of its body is read.

    Ahead of the CSRF check, which reads a posted form, and so of the sign-in check
    after it: otherwise anyone could make the site take in a body of any size.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not (length.isascii() and length.isdigit()):
            # Invalid framing (RFC 9112, 6.3), answered 400 as gunicorn does; Django
            # would read "-1" as no body and fail on "abc" with a server error.
            raise BadRequest("Content-Length is not a number of bytes.")
        if int(length) > settings.MAX_REQUEST_BYTES:
            context = {"limit": settings.STAFF_IMPORT_MAX_BYTES}
            return render(request, "413.html", context, status=413)
        return self.get_response(request)
