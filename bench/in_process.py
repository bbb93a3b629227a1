"""Time list pages in-process, whole request and SQL, with the list cache off.

    python -m bench.in_process EMAIL URL... [--runs N]
    python -m bench.in_process EMAIL --mixed N

Django's test client on the database of the environment, signed in as EMAIL:
the median of N requests (default 15) after one to warm up, in milliseconds,
one "total sql url" a line, and each page's time as a multiple of the first's.
With --mixed, the first N addresses of the mixed workload (bench.mixed_urls),
each asked for once: the mean total and SQL per request, for each kind of
address and for all.
"""

import os
import statistics
import sys
import time
from urllib.parse import parse_qsl, urlsplit


def signed_in(email):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(email=email))
    return client


def timed(client, url):
    """(seconds, seconds of SQL) of one request for `url`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get(url)
        total = time.perf_counter() - start
    if response.status_code != 200:
        sys.exit(f"{url} answered {response.status_code}, not 200.")
    return total, sum(float(query["time"]) for query in queries)


def time_pages(email, urls, runs):
    from django.test.utils import override_settings

    client = signed_in(email)
    first = None
    with override_settings(LIST_CACHE_SECONDS=0):
        for url in urls:
            client.get(url)
            totals, sqls = zip(*(timed(client, url) for _ in range(runs)), strict=True)
            total, sql = statistics.median(totals) * 1000, statistics.median(sqls) * 1000
            first = first or total
            print(f"{total:7.1f} {sql:7.1f} {total / first:5.1f}x  {url}")


def time_mixed(email, count):
    from django.test.utils import override_settings

    from bench.mixed_urls import mixed_urls

    client = signed_in(email)
    urls = mixed_urls(count)
    with override_settings(LIST_CACHE_SECONDS=0):
        client.get(urls[0])
        times = [timed(client, url) for url in urls]
    by_kind = {}
    for url, time_and_sql in zip(urls, times, strict=True):
        by_kind.setdefault(kind_of(url), []).append(time_and_sql)
    for kind, kind_times in [*sorted(by_kind.items()), (f"the first {count} addresses", times)]:
        totals, sqls = zip(*kind_times, strict=True)
        print(
            f"{statistics.mean(totals) * 1000:7.1f} {statistics.mean(sqls) * 1000:7.1f}"
            f"  mean of {len(kind_times):4} — {kind}"
        )


def kind_of(url):
    """What a mixed workload address asks for: a search, a group, or a list sorted by what."""
    params = dict(parse_qsl(urlsplit(url).query))
    if "q" in params:
        return "search"
    if "group" in params:
        return "a group's list"
    by = "group" if "subject_group" in params.get("sort", "") else "name or email"
    return f"{params.get('status', 'active')}, sorted by {by}"


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolstaff.settings")
    # DEBUG on, so that each query's time is recorded.
    os.environ.setdefault("DJANGO_DEBUG", "1")
    # Signed in without the login form: a manager, who has staff status, would
    # otherwise be sent to set up a second factor.
    os.environ.setdefault("DJANGO_TWO_FACTOR_REQUIRED", "none")
    import django

    django.setup()
    arguments = sys.argv[1:]
    runs = 15
    if "--runs" in arguments:
        at = arguments.index("--runs")
        runs = int(arguments[at + 1])
        del arguments[at : at + 2]
    if "--mixed" in arguments:
        time_mixed(arguments[0], int(arguments[arguments.index("--mixed") + 1]))
    else:
        time_pages(arguments[0], arguments[1:], runs)
