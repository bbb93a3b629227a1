from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

# Second factors change only through the site's pages and reset_two_factor, which
# record each change and email the owner; the admin would do neither.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)
