from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse


class SubjectGroupQuerySet(models.QuerySet):
    def with_staff_count(self):
        """Annotate each group with `staff_count`, its number of active members."""
        active_staff = models.Count("staff", filter=models.Q(staff__is_active=True))
        # Django leaves Meta.ordering out of queries that group rows: keep it.
        ordering = self.query.order_by or self.model._meta.ordering
        return self.annotate(staff_count=active_staff).order_by(*ordering)


class SubjectGroup(models.Model):
    name = models.CharField("name", max_length=60)

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
