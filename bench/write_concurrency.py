"""Time concurrent edits: many managers, each saving a different staff member at once.

    .venv/bin/python -m bench.write_concurrency
    .venv/bin/python -m bench.write_concurrency --clients 20 --seconds 30 --staff 50000 \\
        --workers 4 --threads 5

Self-contained, on the loopback only (bench/demo_site.py): makes a fresh
PostgreSQL database schoolstaff_bench_<random> on BENCH_POSTGRES
(postgres://postgres@127.0.0.1:5432), seeds it (`seed_demo --staff 50000
--groups 40 --seed 1 --manager --member`), runs VACUUM ANALYZE, starts gunicorn
with production settings (4 workers of 5 threads each: 20 requests at a time, so
that every client's request is in the site at once), and at the end stops it and
drops the database.

Each client signs in through the login form as the demo manager, with a session
of its own, as 20 managers at 20 browsers would. Then, until the time is up, it
opens the edit form of its own staff member (no two clients edit the same one)
and saves it with the first name switched between two values, sending the form's
CSRF token and its version back. Every save must answer 302 to the member's
page. Prints the saves per second, the median and 99th percentile time of a
save, the median time of opening the form, and what the database's sessions
were waiting for while the clients ran (sampled from pg_stat_activity).

With --server URL --email EMAIL --password PASSWORD it drives a site that is
already running instead, and makes and removes nothing. Exits 1 if any request
failed.
"""

import argparse
import http.client
import re
import statistics
import sys
import threading
import time
import urllib.parse
from collections import Counter
from html.parser import HTMLParser
from http.cookies import SimpleCookie

from bench.demo_site import HOST, demo_site

# A member's first name is switched between these on every save.
FIRST_NAMES = ("Robin", "Robyn")


def options():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent editors (20)")
    parser.add_argument("--seconds", type=float, default=30, help="how long they edit (30)")
    parser.add_argument("--staff", type=int, default=50_000, help="demo staff seeded (50,000)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (4)")
    parser.add_argument("--threads", type=int, default=5, help="threads of each worker (5)")
    parser.add_argument("--server", help="a running site, http://host:port, instead of a new one")
    parser.add_argument("--email", help="with --server: a manager's email")
    parser.add_argument("--password", help="with --server: that manager's password")
    arguments = parser.parse_args()
    if arguments.server and not (arguments.email and arguments.password):
        parser.error("--server needs --email and --password")
    return arguments


class Answer:
    def __init__(self, status, location, body, seconds):
        self.status = status
        self.location = location
        self.body = body
        self.seconds = seconds


