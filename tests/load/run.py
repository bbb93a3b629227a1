"""Fault-and-load test of the production server, on the loopback only; docs/reliability.md.

    make loadtest                      # every scenario, 20 clients, 30 seconds each
    LOAD_SECONDS=5 LOAD_CLIENTS=4 make loadtest
    .venv/bin/python tests/load/run.py --only sqlite,worker-kill

Starts `make serve` on free ports against a temporary SQLite file, and against a
fresh PostgreSQL database (created and dropped here) with a private Redis, drives
it with signed-in clients, restarts PostgreSQL and kills a gunicorn worker on
the way, and prints one table. Exits 1 if any scenario fails.
"""

import argparse
import contextlib
import itertools
import os
import random
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

from client import CONNECTION_ERROR, Browser, Recorder, find_form
from servers import HOST, PostgreSQL, Redis, Site, note

SCENARIOS = ("sqlite", "worker-kill", "postgres", "pg-restart")
LOAD_DOMAIN = "load.school.example"
# What the edit form answers, with the form again, when someone else saved the record first.
CONCURRENT_EDIT_REFUSAL = re.compile(r"Someone else changed this record")
# Requests of each kind, out of 100, in a mixed load; a read load has no create or edit.
MIXED_LOAD = {"list": 25, "search": 20, "detail": 20, "subjects": 5, "create": 12, "edit": 18}
READ_LOAD = {"home": 10, "list": 35, "search": 25, "detail": 25, "subjects": 5}


