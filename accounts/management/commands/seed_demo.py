import random
import re
import secrets

from axes.utils import reset as reset_lockouts
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Staff, StaffStretch
from audit.actors import acting_as
from subjects.models import SubjectGroup, name_key

DEMO_DOMAIN = "demo.school.example"
MANAGER_EMAIL = f"manager@{DEMO_DOMAIN}"
MEMBER_EMAIL = f"member@{DEMO_DOMAIN}"
# Demo staff are first.last.N@demo.school.example; N keeps every address unique.
DEMO_EMAIL = re.compile(rf"\.(\d+)@{re.escape(DEMO_DOMAIN)}$")

FIRST_NAMES = """
    Aaliyah Adam Aisha Alex Alice Amara Amelia Ana Arjun Ava Ben Bethany Chloe Chris Claire
    Daniel David Deepa Eleanor Elijah Ella Emily Emma Ethan Fatima Finn Freya George Grace Hannah
    Harry Isaac Isla Jack James Jasmine Joel John Jonah Kate Kwame Laura Leo Lily Lucy Mohammed
    Maria Mark Maya Megan Mei Nadia Noah Olivia Omar Oscar Paul Priya Rachel Ravi Rosie Ruth
    Sam Sarah Sofia Sophie Tariq Thomas Tom Wei Will Yusuf Zara Zoe
""".split()
LAST_NAMES = """
    Adams Ahmed Ali Allen Anderson Bailey Baker Bell Bennett Brown Campbell Carter Chen Clarke
    Collins Cooper Davies Edwards Evans Fischer Garcia Green Hall Harris Hill Hughes Hussain
    Jackson James Jones Kaur Kelly Khan King Lee Lewis Martin Mitchell Moore Morgan Murphy Nguyen
    O'Brien O'Connor Okafor Parker Patel Phillips Price Roberts Robinson Rossi Shah Singh Smith
    Taylor Thomas Thompson Turner Walker Ward Watson White Williams Wilson Wood Wright Young
""".split()
SUBJECTS = [
    "Mathematics", "English", "Biology", "Chemistry", "Physics", "History", "Geography",
    "French", "Spanish", "German", "Computing", "Art and Design", "Music", "Drama",
    "Physical Education", "Religious Studies", "Design and Technology", "Food and Nutrition",
    "Economics", "Business Studies", "Psychology", "Sociology", "Latin", "Classics",
    "Further Mathematics", "English Literature", "Media Studies", "Politics", "Philosophy",
    "Statistics", "Mandarin", "Italian", "Photography", "Textiles", "Dance", "Citizenship",
    "Environmental Science", "Health and Social Care", "Engineering", "Electronics",
    "Learning Support", "Careers",
]  # fmt: skip


class Command(BaseCommand):
    help = (
        "Make sure there are at least --staff demo staff spread over the first --groups demo "
        "subject groups: a second run adds only what is missing. Never changes or deletes an "
        "existing account; with --manager, creates or resets the demo manager and prints its "
        "sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--staff", type=int, default=200, help="Demo staff wanted (200).")
        parser.add_argument("--groups", type=int, default=12, help="Demo groups wanted (12).")
        parser.add_argument("--seed", type=int, help="Seed for repeatable names.")
        parser.add_argument(
            "--manager",
            action="store_true",
            help=f"Create or reset {MANAGER_EMAIL}, a Staff manager, with a new password.",
        )
        parser.add_argument(
            "--member",
            action="store_true",
            help=f"Create or reset {MEMBER_EMAIL}, a plain member, with a new password.",
        )

    def handle(self, *args, staff, groups, seed, manager, member, **options):
        if not 0 <= groups <= len(SUBJECTS):
            raise CommandError(f"--groups must be between 0 and {len(SUBJECTS)}.")
        if staff < 0:
            raise CommandError("--staff must not be negative.")
        rng = random.Random(seed)
        with acting_as("command seed_demo"):
            self.seed(rng, staff, groups)
            if manager:
                self.reset_manager()
            if member:
                self.reset_member()

    def seed(self, rng, staff, groups):
        with transaction.atomic():
            subject_groups, new_groups = self.ensure_groups(SUBJECTS[:groups])
            numbers = self.demo_staff_numbers()
            new_staff = self.make_staff(
                rng,
                count=max(staff - len(numbers), 0),
                first_number=max(numbers, default=0) + 1,
                subject_groups=subject_groups,
            )
            Staff.create_in_bulk(new_staff)
        StaffStretch.objects.set_marks_outgrown()
        ungrouped = sum(member.subject_group is None for member in new_staff)
        self.stdout.write(
            f"Created {new_groups} subject groups and {len(new_staff)} demo staff "
            f"({ungrouped} of them without a subject group). Demo data now: "
            f"{len(numbers) + len(new_staff)} staff in {len(subject_groups)} subject groups."
        )

    def demo_staff_numbers(self):
        """The N of every first.last.N@demo.school.example account."""
        emails = Staff.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").values_list(
            "email", flat=True
        )
        return [int(match[1]) for email in emails.iterator() if (match := DEMO_EMAIL.search(email))]

    def ensure_groups(self, names):
        """The subject groups with these names, creating those that do not exist yet."""
        groups, created = [], 0
        for name in names:
            group, is_new = SubjectGroup.objects.get_or_create(
                name_key=name_key(name), defaults={"name": name}
            )
            groups.append(group)
            created += is_new
        return groups, created

    def make_staff(self, rng, count, first_number, subject_groups):
        # One hash for every row: hashing 50,000 passwords would take minutes. Its
        # password is thrown away, so nobody can sign in as a demo member.
        unknown_password = make_password(secrets.token_urlsafe(32))
        invited_password = make_password(None)
        staff = []
        for number in range(first_number, first_number + count):
            first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            local_part = ".".join(
                re.sub(r"[^a-z]", "", name.lower()) for name in (first_name, last_name)
            )
            # A few of each kind that the staff pages show differently.
            invited = rng.random() < 0.03
            staff.append(
                Staff(
                    email=f"{local_part}.{number}@{DEMO_DOMAIN}",
                    first_name=first_name,
                    last_name=last_name,
                    password=invited_password if invited else unknown_password,
                    is_active=invited or rng.random() >= 0.03,
                    subject_group=(
                        rng.choice(subject_groups)
                        if subject_groups and rng.random() >= 0.02
                        else None
                    ),
                )
            )
        return staff

    def reset_manager(self):
        manager = self.reset_account(
            MANAGER_EMAIL,
            "Demo manager (a Staff manager, with the admin)",
            {"first_name": "Morgan", "last_name": "Demo-Manager", "is_staff": True},
        )
        manager.groups.add(Group.objects.get(name="Staff managers"))

    def reset_member(self):
        member = self.reset_account(
            MEMBER_EMAIL,
            "Demo member (no permissions beyond every member's)",
            {"first_name": "Jordan", "last_name": "Demo-Member", "is_staff": False},
        )
        member.groups.clear()
        member.user_permissions.clear()

    def reset_account(self, email, description, details):
        """Create or reset a demo account with a new password, and print its sign-in."""
        password = secrets.token_urlsafe(15)
        names = {"first_name": details["first_name"], "last_name": details["last_name"]}
        validate_password(password, Staff(email=email, **names))
        # Saving the hash (not set_password) emails no "password changed"
        # notice to an address that does not exist.
        account, _ = Staff.objects.update_or_create(
            email=email,
            defaults={
                **details,
                "password": make_password(password),
                "is_active": True,
                "must_change_password": False,
            },
        )
        reset_lockouts(username=email)
        self.stdout.write(f"{description}: sign in as {email} with the password {password}")
        return account
