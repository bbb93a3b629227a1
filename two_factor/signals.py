from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import policy


@receiver(user_logged_in)
def start_the_second_step(sender, request, user, **kwargs):
    """After the password, decide whether this session must pass a second factor."""
    if request is not None and not getattr(user, "otp_device", None):
        policy.start_second_step(request, user)
