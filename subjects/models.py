from django.db import models
from django.db.models.functions import Coalesce
from django.urls import reverse

from changes.models import TrackedRecord
from records.validators import validate_name


class SubjectGroupQuerySet(models.QuerySet):
    def with_staff_count(self):
        """Annotate each group with `staff_count`, its number of active members."""
        # Summed from the staff tally (accounts.models.StaffTally), a few rows a
        # group, rather than counted member by member.
        tally = self.model._meta.get_field("staff_tally").related_model
        active_members = (
            tally.objects.filter(subject_group=models.OuterRef("pk"), is_active=True)
            .order_by()
            .values("subject_group")
            .annotate(count=models.Sum("change"))
            .values("count")
        )
        return self.annotate(staff_count=Coalesce(models.Subquery(active_members), 0))


def name_key(name):
    """A group's name as its uniqueness sees it: trimmed, and lower-cased (Économie, économie)."""
    return name.strip().lower()


class NameKeyField(models.CharField):
    """`name_key` of the `name` field, worked out in Python whenever a row is written.

    Python lower-cases every alphabet, and SQLite's LOWER() only A to Z, so a
    unique index on this column refuses the same names on every database. Set in
    `pre_save`, which bulk_create() calls too.
    """

    def pre_save(self, model_instance, add):
        value = name_key(model_instance.name)
        setattr(model_instance, self.attname, value)
        return value


class SubjectGroup(TrackedRecord):
    name = models.CharField("name", max_length=60, validators=[validate_name])
    name_key = NameKeyField(
        max_length=60,
        unique=True,
        editable=False,
        error_messages={"unique": "A subject group with this name already exists."},
    )

    audit_ignored_fields = frozenset({"version", "name_key"})

    objects = SubjectGroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        # Before the uniqueness checks, which read the key.
        self.name_key = name_key(self.name)

    def save(self, *args, **kwargs):
        self.name = self.name.strip()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("subjects:detail", kwargs={"pk": self.pk})
