"""The servers a load scenario runs against, each stopped and removed when it ends."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PYTHON = PROJECT / ".venv" / "bin" / "python"
HOST = "127.0.0.1"


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def stop_process_group(process, grace=15):
    """SIGTERM the group the process leads, then SIGKILL whatever is left."""
    if process is None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; its group may not be.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


class Redis:
    """A private Redis on a free port, keeping nothing on disk."""

    def __init__(self, workdir):
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                HOST,
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--logfile",
                str(workdir / "redis.log"),
            ],
            start_new_session=True,
        )
        if not wait_for_port(self.port, 10):
            self.stop()
            raise RuntimeError(f"Redis did not start; see {workdir / 'redis.log'}")

    def stop(self):
        stop_process_group(self.process)
        self.process = None


class PostgreSQL:
    """The machine's PostgreSQL cluster: a fresh database in it, and the cluster's restarts."""

    def __init__(self, version=None, cluster="main"):
        self.version = version or self.installed_version()
        self.cluster = cluster
        self.database = None
        self.stopped = False

    @staticmethod
    def installed_version():
        versions = sorted(
            os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")]
        )
        return versions[-1]

    def psql(self, sql):
        result = subprocess.run(
            [
                "psql",
                "-h",
                HOST,
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode:
            raise RuntimeError(f"psql -c {sql!r} failed: {result.stderr.strip()}")

    def create_database(self):
        name = f"schoolstaff_load_{secrets.token_hex(4)}"
        self.psql(f"CREATE DATABASE {name}")
        self.database = name
        return f"postgres://postgres@{HOST}:5432/{name}"

    def drop_database(self):
        if self.database:
            self.psql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            self.database = None

    def ctl(self, action):
        result = subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.cluster, action],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode:
            raise RuntimeError(f"pg_ctlcluster {action} failed: {result.stderr.strip()}")

    def stop(self):
        self.stopped = True
        self.ctl("stop")

    def start(self):
        self.ctl("start")
        self.stopped = False

    def ready(self):
        """Whether the cluster accepts connections (pg_isready)."""
        command = ["pg_isready", "-h", HOST, "-p", "5432", "-q", "-t", "1"]
        return subprocess.run(command, timeout=10).returncode == 0

    def ensure_running(self):
        """Start the cluster again if a scenario stopped it and did not get to start it."""
        if self.stopped:
            self.start()


class Site:
    """`make serve` on a free port, in its own process group, with its log in `workdir`."""

    def __init__(self, workdir, database_url, workers, redis_url=""):
        self.workdir = workdir
        self.port = free_port()
        self.workers = workers
        self.log_path = workdir / f"serve-{self.port}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DJANGO_DEBUG": "0",
            "DJANGO_INSECURE_HTTP": "1",
            # A trial on one machine: emails are printed to the server's log.
            "DJANGO_EMAIL_BACKEND": "console",
            "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "PYTHONUNBUFFERED": "1",
        }
        self.process = None

    def manage(self, *args, stdin=None):
        result = subprocess.run(
            [str(PYTHON), "manage.py", *args],
            cwd=PROJECT,
            # The commands' output is read; the audit trail's log lines would mix in.
            env={**self.env, "DJANGO_LOG_LEVEL": "WARNING"},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def query(self, code):
        """Run Python in `manage.py shell` on the site's database; return what it prints as JSON."""
        return json.loads(self.manage("shell", "--verbosity", "0", "--command", code))

    def start(self):
        # The install step has run already (make loadtest depends on it): assume it up to date.
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    "make",
                    "--no-print-directory",
                    "-o",
                    ".venv/installed",
                    "serve",
                    f"HOST={HOST}",
                    f"PORT={self.port}",
                    f"WEB_CONCURRENCY={self.workers}",
                ],
                cwd=PROJECT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"make serve exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self.healthy():
                return
            time.sleep(0.25)
        raise RuntimeError(f"The site did not answer /healthz within 120 s:\n{self.log_tail()}")

    def healthy(self):
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.port}/healthz", timeout=5) as answer:
                return answer.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def stop(self):
        stop_process_group(self.process)
        self.process = None

    def gunicorn_master(self):
        """The gunicorn master: the process `make` runs its recipe as (it execs gunicorn)."""
        children = _children(self.process.pid)
        for pid in children:
            if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        raise RuntimeError("No gunicorn master found under make serve")

    def workers_pids(self):
        return _children(self.gunicorn_master())

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])


def _children(pid):
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(child) for child in text.split()]


def note(message):
    print(message, file=sys.stderr, flush=True)