def options():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(os.environ.get("LOAD_SECONDS", 30)),
        help="length of each load (LOAD_SECONDS, 30)",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=int(os.environ.get("LOAD_CLIENTS", 20)),
        help="concurrent signed-in clients (LOAD_CLIENTS, 20)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", 2)),
        help="gunicorn workers (WEB_CONCURRENCY, 2)",
    )
    parser.add_argument(
        "--outage",
        type=float,
        default=float(os.environ.get("LOAD_OUTAGE_SECONDS", 3)),
        help="how long PostgreSQL stays stopped (LOAD_OUTAGE_SECONDS, 3)",
    )
    parser.add_argument(
        "--recovery-limit",
        type=float,
        default=float(os.environ.get("LOAD_RECOVERY_LIMIT", 10)),
        help="longest acceptable recovery, in seconds (LOAD_RECOVERY_LIMIT, 10)",
    )
    parser.add_argument(
        "--only",
        default=os.environ.get("LOAD_SCENARIOS", ",".join(SCENARIOS)),
        help=f"comma-separated scenarios (LOAD_SCENARIOS): {', '.join(SCENARIOS)}",
    )
    opts = parser.parse_args()
    opts.only = [name.strip() for name in opts.only.split(",") if name.strip()]
    unknown = set(opts.only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario: {', '.join(sorted(unknown))}")
    return opts


@dataclass
class Result:
    name: str
    answers: list = field(default_factory=list)
    rows_expected: int | None = None
    rows_found: int | None = None
    recovery: str = "—"
    failures: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def passed(self):
        return not self.failures


# Preparing a site: accounts for the clients, demo staff to read and edit
# ------------------------------------------------------------------------------
PREPARE = """
import json
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from accounts.models import Staff
from subjects.models import SubjectGroup

managers = Group.objects.get(name="Staff managers")
password = make_password({password!r})
for i in range(1, {clients}):
    staff = Staff.objects.create(
        email=f"manager.{{i}}@{domain}", first_name="Load", last_name=f"Manager {{i}}",
        password=password,
    )
    staff.groups.add(managers)
demo = Staff.objects.filter(email__endswith="@demo.school.example", is_superuser=False)
print(json.dumps({{
    "staff": list(demo.values_list("pk", flat=True)),
    "names": sorted(set(demo.values_list("last_name", flat=True)))[:40],
}}))
"""


@dataclass
class Fixture:
    accounts: list  # (email, password) for each client
    staff_ids: list  # demo staff anyone may read and managers may edit
    names: list  # last names to search for


def prepare(site, clients):
    """Migrate, add demo staff and one account per client: a superuser and Staff managers."""
    password = secrets.token_urlsafe(18)
    site.manage("migrate", "--noinput", "--verbosity", "0")
    site.manage("seed_demo", "--staff", "300", "--groups", "8", "--seed", "1")
    superuser = f"manager.0@{LOAD_DOMAIN}"
    site.env.update(
        DJANGO_SUPERUSER_EMAIL=superuser,
        DJANGO_SUPERUSER_PASSWORD=password,
        DJANGO_SUPERUSER_FIRST_NAME="Load",
        DJANGO_SUPERUSER_LAST_NAME="Superuser",
    )
    site.manage("createsuperuser", "--noinput", "--verbosity", "0")
    found = site.query(PREPARE.format(password=password, clients=clients, domain=LOAD_DOMAIN))
    accounts = [(f"manager.{i}@{LOAD_DOMAIN}", password) for i in range(clients)]
    return Fixture(accounts, found["staff"], found["names"])


def sign_in_all(site, fixture, recorder):
    browsers = []
    for email, password in fixture.accounts:
        browser = Browser(HOST, site.port, recorder)
        browser.sign_in(email, password)
        browsers.append(browser)
    return browsers


# The clients
# ------------------------------------------------------------------------------
@dataclass
class Write:
    """A create or an edit, and how it ended: saved, refused, or unknown (no answer)."""

    kind: str
    started: float
    ended: float
    outcome: str  # "saved", "refused", "unknown", "error"
    email: str = ""
    pk: int | None = None
    names: tuple = ()


class Workload:
    """What every client of one load shares: what to ask for, and what was written."""

    def __init__(self, fixture, mix, run_id):
        self.fixture = fixture
        self.kinds = list(mix)
        self.weights = list(mix.values())
        self.run_id = run_id
        # A few records that every client edits, so that edits do collide.
        self.hot = fixture.staff_ids[:10]
        self.created = []
        self.writes = []
        self.lock = threading.Lock()

    def record(self, write):
        with self.lock:
            self.writes.append(write)
            if write.outcome == "saved" and write.kind == "create":
                self.created.append(write.pk)

    def edit_target(self, rng):
        with self.lock:
            created = list(self.created[-50:])
        if created and rng.random() < 0.3:
            return rng.choice(created)
        return rng.choice(self.hot)


class Client(threading.Thread):
    def __init__(self, number, browser, workload, stop):
        super().__init__(name=f"load-client-{number}", daemon=True)
        self.number = number
        self.browser = browser
        self.workload = workload
        self.stop = stop
        self.rng = random.Random(f"{workload.run_id}-{number}")
        self.serials = itertools.count(1)
        self.crashed = None

    def run(self):
        try:
            while not self.stop.is_set():
                kind = self.rng.choices(self.workload.kinds, self.workload.weights)[0]
                getattr(self, f"do_{kind}")()
        except Exception as error:  # A bug here must not pass for a quiet client.
            self.crashed = f"{type(error).__name__}: {error}"

    def do_home(self):
        self.browser.get("home", "/")

    def do_list(self):
        page = self.rng.randint(1, 12)
        sort = self.rng.choice(["", "&sort=first_name", "&sort=-email", "&sort=subject_group"])
        self.browser.get("list", f"/staff/?page={page}{sort}")

    def do_search(self):
        term = self.rng.choice([*self.workload.fixture.names, "load", "edit", "smith"])
        self.browser.get("search", f"/staff/?q={quote_plus(term)}&status=all")

    def do_detail(self):
        self.browser.get("detail", f"/staff/{self.rng.choice(self.workload.fixture.staff_ids)}/")

    def do_subjects(self):
        self.browser.get("subjects", "/subjects/")

    def do_create(self):
        page = self.browser.get("create", "/staff/add/")
        form = find_form(page.body, "email") if page.status == 200 else None
        if form is None:
            return
        serial = next(self.serials)
        email = f"load.{self.workload.run_id}.{self.number}.{serial}@{LOAD_DOMAIN}"
        fields = dict(
            form.fields,
            email=email,
            first_name=f"New{self.number}",
            last_name=f"Load {self.workload.run_id} {serial}",
        )
        groups = [value for value in form.options.get("subject_group", []) if value]
        if groups:
            fields["subject_group"] = self.rng.choice(groups)
        # A typed first password: with both blank an invitation is emailed, and invitations
        # are meant to be rate limited per client IP, which every client here shares.
        fields["password1"] = fields["password2"] = secrets.token_urlsafe(15)
        answer = self.browser.post("create", "/staff/add/", fields)
        self.workload.record(self.write_of("create", answer, email=email))

    def do_edit(self):
        pk = self.workload.edit_target(self.rng)
        path = f"/staff/{pk}/edit/"
        page = self.browser.get("edit", path)
        form = find_form(page.body, "first_name") if page.status == 200 else None
        if form is None:
            return
        # Every field the form has, hidden ones included, as a browser sends them; new names.
        names = (f"Edited{self.number}x{next(self.serials)}", f"Load {self.workload.run_id} edit")
        fields = dict(form.fields, first_name=names[0], last_name=names[1])
        answer = self.browser.post("edit", path, fields)
        self.workload.record(self.write_of("edit", answer, pk=pk, names=names))

    def write_of(self, kind, answer, email="", pk=None, names=()):
        if answer.status == 302 and re.fullmatch(r"/staff/\d+/", answer.location):
            outcome = "saved"
            pk = int(answer.location.split("/")[2])
        elif is_refusal(answer):
            outcome = "refused"
        elif answer.status == CONNECTION_ERROR or answer.server_error:
            outcome = "unknown"
        else:
            outcome = "error"
        return Write(kind, answer.started, answer.ended, outcome, email, pk, names)


def is_refusal(answer):
    """The edit form again, saying someone else saved the record first: a correct answer."""
    return answer.status in (200, 409) and bool(CONCURRENT_EDIT_REFUSAL.search(answer.body))


def run_load(browsers, workload, seconds, during=None):
    """Run every client until `seconds` pass (or `during`, if given, returns and says stop)."""
    stop = threading.Event()
    clients = [Client(i, b, workload, stop) for i, b in enumerate(browsers)]
    started = time.monotonic()
    for client in clients:
        client.start()
    try:
        if during:
            during(started)
        else:
            time.sleep(seconds)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=60)
    return started, [f"{c.name}: {c.crashed}" for c in clients if c.crashed]


