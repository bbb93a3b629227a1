import uuid

from django.db import models


class DirectoryVersionQuerySet(models.QuerySet):
    def current(self):
        """The token of the staff and groups as they are now, or None if there is none."""
        return self.filter(pk=1).values_list("token", flat=True).first()

    def bump(self):
        """Record that staff or groups changed, in the transaction that changes them."""
        if not self.filter(pk=1).update(token=uuid.uuid4()):
            self.get_or_create(pk=1, defaults={"token": uuid.uuid4()})


class DirectoryVersion(models.Model):
    """A token that changes with every change to staff or subject groups.

    The list pages keep their rendered content in the cache under it (see
    lists.views.CachedListMixin). It lives in the database, so that every
    worker process and app server sees a change at once, and is a random token
    rather than a counter, so that a rolled-back change or a restored backup
    can never bring back an old page.
    """

    token = models.UUIDField(default=uuid.uuid4)

    objects = DirectoryVersionQuerySet.as_manager()

    def __str__(self):
        return str(self.token)