class Browser:
    """Cookies kept between requests, redirects not followed, one connection a request."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.cookies = {}

    def request(self, method, path, fields=None):
        headers = {"Host": f"{self.host}:{self.port}", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as error:
            return Answer(f"{type(error).__name__}: {error}", "", "", 0)
        finally:
            connection.close()
        seconds = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        location = urllib.parse.urlsplit(response.headers.get("Location", "")).path
        return Answer(response.status, location, text, seconds)

    def sign_in(self, email, password):
        page = self.request("GET", "/accounts/login/")
        fields = form_fields(page.body, "username")
        answer = self.request(
            "POST", "/accounts/login/", {**fields, "username": email, "password": password}
        )
        if answer.status != 302 or "sessionid" not in self.cookies:
            sys.exit(f"Signing in as {email} answered {answer.status}, not 302.")


class Forms(HTMLParser):
    """The values each form of a page would submit unchanged."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.form = None
        self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.form = {}
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "input" and attrs.get("name") and attrs.get("type") != "checkbox":
            self.form[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self.select = attrs["name"]
            self.form[self.select] = ""
        elif tag == "option" and self.select and "selected" in attrs:
            self.form[self.select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.form = None


def form_fields(html, field):
    """The fields of the first form on the page that has `field` (the navbar's logout has none)."""
    parser = Forms()
    parser.feed(html)
    return next((form for form in parser.forms if field in form), {})


def staff_to_edit(browser, count):
    """The primary keys of `count` staff whose Edit button the list shows, one per client."""
    keys, page = [], 1
    while len(keys) < count:
        answer = browser.request("GET", f"/staff/?sort=email&page={page}")
        found = [int(pk) for pk in re.findall(r'href="/staff/(\d+)/edit/"', answer.body)]
        if answer.status != 200 or not found:
            sys.exit(f"Only {len(keys)} staff to edit, not {count}.")
        keys += [pk for pk in dict.fromkeys(found) if pk not in keys]
        page += 1
    return keys[:count]


class Results:
    def __init__(self):
        self.saves = []
        self.opens = []
        self.failures = Counter()
        self.lock = threading.Lock()

    def add(self, kind, seconds):
        with self.lock:
            getattr(self, kind).append(seconds)

    def fail(self, what):
        with self.lock:
            self.failures[what] += 1


def edit(browser, pk):
    """Open the member's edit form and save it with the other first name; the save's answer."""
    path = f"/staff/{pk}/edit/"
    form = browser.request("GET", path)
    if form.status != 200:
        return form, None
    fields = form_fields(form.body, "version")
    fields["first_name"] = FIRST_NAMES[fields.get("first_name") == FIRST_NAMES[0]]
    return form, browser.request("POST", path, fields)


def client(browser, pk, start, seconds, results):
    start.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        form, save = edit(browser, pk)
        if save is None:
            results.fail(f"GET /staff/{pk}/edit/ answered {form.status}")
            continue
        results.add("opens", form.seconds)
        if save.status == 302 and save.location == f"/staff/{pk}/":
            results.add("saves", save.seconds)
        else:
            results.fail(f"POST answered {save.status} {save.location}".strip())


def drive(host, port, email, password, clients, seconds, on_start=None):
    """Sign every client in, then let them edit for `seconds`; return results and time."""
    browsers = [Browser(host, port) for _ in range(clients)]
    for browser in browsers:
        browser.sign_in(email, password)
    keys = staff_to_edit(browsers[0], clients)
    for browser, pk in zip(browsers, keys, strict=True):
        edit(browser, pk)  # Warm up each client's path through the site; not counted.
    results = Results()
    start = threading.Barrier(clients + 1)
    threads = [
        threading.Thread(target=client, args=(browser, pk, start, seconds, results))
        for browser, pk in zip(browsers, keys, strict=True)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    if on_start:
        on_start()
    for thread in threads:
        thread.join()
    return results, time.monotonic() - began


class LockSampler(threading.Thread):
    """What the database's active sessions wait for, every 0.2 s, while the clients run."""

    def __init__(self, database_url):
        super().__init__(daemon=True)
        self.database_url = database_url
        self.samples = 0
        self.waits = Counter()
        self.stopped = threading.Event()

    def run(self):
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            while not self.stopped.wait(0.2):
                rows = connection.execute(
                    "SELECT wait_event_type, wait_event, query FROM pg_stat_activity "
                    "WHERE datname = current_database() AND state = 'active' "
                    "AND pid <> pg_backend_pid()"
                ).fetchall()
                self.samples += 1
                for kind, event, query in rows:
                    statement = " ".join(query.split()[:3])[:60]
                    self.waits[f"{kind or 'running'} {event or ''}: {statement}"] += 1

    def report(self):
        if not self.is_alive():
            return
        self.stopped.set()
        self.join()
        print(f"Database sessions, mean over {self.samples} samples (every 0.2 s):")
        for what, count in self.waits.most_common(8):
            print(f"  {count / max(self.samples, 1):5.2f}  {what}")


def run_on_a_new_site(arguments):
    with demo_site("postgres", arguments.staff, arguments.workers, arguments.threads) as site:
        sampler = LockSampler(site.database_url)
        code = measure(arguments, HOST, site.port, *site.logins["manager"], sampler.start)
        sampler.report()
        return code


def measure(arguments, host, port, email, password, on_start=None):
    where = (
        f"gunicorn {arguments.workers} workers x {arguments.threads} threads, PostgreSQL, "
        f"{arguments.staff} staff"
        if not arguments.server
        else arguments.server
    )
    print(f"{arguments.clients} clients editing for {arguments.seconds:g} s ({where}) ...")
    results, elapsed = drive(
        host, port, email, password, arguments.clients, arguments.seconds, on_start
    )
    saves = results.saves
    if saves:
        p50 = statistics.median(saves) * 1000
        p99 = statistics.quantiles(saves, n=100)[98] * 1000 if len(saves) > 1 else p50
        opened = statistics.median(results.opens) * 1000
        print(
            f"saves: {len(saves)} in {elapsed:.1f} s, {len(saves) / elapsed:.1f}/s; "
            f"save p50 {p50:.1f} ms, p99 {p99:.1f} ms; edit form p50 {opened:.1f} ms"
        )
    for failure, count in results.failures.most_common():
        print(f"FAILED {count} x {failure}")
    if results.failures or not saves:
        return 1
    print("Every save answered 302 to the member's page.")
    return 0


def main():
    arguments = options()
    if arguments.server:
        address = urllib.parse.urlsplit(arguments.server)
        return measure(
            arguments, address.hostname, address.port or 80, arguments.email, arguments.password
        )
    return run_on_a_new_site(arguments)


if __name__ == "__main__":
    sys.exit(main())