# Checks
# ------------------------------------------------------------------------------
ROWS = """
import json
from django.db.models import Count
from django.db.models.functions import Lower
from accounts.models import Staff
rows = Staff.objects.filter(email__startswith={prefix!r})
duplicates = (
    Staff.objects.annotate(address=Lower("email")).values("address")
    .annotate(n=Count("pk")).filter(n__gt=1).values_list("address", flat=True)
)
print(json.dumps({{
    "created": list(rows.values_list("email", "pk")),
    "duplicates": list(duplicates),
    "names": {{
        str(pk): [first, last]
        for pk, first, last in Staff.objects.filter(pk__in={edited!r})
        .values_list("pk", "first_name", "last_name")
    }},
}}))
"""


def latency_note(result):
    """Median and 95th percentile answer time of each kind of request, in milliseconds."""
    kinds = {}
    for answer in result.answers:
        kinds.setdefault(f"{answer.method} {answer.kind}", []).append(answer.seconds)
    parts = []
    for kind, times in sorted(kinds.items()):
        times.sort()
        p50, p95 = times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.95))]
        parts.append(f"{kind} {len(times)}× {p50 * 1000:.0f}/{p95 * 1000:.0f}")
    result.notes.append("ms p50/p95: " + ", ".join(parts))


def check_answers(result, allowed=(200, 302)):
    """Every answer has an allowed status, and none shows a traceback."""
    unexpected = [a for a in result.answers if a.status not in allowed and not is_refusal(a)]
    if unexpected:
        first = unexpected[0]
        result.failures.append(
            f"{len(unexpected)} answers not {'/'.join(map(str, allowed))}; the first: "
            f"{first.method} {first.path} answered {first.status} {first.error}".rstrip()
        )
    for answer in result.answers:
        if "Traceback" in answer.body:
            result.failures.append(f"{answer.method} {answer.path} showed a traceback")
            break


