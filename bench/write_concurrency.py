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
import re
import statistics
import sys
import threading
import time
import urllib.parse
from collections import Counter

from bench.demo_site import HOST, demo_site
from tests.load.client import Browser, Recorder, SignInFailed, find_form

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


def staff_to_edit(browser, count):
    """The primary keys of `count` staff whose Edit button the list shows, one per client."""
    keys, page = [], 1
    while len(keys) < count:
        answer = browser.get("list", f"/staff/?sort=email&page={page}")
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
    page = browser.get("edit form", path)
    form = find_form(page.body, "version") if page.status == 200 else None
    if form is None:
        return page, None
    fields = dict(form.fields)
    fields["first_name"] = FIRST_NAMES[fields.get("first_name") == FIRST_NAMES[0]]
    return page, browser.post("save", path, fields)


def client(browser, pk, start, seconds, results):
    start.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        form, save = edit(browser, pk)
        if save is None:
            results.fail(f"GET /staff/{pk}/edit/ answered {form.status}")
            continue
        results.add("opens", form.seconds)
        if save.status == 302 and urllib.parse.urlsplit(save.location).path == f"/staff/{pk}/":
            results.add("saves", save.seconds)
        else:
            results.fail(f"POST answered {save.status} {save.location}".strip())


def drive(host, port, email, password, clients, seconds, on_start=None):
    """Sign every client in, then let them edit for `seconds`; return results and time."""
    # Each answer is also kept by the browser's recorder, which nothing here reads.
    browsers = [Browser(host, port, Recorder(), timeout=60) for _ in range(clients)]
    for browser in browsers:
        try:
            browser.sign_in(email, password)
        except SignInFailed as failure:
            sys.exit(str(failure))
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
