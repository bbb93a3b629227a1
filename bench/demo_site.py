"""A demo site of its own for a benchmark: a fresh database, seeded, served by gunicorn.

    with demo_site("postgres", staff=50_000, workers=4, threads=5) as site:
        ...  # site.port, site.database_url, site.logins["manager"] == (email, password)

On the loopback only, with production settings over plain HTTP, as bench/run.sh
runs the site. SQLite: a file in a temporary folder. PostgreSQL: a database
schoolstaff_bench_<random> on BENCH_POSTGRES (postgres://postgres@127.0.0.1:5432),
analysed after seeding. Everything is stopped and removed at the end.
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PYTHON = str(PROJECT / ".venv" / "bin" / "python")
HOST = "127.0.0.1"


@dataclass
class Site:
    port: int
    database_url: str
    logins: dict  # "manager" and "member": (email, password)


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def psql(url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True)


@contextmanager
def demo_site(database, staff, workers, threads=1):
    """Serve `staff` demo staff in 40 groups, the demo manager and the demo member."""
    postgres = os.environ.get("BENCH_POSTGRES", f"postgres://postgres@{HOST}:5432")
    work = Path(tempfile.mkdtemp(prefix="schoolstaff-bench-"))
    if database == "postgres":
        name = f"schoolstaff_bench_{secrets.token_hex(4)}"
        database_url = f"{postgres}/{name}"
    else:
        name = None
        database_url = f"sqlite:///{work / 'db.sqlite3'}"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        # Production settings, over plain HTTP on the loopback only.
        "DJANGO_DEBUG": "0",
        "DJANGO_INSECURE_HTTP": "1",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_EMAIL_BACKEND": "console",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # Warnings only: the audit trail logs a line for each seeded member and each save.
        "DJANGO_LOG_LEVEL": "WARNING",
        # Benchmarks sign in by password; the demo manager has staff status, and
        # administrators are otherwise asked for a second factor.
        "DJANGO_TWO_FACTOR_REQUIRED": "none",
    }

    def manage(*command):
        return subprocess.run(
            [PYTHON, "manage.py", *command],
            cwd=PROJECT,
            env=environment,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout

    server = None
    if name:
        psql(f"{postgres}/postgres", f"CREATE DATABASE {name}")
    try:
        print(f"Preparing {staff} staff in {name or work} ...", file=sys.stderr, flush=True)
        manage("migrate", "--noinput", "--verbosity", "0")
        seeded = manage(
            "seed_demo", f"--staff={staff}", "--groups=40", "--seed=1", "--manager", "--member"
        )
        logins = {
            kind: re.search(rf"as ({kind}@\S+) with the password (\S+)$", seeded, re.M).groups()
            for kind in ("manager", "member")
        }
        if name:
            psql(database_url, "VACUUM ANALYZE")
        port = free_port()
        server = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "schoolstaff.wsgi:application", "--log-level=warning"]
            + [f"--workers={workers}", f"--threads={threads}", f"--bind={HOST}:{port}"],
            cwd=PROJECT,
            env=environment,
            start_new_session=True,
        )
        wait_for(port)
        yield Site(port, database_url, logins)
    finally:
        if server:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if name:
            psql(f"{postgres}/postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


def wait_for(port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start on port {port}.")