def check_writes(result, site, workload):
    """Every saved create is in the database once, and no edit was lost."""
    writes = workload.writes
    creates = [w for w in writes if w.kind == "create"]
    edits = [w for w in writes if w.kind == "edit"]
    edited = sorted({w.pk for w in edits if w.outcome in {"saved", "unknown"}})
    prefix = f"load.{workload.run_id}."
    found = site.query(ROWS.format(prefix=prefix, edited=edited))
    in_database = dict(found["created"])
    saved = {w.email: w.pk for w in creates if w.outcome == "saved"}
    unknown = {w.email for w in creates if w.outcome == "unknown"}
    result.rows_expected = len(saved)
    result.rows_found = len(set(saved) & set(in_database))
    outcomes = Counter(f"{w.kind} {w.outcome}" for w in writes)
    result.notes.append("writes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    missing = sorted(set(saved) - set(in_database))
    if missing:
        result.failures.append(f"{len(missing)} saved creates not in the database: {missing[:3]}")
    moved = [e for e, pk in saved.items() if e in in_database and in_database[e] != pk]
    if moved:
        result.failures.append(f"{len(moved)} creates redirected to another record: {moved[:3]}")
    extra = sorted(set(in_database) - set(saved) - unknown)
    if extra:
        result.failures.append(f"{len(extra)} creates answered as failed are in the database")
    if found["duplicates"]:
        result.failures.append(f"duplicate emails: {found['duplicates'][:3]}")
    errors = [w for w in writes if w.outcome == "error"]
    if errors:
        result.failures.append(f"{len(errors)} writes answered neither saved nor refused")
    lost = []
    for pk in edited:
        mine = [w for w in edits if w.pk == pk]
        saved_edits = [w for w in mine if w.outcome == "saved"]
        # The last save is one that no saved edit started after: any of them may have won.
        last = [
            w
            for w in mine
            if w.outcome in {"saved", "unknown"}
            and not any(o.started > w.ended for o in saved_edits)
        ]
        if tuple(found["names"].get(str(pk), ())) not in {w.names for w in last}:
            lost.append(pk)
    result.notes.append(f"edited records checked: {len(edited)}, lost edits: {len(lost)}")
    if lost:
        result.failures.append(f"lost edits on staff {lost[:5]}")


def server_log_errors(site, limit=5):
    """The server's error lines, server errors (500) first: the evidence for a failure."""
    lines = [
        line
        for line in site.log_text().splitlines()
        if " ERROR " in line or "[ERROR]" in line or "[CRITICAL]" in line or "Traceback" in line
    ]
    lines.sort(key=lambda line: "Internal Server Error" not in line)
    return [line[:800] for line in lines[:limit]]


def add_log_evidence(result, site):
    if not result.passed:
        result.notes.extend(f"log: {line}" for line in server_log_errors(site))


# Scenarios
# ------------------------------------------------------------------------------
def mixed_load(name, site, browsers, fixture, opts):
    """Scenario 1: reads and writes from every client; nothing lost, nothing doubled."""
    result = Result(name)
    recorder = Recorder()
    for browser in browsers:
        browser.recorder = recorder
    workload = Workload(fixture, MIXED_LOAD, secrets.token_hex(3))
    _, crashed = run_load(browsers, workload, opts.seconds)
    result.answers = recorder.snapshot()
    result.failures.extend(f"client crashed: {c}" for c in crashed)
    check_answers(result)
    latency_note(result)
    check_writes(result, site, workload)
    add_log_evidence(result, site)
    return result


def worker_kill(site, browsers, fixture, opts):
    """Scenario 3: SIGKILL one gunicorn worker half-way through a mixed load."""
    result = Result("3. worker killed, mixed load (SQLite)")
    recorder = Recorder()
    for browser in browsers:
        browser.recorder = recorder
    workload = Workload(fixture, MIXED_LOAD, secrets.token_hex(3))
    events = {}

    def kill_half_way(started):
        time.sleep(opts.seconds / 2)
        before = site.workers_pids()
        victim = before[0]
        events["killed"] = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = site.workers_pids()
            if len(now) == len(before) and victim not in now:
                events["replaced"] = time.monotonic()
                break
            time.sleep(0.05)
        result.notes.append(f"killed worker {victim}; workers before {before}, after {now}")
        result.notes.extend(
            f"log: {line}" for line in site.log_text().splitlines() if f"pid:{victim}" in line
        )
        time.sleep(max(0.0, started + opts.seconds - time.monotonic()))

    _, crashed = run_load(browsers, workload, opts.seconds, during=kill_half_way)
    result.answers = recorder.snapshot()
    result.failures.extend(f"client crashed: {c}" for c in crashed)
    latency_note(result)
    killed, replaced = events.get("killed"), events.get("replaced")
    failed = [a for a in result.answers if a.status == CONNECTION_ERROR or a.server_error]
    if replaced is None:
        result.failures.append("gunicorn did not replace the killed worker within 30 s")
    else:
        result.recovery = f"new worker in {replaced - killed:.2f} s"
        after = [a for a in result.answers if a.started > replaced + 1]
        if not after or any(not a.ok for a in after):
            bad = [a for a in after if not a.ok]
            result.failures.append(
                f"after the replacement: {len(after)} requests, {len(bad)} failed"
            )
    if len(failed) > opts.clients:
        result.failures.append(f"{len(failed)} failed requests, more than {opts.clients} clients")
    for answer in result.answers:
        if answer.status not in (200, 302, CONNECTION_ERROR) and not answer.server_error:
            result.failures.append(f"{answer.method} {answer.path} answered {answer.status}")
            break
    if killed is not None:
        late = [a for a in failed if a.started > killed + 1]
        if late:
            result.failures.append(f"{len(late)} requests failed that started after the kill")
    check_writes(result, site, workload)
    add_log_evidence(result, site)
    return result


def pg_restart(site, browsers, fixture, postgresql, opts):
    """Scenario 2: stop PostgreSQL under a read load, start it again, time the recovery."""
    result = Result("2. PostgreSQL restarted under a read load")
    recorder = Recorder()
    for browser in browsers:
        browser.recorder = recorder
    workload = Workload(fixture, READ_LOAD, secrets.token_hex(3))
    events = {}
    health = []
    processes_before = (site.gunicorn_master(), sorted(site.workers_pids()))

    def restart_in_the_middle(started):
        stop = threading.Event()
        monitor = threading.Thread(target=watch_health, args=(site, health, stop), daemon=True)
        monitor.start()
        try:
            time.sleep(max(2.0, opts.seconds / 3))
            events["stopping"] = time.monotonic()
            postgresql.stop()
            events["stopped"] = time.monotonic()
            time.sleep(opts.outage)
            events["starting"] = time.monotonic()
            starting = threading.Thread(target=postgresql.start)
            starting.start()
            # Back when it accepts connections, which is before pg_ctlcluster returns.
            while not postgresql.ready() and starting.is_alive():
                time.sleep(0.05)
            events["back"] = time.monotonic()
            starting.join()
            if postgresql.stopped:
                raise RuntimeError("pg_ctlcluster start failed")
            time.sleep(max(10.0, started + opts.seconds - time.monotonic()))
        finally:
            stop.set()
            monitor.join(timeout=10)

    _, crashed = run_load(browsers, workload, opts.seconds, during=restart_in_the_middle)
    result.answers = recorder.snapshot()
    result.failures.extend(f"client crashed: {c}" for c in crashed)
    check_answers(result, allowed=(200, 503))
    latency_note(result)
    unavailable = [a for a in result.answers if a.status == 503]
    not_styled = [a for a in unavailable if "Temporarily unavailable" not in a.body]
    if not_styled:
        result.failures.append(f"{len(not_styled)} 503 answers without the 503 page")
    if not unavailable:
        result.failures.append("no request met the outage: no 503 page was seen")
    stopping, back = events.get("stopping"), events.get("back")
    if back is None:
        result.failures.append("PostgreSQL was not restarted")
    else:
        early = [a for a in unavailable if a.ended < stopping]
        if early:
            result.failures.append(f"{len(early)} 503 answers before PostgreSQL was stopped")
        last_bad = max((a.ended for a in result.answers if a.status != 200), default=back)
        recovery = max(0.0, last_bad - back)
        health_back = next((t for t, ok in health if t >= back and ok), None)
        health_text = f"{health_back - back:.2f} s" if health_back else "never"
        result.recovery = f"{recovery:.2f} s pages, {health_text} /healthz"
        result.notes.append(
            f"PostgreSQL stop took {events['stopped'] - stopping:.2f} s, stopped for "
            f"{events['starting'] - events['stopped']:.2f} s, accepted connections "
            f"{back - events['starting']:.2f} s after its start began; "
            f"{len(unavailable)} answers were the 503 page, the last "
            f"{last_bad - back:+.2f} s from then"
        )
        if recovery > opts.recovery_limit:
            result.failures.append(f"recovered in {recovery:.2f} s, over {opts.recovery_limit} s")
        after = [a for a in result.answers if a.started > last_bad]
        if not after:
            result.failures.append("no successful request after the restart")
    processes_after = (site.gunicorn_master(), sorted(site.workers_pids()))
    if processes_after != processes_before:
        result.failures.append(
            f"gunicorn processes changed: {processes_before} -> {processes_after}"
        )
    add_log_evidence(result, site)
    return result


def watch_health(site, health, stop):
    while not stop.is_set():
        health.append((time.monotonic(), site.healthy()))
        time.sleep(0.2)


# Running the scenarios and the table
# ------------------------------------------------------------------------------
def run_sqlite(opts, workdir, results):
    wanted = [s for s in ("sqlite", "worker-kill") if s in opts.only]
    if not wanted:
        return
    site = Site(workdir, f"sqlite:///{workdir / 'db.sqlite3'}", opts.workers)
    with contextlib.ExitStack() as stack:
        stack.callback(site.stop)
        note(f"SQLite: preparing {workdir / 'db.sqlite3'} ...")
        fixture = prepare(site, opts.clients)
        site.start()
        note(f"SQLite: serving on {HOST}:{site.port}; signing in {opts.clients} clients ...")
        browsers = sign_in_all(site, fixture, Recorder())
        if "sqlite" in wanted:
            note(f"Scenario 1 on SQLite: {opts.clients} clients, {opts.seconds:g} s ...")
            results.append(mixed_load("1. mixed load, SQLite", site, browsers, fixture, opts))
        if "worker-kill" in wanted:
            note(f"Scenario 3: a worker killed mid-load, {opts.seconds:g} s ...")
            results.append(worker_kill(site, browsers, fixture, opts))


def run_postgresql(opts, workdir, results):
    wanted = [s for s in ("postgres", "pg-restart") if s in opts.only]
    if not wanted:
        return
    postgresql = PostgreSQL()
    with contextlib.ExitStack() as stack:
        redis = Redis(workdir)
        stack.callback(redis.stop)
        url = postgresql.create_database()
        stack.callback(postgresql.drop_database)
        # Runs before the database is dropped: a stopped cluster is started again.
        stack.callback(postgresql.ensure_running)
        site = Site(workdir, url, opts.workers, redis_url=redis.url)
        stack.callback(site.stop)
        note(f"PostgreSQL: preparing database {postgresql.database}, Redis on {redis.port} ...")
        fixture = prepare(site, opts.clients)
        site.start()
        note(f"PostgreSQL: serving on {HOST}:{site.port}; signing in {opts.clients} clients ...")
        browsers = sign_in_all(site, fixture, Recorder())
        if "postgres" in wanted:
            note(
                f"Scenario 1 on PostgreSQL + Redis: {opts.clients} clients, {opts.seconds:g} s ..."
            )
            results.append(
                mixed_load("1. mixed load, PostgreSQL + Redis", site, browsers, fixture, opts)
            )
        if "pg-restart" in wanted:
            note(f"Scenario 2: PostgreSQL {postgresql.version} restarted under a read load ...")
            results.append(pg_restart(site, browsers, fixture, postgresql, opts))


def status_summary(answers):
    counts = Counter(a.status for a in answers if not a.ok or a.server_error)
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(counts.items()) if s != CONNECTION_ERROR)
    return statuses or "none", counts.get(CONNECTION_ERROR, 0)


