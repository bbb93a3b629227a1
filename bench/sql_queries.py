"""Print how many SQL queries each page runs for a signed-in user, one "count URL" a line.

    python -m bench.sql_queries EMAIL URL... [--sql]

Uses the database and settings of the environment, as the benchmarked server does.
"""

import os
import sys

import django

# Transaction control (ATOMIC_REQUESTS) is not a query that reads anything.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def count_queries(email, urls, show_sql=False):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(email=email))
    for url in urls:
        client.get(url)  # Warm up, so that the count is every request's.
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"{url} answered {response.status_code}, not 200.")
        sql = [q["sql"] for q in queries if not q["sql"].upper().startswith(TRANSACTION_CONTROL)]
        print(len(sql), url)
        if show_sql:
            for statement in sql:
                print("   ", statement)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolstaff.settings")
    # Signed in without the login form: a manager, who has staff status, would
    # otherwise be sent to set up a second factor.
    os.environ.setdefault("DJANGO_TWO_FACTOR_REQUIRED", "none")
    django.setup()
    arguments = [argument for argument in sys.argv[1:] if argument != "--sql"]
    count_queries(arguments[0], arguments[1:], show_sql="--sql" in sys.argv)
