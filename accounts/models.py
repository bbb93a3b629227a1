from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.db.models import Count, Exists, ExpressionWrapper, OuterRef, Q, Sum
from django.db.models.functions import Lower, Trim
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from changes.models import TrackedRecord
from records.validators import validate_name, validate_year_in_range


class FirstCharacter(models.Func):
    # With no parameter in the SQL, which would keep SQLite from matching it to an index.
    template = "SUBSTR(%(expressions)s, 1, 1)"
    output_field = models.CharField()


class NoPasswordYet(FirstCharacter):
    """A password that cannot be used: none of one's own yet."""

    # The prefix written out, not a parameter: SQLite uses a partial index only
    # where the query's condition is written as the index's.
    template = f"{FirstCharacter.template} = '{UNUSABLE_PASSWORD_PREFIX}'"
    output_field = models.BooleanField()


# Invited and not signed in yet: active, with no password of their own so far.
INVITED = Q(is_active=True) & NoPasswordYet("password")


class StaffQuerySet(models.QuerySet):
    def active_superusers(self):
        """The keys of the active superusers, from their own small index, in no order."""
        return (
            self.filter(is_active=True, is_superuser=True).order_by().values_list("pk", flat=True)
        )

    def with_powers(self):
        """Annotate `holds_powers` (see Staff.has_powers), for lists that show what one may do."""
        Staff = self.model
        groups = Staff.groups.through.objects.filter(
            **{Staff.groups.field.m2m_field_name(): OuterRef("pk")}
        )
        permissions = Staff.user_permissions.through.objects.filter(
            **{Staff.user_permissions.field.m2m_field_name(): OuterRef("pk")}
        )
        powers = (
            Q(is_staff=True) | Q(is_superuser=True) | Q(Exists(groups)) | Q(Exists(permissions))
        )
        return self.annotate(
            holds_powers=ExpressionWrapper(powers, output_field=models.BooleanField())
        )


class StaffManager(BaseUserManager.from_queryset(StaffQuerySet)):
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


