"""Print a mixed workload of list addresses, one a line, drawn at random but the same each run.

    python -m bench.mixed_urls COUNT

Pages across the whole list, every sort key in both directions, each status, each
subject group (and none), searches by surname and by part of an email address: as
people use the lists, nearly every request a new address. Each page number is one
that exists, so that every address is a list page, not a fallback with a notice.
Uses the database and settings of the environment, as the benchmarked server does.
"""

import os
import random
import sys
from urllib.parse import urlencode

import django

SORTS = ["first_name", "last_name", "email", "subject_group"]
# How often each status is drawn.
STATUSES = {"active": 6, "inactive": 1, "all": 2, "invited": 1}
PER_PAGE = 25


def mixed_urls(count, seed=1):
    from django.db.models import Q

    from accounts.forms.staff import StaffListFilterForm
    from accounts.management.commands.seed_demo import LAST_NAMES
    from accounts.models import Staff
    from subjects.models import SubjectGroup

    rng = random.Random(seed)
    groups = [str(pk) for pk in SubjectGroup.objects.values_list("pk", flat=True)]
    emails = list(Staff.objects.values_list("email", flat=True)[:5000])
    counts = {}

    def pages(status, group="", q=""):
        if (status, group, q) not in counts:
            rows = Staff.objects.filter(StaffListFilterForm.STATUSES[status])
            if group == "none":
                rows = rows.filter(subject_group__isnull=True)
            elif group:
                rows = rows.filter(subject_group_id=group)
            for word in q.split():
                rows = rows.filter(
                    Q(first_name__icontains=word)
                    | Q(last_name__icontains=word)
                    | Q(email__icontains=word)
                )
            counts[status, group, q] = max(1, -(-rows.count() // PER_PAGE))
        return counts[status, group, q]

    urls = []
    for _ in range(count):
        params = {}
        kind = rng.random()
        status = rng.choices(list(STATUSES), weights=list(STATUSES.values()))[0]
        group = ""
        q = ""
        if kind < 0.30:  # A subject group, or none.
            group = rng.choice([*groups, "none"])
        elif kind < 0.50:  # A surname.
            q = rng.choice(LAST_NAMES).lower()
        elif kind < 0.65:  # Part of an email address.
            email = rng.choice(emails)
            start = rng.randrange(0, max(1, email.index("@") - 4))
            q = email[start : start + rng.randint(4, 8)].strip(".@")
        if q:
            params["q"] = q
        if group:
            params["group"] = group
        if status != "active":
            params["status"] = status
        sort = rng.choice(SORTS)
        params["sort"] = rng.choice(["", "-"]) + sort
        last = pages(status, group, q)
        params["page"] = rng.randint(1, last)
        urls.append("/staff/?" + urlencode(params))
    return urls


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolstaff.settings")
    django.setup()
    for url in mixed_urls(int(sys.argv[1])):
        print(url)
