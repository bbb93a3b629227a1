from django.db import models
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse

from accounts.models import AuditedModel
from schoolstaff.versioning import VersionedModel


class SubjectGroupQuerySet(models.QuerySet):
    def with_staff_count(self):
        """Annotate each group with `staff_count`, its number of active members."""
        Staff = self.model._meta.get_field("staff").related_model
        # A count per group from the index on (subject_group, is_active), rather
        # than a join and GROUP BY over every member.
        active_members = (
            Staff.objects.filter(subject_group=models.OuterRef("pk"), is_active=True)
            .order_by()
            .values("subject_group")
            .annotate(count=models.Count("pk"))
            .values("count")
        )
        return self.annotate(staff_count=Coalesce(models.Subquery(active_members), 0))


class SubjectGroup(AuditedModel, VersionedModel):
    name = models.CharField("name", max_length=60)

    audit_ignored_fields = frozenset({"version"})

    objects = SubjectGroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="subjectgroup_name_unique_ignoring_case",
                violation_error_message="A subject group with this name already exists.",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name = self.name.strip()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("subjects:detail", kwargs={"pk": self.pk})
