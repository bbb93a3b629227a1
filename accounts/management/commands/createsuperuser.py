import os

from django.contrib.auth.management.commands import createsuperuser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


class Command(createsuperuser.Command):
    """Django's createsuperuser, holding `--noinput` passwords to the password rules too."""

    def handle(self, *args, **options):
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not options["interactive"] and password:
            candidate = self.UserModel(
                email=os.environ.get("DJANGO_SUPERUSER_EMAIL", ""),
                first_name=os.environ.get("DJANGO_SUPERUSER_FIRST_NAME", ""),
                last_name=os.environ.get("DJANGO_SUPERUSER_LAST_NAME", ""),
            )
            try:
                validate_password(password, candidate)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
        super().handle(*args, **options)
