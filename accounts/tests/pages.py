"""What a page shows, read from its HTML as a person would, not from the template's context.

A list served from the cache has no context to read, so tests read the page.
"""

import re

from accounts.models import Staff


def listed_staff(response):
    """The emails of the staff members a list page links to, in the order shown."""
    pks = dict.fromkeys(
        int(pk) for pk in re.findall(r'href="/staff/(\d+)/"', response.content.decode())
    )
    emails = dict(Staff.objects.filter(pk__in=pks).values_list("pk", "email"))
    return [emails[pk] for pk in pks]


def has_next_page(response):
    return 'rel="next"' in response.content.decode()
