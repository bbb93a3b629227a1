import uuid
from datetime import timedelta

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower, Trim
from django.urls import reverse
from django.utils import timezone

from schoolstaff.versioning import VersionedModel

from . import emails


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
        if password is not None:
            # `createsuperuser` lets an operator bypass the password rules; the
            # most powerful account must not.
            validate_password(password, self.model(email=email, **extra_fields))
        return self._create_user(email, password, **extra_fields)

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("The email address must be set.")
        staff = self.model(email=email, **extra_fields)
        staff.set_password(password)
        staff.save(using=self._db)
        return staff


class Staff(VersionedModel, AbstractUser):
    username = None
    email = models.EmailField(
        "email",
        unique=True,
        error_messages={"unique": "A staff member with this email already exists."},
    )
    first_name = models.CharField("first name", max_length=150)
    last_name = models.CharField("last name", max_length=150)
    must_change_password = models.BooleanField(
        "must change password",
        default=False,
        help_text="Set when someone else chose the password: the owner must replace it "
        "at the next sign-in.",
    )
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
        # The staff list shows active staff by name. Partial indexes, because
        # SQLite uses an index on `is_active` for neither the sort nor the
        # filter; `id` and `email` in them let a page's rows and a search be
        # found in the index alone.
        indexes = [
            models.Index(
                fields=["last_name", "first_name", "id", "email"],
                condition=models.Q(is_active=True),
                name="staff_active_by_last_name",
            ),
            models.Index(
                fields=["first_name", "last_name", "id", "email"],
                condition=models.Q(is_active=True),
                name="staff_active_by_first_name",
            ),
            # Each subject group's count of active staff.
            models.Index(fields=["subject_group", "is_active"], name="staff_group_active"),
        ]
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

    @classmethod
    def from_db(cls, db, field_names, values):
        staff = super().from_db(db, field_names, values)
        staff._remember_sign_in()
        return staff

    def save(self, *args, **kwargs):
        self.email = type(self).objects.normalize_email(self.email)
        saved_email, saved_password = getattr(self, "_saved_sign_in", (None, None))
        # A first password (an invitation accepted) changes nothing the owner had.
        password_changed = (
            self._password is not None
            and saved_password is not None
            and is_password_usable(saved_password)
        )
        super().save(*args, **kwargs)
        # The owner hears of every change to how they sign in, whoever made it.
        if password_changed:
            emails.send_account_email("password_changed", self.email, staff=self)
        if saved_email and saved_email != self.email:
            emails.send_account_email(
                "email_changed", saved_email, staff=self, old_email=saved_email
            )
        self._remember_sign_in()

    def _remember_sign_in(self):
        self._saved_sign_in = (self.__dict__.get("email"), self.__dict__.get("password"))

    def get_absolute_url(self):
        return reverse("staff:detail", kwargs={"pk": self.pk})

    @property
    def is_invited(self):
        """Invited and not signed in yet: no password of their own so far."""
        return not self.has_usable_password()

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


class EmailRequestQuerySet(models.QuerySet):
    def allow(self, kind, email, ip, per_email, per_ip, window=timedelta(hours=1)):
        """Record a request for an email of `kind`, unless it would pass a limit.

        Kept in the database, so that every worker process sees every request.
        """
        recent = self.filter(kind=kind)
        recent.filter(created_at__lt=timezone.now() - window).delete()
        if (
            recent.filter(email=email).count() >= per_email
            or recent.filter(ip=ip).count() >= per_ip
        ):
            return False
        self.create(kind=kind, email=email, ip=ip)
        return True


class EmailRequest(models.Model):
    """A request that sends an email to an address: a password reset or an invitation."""

    kind = models.CharField(max_length=20)
    email = models.EmailField()
    ip = models.GenericIPAddressField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = EmailRequestQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["kind", "email"]),
            models.Index(fields=["kind", "ip"]),
        ]

    def __str__(self):
        return f"{self.kind} for {self.email} from {self.ip}"


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
    schoolstaff.views.CachedListMixin). It lives in the database, so that every
    worker process and app server sees a change at once, and is a random token
    rather than a counter, so that a rolled-back change or a restored backup
    can never bring back an old page.
    """

    token = models.UUIDField(default=uuid.uuid4)

    objects = DirectoryVersionQuerySet.as_manager()

    def __str__(self):
        return str(self.token)