class Staff(TrackedRecord, AbstractUser):
    username = None
    email = models.EmailField(
        "email",
        unique=True,
        error_messages={"unique": "A staff member with this email already exists."},
    )
    first_name = models.CharField("first name", max_length=150, validators=[validate_name])
    last_name = models.CharField("last name", max_length=150, validators=[validate_name])
    date_joined = models.DateTimeField(
        "date joined", default=timezone.now, validators=[validate_year_in_range]
    )
    last_login = models.DateTimeField(
        "last login", blank=True, null=True, validators=[validate_year_in_range]
    )
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

    # The password is recorded as changed, never its hash; sign-ins are
    # recorded as account events.
    audit_ignored_fields = frozenset({"password", "last_login", "must_change_password", "version"})

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        verbose_name = "staff member"
        verbose_name_plural = "staff"
        ordering = ["last_name", "first_name"]
        # One index per sort key of the staff list, holding what each status and
        # group filter reads, so that any page of any list is found by walking an
        # index without sorting (docs/performance.md). `id` comes before
        # `is_active`: the list sorts by the key and then `id`. Descending sorts
        # walk the same indexes backwards. The inactive and the invited, a few
        # percent of the staff, have indexes of their own in each order, so that
        # their lists walk only their own rows.
        indexes = [
            models.Index(
                fields=["last_name", "first_name", "id", "is_active", "email"],
                name="staff_by_last_name",
            ),
            models.Index(
                fields=["first_name", "last_name", "id", "is_active"], name="staff_by_first_name"
            ),
            models.Index(fields=["email", "id", "is_active"], name="staff_by_email"),
            # A group's members in each order; and, a group at a time, the list by group.
            models.Index(
                fields=["subject_group", "last_name", "first_name", "id", "is_active"],
                name="staff_group_by_last_name",
            ),
            models.Index(
                fields=["subject_group", "first_name", "last_name", "id", "is_active"],
                name="staff_group_by_first_name",
            ),
            models.Index(
                fields=["subject_group", "email", "id", "is_active"], name="staff_group_by_email"
            ),
            *(
                models.Index(
                    fields=fields, condition=condition, name=f"staff_{status}_by_{fields[0]}"
                )
                for status, condition in [("inactive", Q(is_active=False)), ("invited", INVITED)]
                # With `is_active`, which SQLite reads from the index, not the row.
                for fields in [
                    ["last_name", "first_name", "id", "is_active"],
                    ["first_name", "last_name", "id", "is_active"],
                    ["email", "id", "is_active"],
                ]
            ),
            # The few active superusers, checked on every save (Staff.clean).
            models.Index(
                fields=["id"],
                condition=models.Q(is_active=True, is_superuser=True),
                name="staff_active_superusers",
            ),
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
        super().save(*args, **kwargs)
        self._remember_sign_in()

    def _remember_sign_in(self):
        """Keep the hash as loaded: the audit trail tells a new password from a rehash by it."""
        self._saved_sign_in = (self.__dict__.get("email"), self.__dict__.get("password"))

    def get_absolute_url(self):
        return reverse("staff:detail", kwargs={"pk": self.pk})

    def audit_label(self):
        return f"{self} ({self.email})"

    @classmethod
    def audit_name_from_label(cls, label):
        return label.rsplit(" (", 1)[0]

    def audit_kind_and_changes(self, adding, update_fields=None, related_labels=None):
        kind, changes = super().audit_kind_and_changes(adding, update_fields, related_labels)
        # set_password() keeps the new password in `_password` until the save. A
        # hash upgraded at sign-in saves only the hash, with `_password` cleared:
        # the same password, no change.
        saved_password = getattr(self, "_saved_sign_in", (None, None))[1]
        hash_replaced = saved_password is not None and self.password != saved_password
        password_changed = self._password is not None or (
            hash_replaced and set(update_fields or ()) != {"password"}
        )
        if adding or not password_changed:
            return kind, changes
        changes.append({"field": "password", "label": "Password", "old": None, "new": None})
        kind = AuditEvent.Kind.PASSWORD_CHANGED if len(changes) == 1 else AuditEvent.Kind.CHANGED
        return kind, changes

    @property
    def is_invited(self):
        """Invited and not signed in yet: no password of their own so far."""
        return not self.has_usable_password()

    def clean(self):
        super().clean()  # Normalises the email.
        if self.pk and not (self.is_active and self.is_superuser):
            if list(Staff.objects.active_superusers()[:2]) == [self.pk]:
                field = "is_superuser" if not self.is_superuser else "is_active"
                raise ValidationError(
                    {field: "This is the last active superuser: the site needs at least one."},
                    code="last_superuser",
                )

    @property
    def has_powers(self):
        """Whether this account holds any power: staff status, superuser status, a group or a
        permission. Only a superuser may change such an account (`refusal_to_change_by`)."""
        if "holds_powers" in self.__dict__:  # Annotated by Staff.objects.with_powers().
            return self.holds_powers
        return (
            self.is_staff
            or self.is_superuser
            or self.groups.exists()
            or self.user_permissions.exists()
        )

    def refusal_to_change_by(self, user):
        """Say why `user` may not change this account, or return "" if they may.

        The one rule of authority, which the site, the admin and the import all ask:
        a manager keeps plain members' accounts; only a superuser changes an account
        that holds powers, lest a manager take it over and, through it, more powers
        than their own. Owners still change their own name and password.
        """
        if user.is_superuser or self.pk == user.pk:
            return ""
        if self.is_superuser:
            return "Only a superuser can change or delete a superuser's account."
        if self.has_powers:
            return "Only a superuser can change an account with administrative powers."
        return ""

    def refusal_to_delete_by(self, user):
        """Say why `user` may not delete this account, or return "" if they may."""
        # Nobody deletes their own account, so the last active superuser
        # cannot be deleted either: only another active superuser could.
        if self.pk == user.pk:
            return "You cannot delete your own account."
        return self.refusal_to_change_by(user)


class CountsQuerySet(models.QuerySet):
    """Rows that triggers add, +n or -n staff of a kind at a time, summed when read.

    Rows are only ever added, never updated, so that concurrent changes never
    wait for each other; a reader that finds many compacts them.
    """

    # The fields that make a kind of staff, as their columns.
    kind = ()

    def _compacted_after(self, sizes):
        """The sizes, read; the rows compacted after, if there were many more than sizes."""
        sizes = list(sizes)
        # Compacted, a size is summed from a row for each kind in it: a few.
        if sum(size[-1] for size in sizes) > COMPACT_COUNTS_AFTER + 4 * len(sizes):
            self.compact()
        return sizes

    def compact(self):
        """Replace the rows so far with one for each kind of staff, summed.

        The rows are deleted and their sums returned in one statement, so that
        concurrent compactions each sum only the rows they deleted, and changes
        committed meanwhile keep their own rows.
        """
        table = connections[self.db].ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connections[self.db].ops.quote_name(column) for column in self.kind)
        with transaction.atomic(using=self.db), connections[self.db].cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} RETURNING {columns}, change")
            sums = Counter()
            for *kind, change in cursor.fetchall():
                sums[tuple(kind)] += change
            self.bulk_create(
                self.model(**dict(zip(self.kind, kind, strict=True)), change=n)
                for kind, n in sums.items()
                if n
            )


