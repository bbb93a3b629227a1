"""Time list pages in-process, whole request and SQL, with the list cache off.

    python -m bench.in_process EMAIL URL... [--runs N]

Django's test client on the database of the environment, signed in as EMAIL:
the median of N requests (default 15) after one to warm up, in milliseconds,
one "total sql url" a line, and each page's time as a multiple of the first's.
"""

import os
import statistics
import sys
import time


def time_pages(email, urls, runs):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(email=email))
    first = None
    with override_settings(LIST_CACHE_SECONDS=0):
        for url in urls:
            client.get(url)
            totals, sqls = [], []
            for _ in range(runs):
                with CaptureQueriesContext(connection) as queries:
                    start = time.perf_counter()
                    response = client.get(url)
                    totals.append(time.perf_counter() - start)
                if response.status_code != 200:
                    sys.exit(f"{url} answered {response.status_code}, not 200.")
                sqls.append(sum(float(query["time"]) for query in queries))
            total, sql = statistics.median(totals) * 1000, statistics.median(sqls) * 1000
            first = first or total
            print(f"{total:7.1f} {sql:7.1f} {total / first:5.1f}x  {url}")


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
    time_pages(arguments[0], arguments[1:], runs)
