"""Django's createsuperuser, except that a password against the rules is asked for again."""

from django.contrib.auth.management.commands import createsuperuser

BYPASS_QUESTION = "Bypass password validation"


class Command(createsuperuser.Command):
    # Django offers to create the account anyway, which Staff.objects.create_superuser
    # then refuses with an error: the most powerful account keeps the password rules.

    def handle(self, *args, **options):
        ask = createsuperuser.__dict__.get("input", input)
        createsuperuser.input = self.refusing_to_bypass(ask)
        try:
            return super().handle(*args, **options)
        finally:
            if ask is input:
                del createsuperuser.input
            else:
                createsuperuser.input = ask

    def refusing_to_bypass(self, ask):
        def ask_unless_bypass(message=""):
            if message.startswith(BYPASS_QUESTION):
                self.stderr.write("Choose another password.")
                return "n"
            return ask(message)

        return ask_unless_bypass
