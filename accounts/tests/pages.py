"""Browsers for the tests, and what a page shows, read from its HTML as a person would.

A list served from the cache has no template context to read, so tests read the page.
"""

import re

from django.test import Client

from accounts.models import Staff


def signed_in(staff):
    """A browser of its own in which `staff` is signed in."""
    client = Client()
    client.force_login(staff)
    return client


def main_content(response):
    """The page's <main>, without the CSRF token, which differs on every page."""
    html = response.content.decode()
    main = re.search(r"<main\b.*</main>", html, re.DOTALL).group()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main)


def listed_staff(response):
    """The emails of the staff members a list page links to, in the order shown."""
    pks = dict.fromkeys(
        int(pk) for pk in re.findall(r'href="/staff/(\d+)/"', response.content.decode())
    )
    emails = dict(Staff.objects.filter(pk__in=pks).values_list("pk", "email"))
    return [emails[pk] for pk in pks]


def has_next_page(response):
    return 'rel="next"' in response.content.decode()
