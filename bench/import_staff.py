"""Time a CSV import of new staff through the site: upload, preview, confirm.

On a fresh SQLite database in a temporary folder, as a Staff manager, in-process
(Django's test client, the development settings, the audit trail's log lines at
WARNING unless DJANGO_LOG_LEVEL says otherwise); prints the seconds each step
took, the confirmation being the one that writes.

    .venv/bin/python bench/import_staff.py [ROWS]      # 10,000 by default
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
work = Path(tempfile.mkdtemp(prefix="schoolstaff-import-"))
os.environ.update(
    DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}",
    DJANGO_SETTINGS_MODULE="schoolstaff.settings",
    DJANGO_LOG_LEVEL=os.environ.get("DJANGO_LOG_LEVEL", "WARNING"),
)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.models import Staff  # noqa: E402


def timed(name, request):
    started = time.perf_counter()
    response = request()
    print(f"{name:8} {time.perf_counter() - started:6.2f} s  (HTTP {response.status_code})")
    return response


call_command("migrate", verbosity=0)
setup_test_environment()
manager = Staff.objects.create_user("bench.manager@school.example", first_name="B", last_name="M")
manager.groups.add(Group.objects.get(name="Staff managers"))
client = Client()
client.force_login(manager)
rows = "".join(
    f"person{number}@school.example,First{number},Last{number},Group {number % 40}\n"
    for number in range(ROWS)
)
upload = SimpleUploadedFile(
    "staff.csv", f"email,first_name,last_name,subject_group\n{rows}".encode()
)

print(f"{ROWS:,} new staff in 40 new subject groups, SQLite")
timed(
    "upload", lambda: client.post(reverse("staff:import"), {"file": upload, "create_groups": "on"})
)
preview = timed("preview", lambda: client.get(reverse("staff:import_preview")))
token = preview.context["form"]["token"].value()
timed("confirm", lambda: client.post(reverse("staff:import_preview"), {"token": token}))
assert Staff.objects.count() == ROWS + 1