class StaffTallyQuerySet(CountsQuerySet):
    kind = ("subject_group_id", "is_active", "is_invited")

    def total(self):
        """The number of staff that the rows, as filtered, count."""
        return sum(self.by_group().values())

    def by_group(self):
        """{group key or None: number of staff} for the groups with any, as filtered."""
        sizes = (
            self.order_by()
            .values_list("subject_group")
            .annotate(staff=Sum("change"), rows=Count("*"))
        )
        return {group: staff for group, staff, _ in self._compacted_after(sizes) if staff}

    def counts(self):
        """The staff in numbers: active, invited, inactive and active without a group."""
        sizes = dict.fromkeys(["active", "invited", "inactive", "without_group"], 0)
        for group, active, invited, staff, _ in self._compacted_after(
            self.order_by()
            .values_list("subject_group", "is_active", "is_invited")
            .annotate(staff=Sum("change"), rows=Count("*"))
        ):
            sizes["active" if active else "inactive"] += staff
            sizes["invited"] += staff if active and invited else 0
            sizes["without_group"] += staff if active and group is None else 0
        return sizes


# Counts' rows (the tally's, the stretches') are compacted when a reader finds this many more
# than the sizes it reads.
COMPACT_COUNTS_AFTER = 1000


class StaffTally(models.Model):
    """How many staff there are of each kind (group, active, invited), kept by the database.

    Triggers on the staff table (accounts/migrations/0015_staff_tally.py) add a
    row for each change in a kind's number, in the transaction of the change,
    whatever path made it: a form, the admin, an import, a bulk update, SQL. So
    the lists count their rows by summing a few hundred rows, not by stepping
    through an index of every member, at any size of school.
    """

    # A plain key: a deleted group's members move to no group first, leaving it
    # rows that sum to nothing.
    subject_group = models.ForeignKey(
        "subjects.SubjectGroup",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="staff_tally",
    )
    is_active = models.BooleanField()
    # No password of their own yet: invited, when active (INVITED).
    is_invited = models.BooleanField()
    change = models.IntegerField()

    objects = StaffTallyQuerySet.as_manager()

    def __str__(self):
        return f"{self.change:+} in {self.subject_group_id}, {self.is_active}, {self.is_invited}"


# The sort keys whose lists the stretches divide, each an index's first column.
STRETCHED_FIELDS = ("last_name", "first_name", "email")

# Marks are set about this many staff apart, and set again when a stretch holds
# more than four times as many.
STAFF_PER_STRETCH = 1000


class StaffStretchQuerySet(CountsQuerySet):
    kind = ("field", "mark", "is_active")

    def sizes(self, field):
        """[(mark, number of staff)] of `field`'s stretches with any staff, as filtered.

        In the order of the marks, the stretch before the first mark ("") first.
        The marks are set again first if a stretch has grown too long to walk.
        """
        sizes = self._sizes_held(field)
        if too_long(sizes):
            with self._staff_unchanged():
                # Readers that found it too long together each get here; the
                # first sets the marks, the rest find the stretches short.
                if too_long(self._sizes_held(field)):
                    self._set_marks(field)
            sizes = self._sizes_held(field)
        return [(mark, staff) for mark, staff, _, _ in sizes if staff]

    def _sizes_held(self, field):
        """[(mark, staff, staff held when marked, rows)] of `field`'s stretches."""
        stretches = (
            self.filter(field=field)
            .order_by()
            .values("mark")
            .annotate(staff=Sum("change"), rows=Count("*"))
        )
        sql, params = stretches.query.sql_with_params()
        # Joined once summed: a subquery for each mark costs a lookup a row, and
        # a scan of the marks a row while they are new to the planner.
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                "SELECT s.mark, s.staff, m.staff, s.rows"
                f" FROM ({sql}) AS s LEFT JOIN accounts_staffmark AS m"
                " ON m.field = %s AND m.value = s.mark ORDER BY s.mark",
                [*params, field],
            )
            return self._compacted_after(cursor.fetchall())

    def set_marks_outgrown(self):
        """Set again the marks of each key whose stretches have grown too long to walk.

        For a bulk load to call, so that no visitor's first page deep in the list waits
        for it.
        """
        for field in STRETCHED_FIELDS:
            self.sizes(field)

    def mark(self, field):
        """Set `field`'s marks again, STAFF_PER_STRETCH staff apart, and count each stretch."""
        with self._staff_unchanged():
            self._set_marks(field)

    @contextmanager
    def _staff_unchanged(self):
        """A transaction in which writers to the staff table, and compactions, wait.

        PostgreSQL's locks; SQLite's write lock, taken as the transaction begins.
        With no change between the count and the marks, every member is counted
        in the stretch of their value, as the triggers will count the next.
        """
        with transaction.atomic(using=self.db):
            if connections[self.db].vendor == "postgresql":
                with connections[self.db].cursor() as cursor:
                    cursor.execute("LOCK TABLE accounts_staff IN SHARE ROW EXCLUSIVE MODE")
                    cursor.execute("LOCK TABLE accounts_staffstretch IN EXCLUSIVE MODE")
            yield

    def _set_marks(self, field):
        column = connections[self.db].ops.quote_name(field)
        with connections[self.db].cursor() as cursor:
            cursor.execute("DELETE FROM accounts_staffmark WHERE field = %s", [field])
            cursor.execute("DELETE FROM accounts_staffstretch WHERE field = %s", [field])
            # A mark every STAFF_PER_STRETCH members; each member's stretch is
            # that of the greatest mark at most their value, in one pass in the
            # field's order. The window holds the rows of equal value, so that
            # they share one stretch.
            cursor.execute(
                "INSERT INTO accounts_staffstretch (field, mark, is_active, change) "
                "SELECT %s, mark, is_active, COUNT(*) FROM ("
                "  SELECT is_active, COALESCE(MAX("
                "   CASE WHEN place %% %s = 0 THEN value END"
                "  ) OVER (ORDER BY value), '') AS mark FROM ("
                f"  SELECT {column} AS value, is_active,"
                f"   ROW_NUMBER() OVER (ORDER BY {column}) AS place FROM accounts_staff"
                "  ) AS placed"
                ") AS marked GROUP BY mark, is_active",
                [field, STAFF_PER_STRETCH],
            )
            cursor.execute(
                "INSERT INTO accounts_staffmark (field, value, staff) "
                "SELECT field, mark, SUM(change) FROM accounts_staffstretch "
                "WHERE field = %s GROUP BY field, mark",
                [field],
            )