def table(results):
    lines = [
        "| Scenario | Requests | Req/s | Errors by status | Connection errors "
        "| Rows expected / found | Recovery | Result |",
        "| --- | ---: | ---: | --- | ---: | ---: | --- | --- |",
    ]
    for result in results:
        answers = result.answers
        span = (max(a.ended for a in answers) - min(a.started for a in answers)) if answers else 0
        rate = f"{len(answers) / span:.0f}" if span else "—"
        statuses, connection_errors = status_summary(answers)
        rows = (
            f"{result.rows_expected} / {result.rows_found}"
            if result.rows_expected is not None
            else "—"
        )
        lines.append(
            f"| {result.name} | {len(answers)} | {rate} | {statuses} | {connection_errors} "
            f"| {rows} | {result.recovery} | {'PASS' if result.passed else 'FAIL'} |"
        )
    return "\n".join(lines)


def interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    opts = options()
    # Ctrl-C, kill and a closed terminal all stop the servers and drop the database.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    workdir = Path(tempfile.mkdtemp(prefix="schoolstaff-load."))
    results = []
    note(f"Load test: {opts.clients} clients, {opts.seconds:g} s a load, {opts.workers} workers")
    try:
        for group in (run_sqlite, run_postgresql):
            try:
                group(opts, workdir, results)
            except Exception as error:
                traceback.print_exc()
                failed = Result(f"{group.__name__.removeprefix('run_')}: setup")
                failed.failures.append(f"{type(error).__name__}: {error}")
                results.append(failed)
    except KeyboardInterrupt:
        note("Interrupted: servers stopped, database dropped.")
        raise
    finally:
        keep_logs = any(not r.passed for r in results)
        for path in workdir.iterdir():
            if not (keep_logs and path.suffix == ".log"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        if not keep_logs:
            workdir.rmdir()
    print()
    print(table(results))
    for result in results:
        for line in result.failures:
            print(f"FAIL {result.name}: {line}")
        for line in result.notes:
            print(f"     {result.name}: {line}")
    if keep_logs:
        print(f"Server logs kept in {workdir}")
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
