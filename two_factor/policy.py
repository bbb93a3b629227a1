"""Who must pass a second factor, and the session's state between password and second step."""

import time

from django.conf import settings

# In the session: when the password was accepted if a second step is due, 0 if none is
# due, absent when not yet decided (or once the second step has been passed).
STEP_DUE_SINCE = "two_factor_step_due_since"


def required_for(user):
    """Whether the setting DJANGO_TWO_FACTOR_REQUIRED makes `user` pass a second factor."""
    policy = settings.TWO_FACTOR_REQUIRED
    if policy == "none":
        return False
    if policy == "all":
        return True
    if policy == "powers":
        return user.has_powers
    return user.is_staff or user.is_superuser


def required_by_status(user):
    """Required for what the user object shows without a query (staff or superuser status)."""
    return settings.TWO_FACTOR_REQUIRED != "none" and (user.is_staff or user.is_superuser)


def start_second_step(request, user):
    """Decide, once a session, whether its password must be followed by a second step."""
    from .factors import has_factor

    due = time.time() if required_for(user) or has_factor(user) else 0
    request.session[STEP_DUE_SINCE] = due
    return due


def second_step_passed(request):
    request.session.pop(STEP_DUE_SINCE, None)


def second_step_expired(due_since):
    return time.time() - due_since > settings.TWO_FACTOR_STEP_SECONDS