def too_long(sizes):
    """Whether a stretch has grown too long to walk: longer than four times
    STAFF_PER_STRETCH, and four times what it held when its mark was set (a
    stretch of one common name cannot be cut)."""
    return any(staff > 4 * max(STAFF_PER_STRETCH, held or 0) for _, staff, held, _ in sizes)


class StaffMark(models.Model):
    """A value of a sort key where a stretch of the staff list, in that key's order, begins.

    Set by StaffStretch.objects (`_set_marks`), and only there; "" begins the first stretch.
    """

    field = models.CharField(max_length=20)
    value = models.CharField(max_length=254, blank=True)
    # How many staff its stretch held when the mark was set.
    staff = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["field", "value"], name="staff_mark_field_value")
        ]

    def __str__(self):
        return f"{self.field} from {self.value!r}"


class StaffStretch(models.Model):
    """How many staff (active or not) sort from each mark to the next, kept by the database.

    A member is in the stretch of the greatest mark (StaffMark) at most their
    value of the field, or in the one before every mark (""). Triggers on the
    staff table (accounts/migrations/0017_staff_stretches.py) add rows for each
    change, as the tally's do. So a page deep in a long list is found by summing
    the stretches before it and walking from a mark, not from the list's start:
    a few thousand index entries at most, at any size of school.
    """

    field = models.CharField(max_length=20)
    # "" for the stretch before every mark: no value is less.
    mark = models.CharField(max_length=254, blank=True)
    is_active = models.BooleanField()
    change = models.IntegerField()

    objects = StaffStretchQuerySet.as_manager()

    def __str__(self):
        return f"{self.change:+} in {self.field} from {self.mark}, {self.is_active}"


class EmailRequestQuerySet(models.QuerySet):
    def allow(self, kind, email, ip, per_email, per_ip, window=timedelta(hours=1)):
        """Record a request for an email of `kind`, unless it would pass a limit.

        Kept in the database, so that every worker process sees every request.
        Requests for one address, or from one IP, wait for each other from the
        count to the record, so that parallel requests cannot all pass a limit.
        """
        with transaction.atomic(using=self.db):
            lock_for_this_transaction(self.db, f"{kind}:{email}", f"{kind}:{ip}")
            return self._allow(kind, email, ip, per_email, per_ip, window)

    def _allow(self, kind, email, ip, per_email, per_ip, window):
        recent = self.filter(kind=kind)
        recent.filter(created_at__lt=timezone.now() - window).delete()
        if (
            recent.filter(email=email).count() >= per_email
            or recent.filter(ip=ip).count() >= per_ip
        ):
            return False
        self.create(kind=kind, email=email, ip=ip)
        return True


def lock_for_this_transaction(using, *names):
    """Hold a lock on each name until the transaction ends.

    PostgreSQL: advisory locks, taken in one order so that two requests never
    wait for each other. SQLite needs none: a transaction that writes holds the
    whole database (IMMEDIATE, see settings).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in sorted(set(names)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


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
