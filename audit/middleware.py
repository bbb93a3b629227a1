from .actors import answering


class AuditActorMiddleware:
    """Let the audit trail know who makes this request's changes, and from where."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The user is looked up only if something is recorded, and by then it
        # always has been: a page view costs no query more.
        with answering(request):
            return self.get_response(request)
