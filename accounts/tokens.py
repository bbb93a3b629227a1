from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Links that let an invited member set their first password, once.

    Like password-reset links, a token stops working as soon as a password is
    set; it has its own salt, and its own lifetime, INVITATION_TIMEOUT.
    """

    key_salt = "accounts.tokens.InvitationTokenGenerator"

    def check_token(self, user, token):
        # Django's own check_token ages tokens by PASSWORD_RESET_TIMEOUT.
        try:
            issued_at = base36_to_int(token.split("-")[0])
        except (AttributeError, ValueError):
            return False
        if not user or self._num_seconds(self._now()) - issued_at > settings.INVITATION_TIMEOUT:
            return False
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, issued_at, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )


invitation_token_generator = InvitationTokenGenerator()
