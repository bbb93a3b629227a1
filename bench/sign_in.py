"""Time signing in by password (Argon2id): sign-ins one after another, each a new browser.

    .venv/bin/python -m bench.sign_in                  # 30 sign-ins, SQLite, 50,000 staff
    .venv/bin/python -m bench.sign_in --count 50 --database postgres

On a demo site of its own (bench/demo_site.py: gunicorn with 2 workers, as
bench/run.sh serves it), as the demo member: each sign-in opens the login page
(the CSRF cookie and token), then posts the email and password. Every one must
succeed (302), so no lockout can follow. Prints the median, 90th percentile and
fastest time of the POST, the median of the login page's GET beside it, and the
median time of one password check in this process (Django's Argon2 hasher, as
configured), the part of a sign-in that is hashing.
"""

import argparse
import os
import statistics
import sys
import time

from bench.demo_site import HOST, demo_site
from tests.load.client import Browser, Recorder, find_form


def password_check_ms(runs=20):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolstaff.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password("correct horse battery staple")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        assert check_password("correct horse battery staple", encoded)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, "$".join(encoded.split("$")[:4])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=30, help="sign-ins (30)")
    parser.add_argument("--staff", type=int, default=50_000, help="demo staff seeded (50,000)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    arguments = parser.parse_args()
    posts, gets = [], []
    with demo_site(arguments.database, arguments.staff, workers=2) as site:
        email, password = site.logins["member"]
        for _ in range(arguments.count + 1):
            browser = Browser(HOST, site.port, Recorder())
            page = browser.get("login page", "/accounts/login/")
            form = find_form(page.body, "username")
            fields = {**form.fields, "username": email, "password": password}
            answer = browser.post("sign-in", "/accounts/login/", fields)
            if answer.status != 302 or answer.location != "/":
                sys.exit(f"Signing in answered {answer.status} {answer.location}, not 302 to /.")
            gets.append(page.seconds * 1000)
            posts.append(answer.seconds * 1000)
    # The first sign-in of a fresh server is its warm-up.
    posts, gets = posts[1:], gets[1:]
    hashing, algorithm = password_check_ms()
    print(
        f"{arguments.count} sign-ins as the member ({arguments.database}, {arguments.staff} "
        f"staff, gunicorn 2 workers): POST p50 {statistics.median(posts):.1f} ms, "
        f"p90 {statistics.quantiles(posts, n=10)[8]:.1f}, fastest {min(posts):.1f}; "
        f"login page GET p50 {statistics.median(gets):.1f} ms"
    )
    print(f"one password check in-process: {hashing:.1f} ms ({algorithm})")


if __name__ == "__main__":
    main()
