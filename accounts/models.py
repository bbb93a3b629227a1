from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower, Trim
from django.urls import reverse


class StaffManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        """Lower-case and trim, so that one address is one account however it is typed."""
        return (email or "").strip().lower()

    def get_by_natural_key(self, email):
        return self.get(email=self.normalize_email(email))

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields.get("is_staff") is not True:
            raise ValueError("Superuser must have is_staff=True.")
        if extra_fields.get("is_superuser") is not True:
            raise ValueError("Superuser must have is_superuser=True.")
        return self._create_user(email, password, **extra_fields)

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("The email address must be set.")
        staff = self.model(email=email, **extra_fields)
        staff.set_password(password)
        staff.save(using=self._db)
        return staff


class Staff(AbstractUser):
    username = None
    email = models.EmailField(
        "email",
        unique=True,
        error_messages={"unique": "A staff member with this email already exists."},
    )
    first_name = models.CharField("first name", max_length=150)
    last_name = models.CharField("last name", max_length=150)
    subject_group = models.ForeignKey(
        "subjects.SubjectGroup",
        verbose_name="subject group",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
    )

    objects = StaffManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        verbose_name = "staff member"
        verbose_name_plural = "staff"
        ordering = ["last_name", "first_name"]
        constraints = [
            # With every address stored in lower case, the unique index on
            # `email` is unique without regard to case.
            models.CheckConstraint(
                condition=models.Q(email=Lower(Trim("email"))),
                name="staff_email_lower_case_and_trimmed",
                violation_error_message="Email addresses are stored in lower case.",
            ),
        ]

    def __str__(self):
        return self.get_full_name()

    def save(self, *args, **kwargs):
        self.email = type(self).objects.normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("staff:detail", kwargs={"pk": self.pk})

    def clean(self):
        super().clean()  # Normalises the email.
        if self.pk and not (self.is_active and self.is_superuser):
            active_superusers = Staff.objects.filter(is_active=True, is_superuser=True)
            if list(active_superusers.values_list("pk", flat=True)[:2]) == [self.pk]:
                field = "is_superuser" if not self.is_superuser else "is_active"
                raise ValidationError(
                    {field: "This is the last active superuser: the site needs at least one."},
                    code="last_superuser",
                )

    def refusal_to_change_by(self, user):
        """Say why `user` may not change this account, or return "" if they may."""
        if self.is_superuser and not user.is_superuser:
            return "Only a superuser can change or delete a superuser's account."
        return ""

    def refusal_to_delete_by(self, user):
        """Say why `user` may not delete this account, or return "" if they may."""
        # Nobody deletes their own account, so the last active superuser
        # cannot be deleted either: only another active superuser could.
        if self.pk == user.pk:
            return "You cannot delete your own account."
        return self.refusal_to_change_by(user)
