import secrets

from django.db import models, transaction
from django.db.models import Count, Max, Sum

# How many marks stay in the table: a reader sums them all.
KEPT_MARKS = 200


def random_mark():
    # 31 bits: SQLite's SUM stops with an error on overflowing 64 bits.
    return secrets.randbits(31)


class DirectoryChangeQuerySet(models.QuerySet):
    def version(self):
        """A token of the staff and groups as they are now, or None before any change.

        It changes with every committed change: each adds a row, whatever the order
        in which concurrent changes commit, and pruning removes some.
        """
        marks = self.aggregate(newest=Max("pk"), count=Count("pk"), total=Sum("mark"))
        return None if marks["newest"] is None else "{newest}.{count}.{total}".format(**marks)

    def record(self):
        """Record that staff or groups changed, in the transaction that changes them."""
        change = self.create()
        if change.pk % KEPT_MARKS == 0:
            # After the commit, in a statement of its own: no change waits on another's rows.
            oldest = change.pk - KEPT_MARKS
            using = self.db
            transaction.on_commit(
                lambda: DirectoryChange.objects.using(using).filter(pk__lte=oldest).delete(),
                using=using,
                robust=True,
            )


class DirectoryChange(models.Model):
    """A mark of one change to staff or subject groups.

    The list pages keep their rendered content in the cache under the version these
    marks make (see lists.views.CachedListMixin). It lives in the database, so that
    every worker process and app server sees a change at once. Each change adds a
    row rather than updating one, so that concurrent changes never wait for each
    other, and each mark is random rather than a counter, so that a rolled-back
    change or a restored backup can never bring back an old page.
    """

    mark = models.IntegerField(default=random_mark)

    objects = DirectoryChangeQuerySet.as_manager()

    def __str__(self):
        return f"{self.pk}: {self.mark}"
