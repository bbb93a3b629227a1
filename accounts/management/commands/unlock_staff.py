from axes.utils import reset
from django.core.management.base import BaseCommand

from accounts.models import Staff


class Command(BaseCommand):
    help = "Unlock sign-in for an email address locked out by repeated failures, from every IP."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        email = Staff.objects.normalize_email(email)
        cleared = reset(username=email)
        if cleared:
            self.stdout.write(f"Unlocked {email}: cleared {cleared} record(s) of failed sign-ins.")
        else:
            self.stdout.write(f"{email} was not locked out.")
