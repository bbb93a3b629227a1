from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Staff
from two_factor.factors import has_factor, reset_factors


class Command(BaseCommand):
    help = (
        "Remove every second factor (authenticator app, recovery codes) of a person who lost "
        "their device, and email them: they set up a new one at their next sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        email = Staff.objects.normalize_email(email)
        staff = Staff.objects.filter(email=email).first()
        if staff is None:
            raise CommandError(f"No account has the email {email}.")
        had_factor = has_factor(staff)
        with transaction.atomic():
            reset_factors(staff)
        if had_factor:
            self.stdout.write(f"Reset the second factors of {email}; they have been emailed.")
        else:
            self.stdout.write(f"{email} had no second factor; they have been emailed all the same.")
