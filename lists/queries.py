from functools import reduce
from operator import or_

from django.db import connections
from django.db.models import Q


def in_any_of(slices):
    """A filter for the rows whose keys are in any of these slices, found by the keys' index.

    Each slice is a sliced `.values("pk")` of the same model. PostgreSQL reads
    `pk IN (slice) OR pk IN (slice)` by scanning the table (80 ms at 50,000
    staff), but `pk IN (slice UNION ALL slice)` by the keys (0.2 ms); SQLite,
    which allows no slice in a UNION, does the former by the keys.
    """
    if len(slices) > 1 and connections[slices[0].db].features.supports_slicing_ordering_in_compound:
        return Q(pk__in=slices[0].union(*slices[1:], all=True))
    return reduce(or_, (Q(pk__in=keys) for keys in slices))
