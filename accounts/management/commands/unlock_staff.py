from axes.utils import reset
from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from accounts.lockout import account_is_locked, clear_account_failures
from accounts.models import Staff


class Command(BaseCommand):
    help = (
        "Unlock sign-in for an email address locked out by repeated failures, from every IP, "
        "and forget its failures from all addresses."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        email = Staff.objects.normalize_email(email)
        account_was_locked = account_is_locked(email)
        cleared = reset(username=email)
        clear_account_failures(email)
        if not (cleared or account_was_locked):
            self.stdout.write(f"{email} was not locked out.")
            return
        lifted = ", and the account's lock after failures from all addresses"
        self.stdout.write(
            f"Unlocked {email}: cleared {cleared} record{pluralize(cleared)} of failed sign-ins"
            f"{lifted if account_was_locked else ''}."
        )
