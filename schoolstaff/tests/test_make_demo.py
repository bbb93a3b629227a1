import os
import stat
import subprocess
from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture
def stand_in(tmp_path):
    """A Python for `make demo` that only prints what it was given, and with which database."""
    (tmp_path / "bin").mkdir()
    python = tmp_path / "bin" / "python"
    python.write_text('#!/bin/sh\necho "python $* database=$DATABASE_URL"\n')
    python.chmod(stat.S_IRWXU)
    return tmp_path


def test_make_demo_uses_a_database_of_its_own_and_says_so(stand_in):
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", f"{stand_in}/installed", "demo", f"VENV={stand_in}"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    demo_database = f"sqlite:///{Path(settings.BASE_DIR).resolve()}/demo.sqlite3"
    assert result.stdout.startswith(
        f"The demo uses a database of its own, {demo_database}: make run's is left as it is.\n"
    )
    commands = [line for line in result.stdout.splitlines() if line.startswith("python ")]
    assert [command.split()[2] for command in commands] == ["migrate", "seed_demo", "runserver"]
    assert all(command.endswith(f"database={demo_database}") for command in commands)
