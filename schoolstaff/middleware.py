from django.db import transaction


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
