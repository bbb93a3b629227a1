"""
Settings for schoolstaff, read from the environment.

Every value has a default that suits development on one machine; production
sets DJANGO_DEBUG=0 and must then provide DJANGO_SECRET_KEY. The README lists
each variable.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from schoolstaff.secret_key import local_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name, default):
    return int(os.environ.get(name) or default)


def first_domain(hosts):
    """The first host name that is neither an IP address nor a pattern; else localhost."""
    for host in hosts:
        name = host.lstrip(".")
        try:
            ipaddress.ip_address(name.strip("[]"))
        except ValueError:
            if name and "*" not in name:
                return name
    return "localhost"


# Core
# ------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY: it is required when DJANGO_DEBUG=0.")
    # Development on one machine: a random key of its own, in a file git ignores.
    SECRET_KEY = local_secret_key()

if not DEBUG and not os.environ.get("DJANGO_ALLOWED_HOSTS"):
    raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS: it is required when DJANGO_DEBUG=0.")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

ROOT_URLCONF = "schoolstaff.urls"
WSGI_APPLICATION = "schoolstaff.wsgi.application"

# Apps
# ------------------------------------------------------------------------------
DJANGO_APPS = [
    # Django's admin on our site, which checks its parameters and counts wrong current
    # passwords as failed sign-ins (accounts.admin_site).
    "accounts.apps.StaffAdminConfig",
    # Before django.contrib.auth, whose createsuperuser it replaces (re-asks a weak password).
    "operator_commands",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles, so that runserver serves static files as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "axes",  # Locks out repeated failed sign-ins.
    "bootstrap",  # Bootstrap's CSS and JS, served by the site itself.
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    # Second factors: authenticator apps (TOTP) and recovery codes (static tokens).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",  # Passkeys, as a second factor and to sign in without a password.
]
# Each uses only those above it (docs/architecture.md).
LOCAL_APPS = [
    "records",
    "lists",
    "audit",
    "changes",
    "subjects",
    "accounts",
    "two_factor",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    # Security headers first, so that static files get them too.
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "schoolstaff.middleware.RequestSizeLimitMiddleware",  # Before anything reads the body.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session has passed a second factor.
    "django_otp.middleware.OTPMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionExpiryMiddleware",
    # Signing in is the default, so that a new page cannot forget it.
    "accounts.middleware.LoginRequiredMiddleware",
    # After the password, the second step (or setting up a factor) before anything else.
    "two_factor.middleware.SecondStepRequiredMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last but one, as django-axes asks: it turns a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
    # After every other check of the request (it calls the view itself).
    "schoolstaff.middleware.AtomicWritesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database and cache
# ------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # PostgreSQL: keep connections between requests, and test one before
        # reusing it, so that a restarted database costs no restart of the site.
        conn_max_age=env_int("DJANGO_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # Several worker processes share the file: readers do not wait for a
        # writer (WAL), and a writer takes the lock when its transaction begins
        # (IMMEDIATE) and waits for it up to the timeout, rather than failing
        # with "database is locked" half-way through.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("DJANGO_SQLITE_TIMEOUT_SECONDS", 20),
    }
# Requests that change something are one transaction each (see
# schoolstaff.middleware.AtomicWritesMiddleware); reading needs none.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Shared by every worker process and app server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    # Sessions are read from the cache and kept in the database, so that
    # none is lost when Redis restarts (it keeps nothing on disk).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
# How long the rendered content of a list page is kept (0: not at all). A change
# to staff or groups outdates it at once, whatever this says.
LIST_CACHE_SECONDS = env_int("DJANGO_LIST_CACHE_SECONDS", 600)

# Authentication
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.Staff"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    # Refuses sign-in while locked out; then Django's own backend signs in.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Signing in with a passkey alone (two_factor's passkey views).
    "django_otp_webauthn.backends.WebAuthnBackend",
]

# NIST SP 800-63B: long passwords, any characters, no composition rules, no expiry.
PASSWORD_MIN_LENGTH = env_int("DJANGO_PASSWORD_MIN_LENGTH", 12)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # No composition rules (README), so none against a password of digits only either.
]
# Argon2id for new passwords; the others still check (and upgrade) older hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

PASSWORD_RESET_TIMEOUT = env_int("DJANGO_PASSWORD_RESET_TIMEOUT_MINUTES", 60) * 60
INVITATION_TIMEOUT = env_int("DJANGO_INVITATION_TIMEOUT_DAYS", 7) * 24 * 3600

# Password-reset and invitation emails per hour, per address and per client IP.
EMAIL_REQUEST_LIMIT_PER_ADDRESS = env_int("DJANGO_EMAIL_REQUEST_LIMIT_PER_ADDRESS", 3)
EMAIL_REQUEST_LIMIT_PER_IP = env_int("DJANGO_EMAIL_REQUEST_LIMIT_PER_IP", 20)

# Behind N reverse proxies, the client is the Nth address from the right of
# X-Forwarded-For; with none (the default) it is REMOTE_ADDR, and the header,
# which any client can forge, is ignored.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)

# Sign-in lockout (django-axes): per email and client IP, across processes.
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_for_lockout"
AXES_CLIENT_IP_CALLABLE = "audit.actors.client_ip"
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout must not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.account.locked_out"
AXES_VERBOSE = False
# Axes keeps each failed attempt's form data: never a password, nor the email box,
# which may hold one (the attempt's username is kept, as accounts.lockout cleans it).
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "old_password",
    "new_password1",
    "new_password2",
    "current_password",
    "otp_token",
]

# A guesser who changes address gets 5 tries from each: a ceiling on an account's
# failures from all addresses, in a window, stops them. Reaching it locks the
# account, even for the right password, until its owner resets the password or an
# operator runs unlock_staff: a lock that wore off would give the guesser another
# allowance every window.
LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("DJANGO_LOGIN_ACCOUNT_FAILURE_LIMIT", 50)
LOGIN_ACCOUNT_WINDOW = timedelta(hours=env_int("DJANGO_LOGIN_ACCOUNT_WINDOW_HOURS", 24))
# Axes' own lockout, with that ceiling counted in its log of failures.
AXES_HANDLER = "accounts.lockout.AccountLockoutHandler"
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# Second factors (two_factor)
# ------------------------------------------------------------------------------
# Who must pass a second factor after their password: "admins" (superusers and staff
# status), "powers" (also anyone with a group or a permission), "all", or "none" (for
# trials only: `check --deploy` warns about it). People outside it may add one anyway.
TWO_FACTOR_REQUIRED = os.environ.get("DJANGO_TWO_FACTOR_REQUIRED", "admins").strip().lower()
if TWO_FACTOR_REQUIRED not in {"admins", "powers", "all", "none"}:
    raise ImproperlyConfigured("DJANGO_TWO_FACTOR_REQUIRED must be admins, powers, all or none.")
# A password not followed by the second step within this time must be typed again.
TWO_FACTOR_STEP_SECONDS = env_int("DJANGO_TWO_FACTOR_STEP_MINUTES", 10) * 60
OTP_TOTP_ISSUER = "School Staff"
# The admin's pages of devices do not show other people's keys.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Passkeys belong to one domain (never an IP address; by default the first allowed host's)
# and are used from these origins (by default that domain over HTTPS, and locally
# http://localhost:8000).
OTP_WEBAUTHN_RP_NAME = "School Staff"
OTP_WEBAUTHN_RP_ID = os.environ.get("DJANGO_PASSKEY_DOMAIN") or first_domain(ALLOWED_HOSTS)
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list(
    "DJANGO_PASSKEY_ORIGINS",
    f"https://{OTP_WEBAUTHN_RP_ID}"
    + (",http://localhost:8000" if OTP_WEBAUTHN_RP_ID == "localhost" else ""),
)

# Sessions
# ------------------------------------------------------------------------------
SESSION_ABSOLUTE_TIMEOUT = env_int("DJANGO_SESSION_HOURS", 12) * 3600
SESSION_IDLE_TIMEOUT = env_int("DJANGO_SESSION_IDLE_MINUTES", 30) * 60
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT

# Email: sent by SMTP (DJANGO_EMAIL_BACKEND=smtp, the default with DJANGO_EMAIL_HOST),
# or printed to the console (=console, the default while debugging). Printed emails
# put password-reset and invitation links in the server's log, so production must
# ask for them by name.
# ------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "")
email_backend = os.environ.get("DJANGO_EMAIL_BACKEND", "").strip().lower() or (
    "smtp" if EMAIL_HOST or not DEBUG else "console"
)
if email_backend not in {"smtp", "console"}:
    raise ImproperlyConfigured("DJANGO_EMAIL_BACKEND must be smtp or console.")
if email_backend == "smtp" and not EMAIL_HOST:
    raise ImproperlyConfigured(
        "Set DJANGO_EMAIL_HOST to send emails by SMTP, or DJANGO_EMAIL_BACKEND=console to print "
        "them, reset links included, to the log: with DJANGO_DEBUG=0 there is no default."
    )
EMAIL_BACKEND = f"django.core.mail.backends.{email_backend}.EmailBackend"
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "schoolstaff@localhost")

# Internationalisation
# ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# Static files, served by WhiteNoise
# ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The project's own stylesheet, script and icons, beside the project-level templates.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names need `collectstatic`, which development and tests skip.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Without `collectstatic`, serve straight from the apps' folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Security headers and HTTPS
# ------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap draws its icons (menu, close, form errors) as data: SVGs.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Whenever debugging is off the site is HTTPS only, unless DJANGO_INSECURE_HTTP=1
# (for a production-like run over plain HTTP on one's own machine).
HTTPS_ONLY = not DEBUG and not env_bool("DJANGO_INSECURE_HTTP", False)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
if HTTPS_ONLY:
    # Browsers keep a __Host- cookie only if it is Secure, for Path=/ and without a
    # Domain (Django's default path and domain), so that no subdomain and no page over
    # plain HTTP can set or overwrite it. Renaming signs everyone out once.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
if env_bool("DJANGO_PROXY_SETS_X_FORWARDED_PROTO", False):
    # Only when the proxy in front always sets it: a client could forge it otherwise.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Pages
# ------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MESSAGE_TAGS = {
    # Bootstrap's name for the error colour.
    40: "danger",
}

# Staff CSV import
# ------------------------------------------------------------------------------
# Between the preview and the confirmation the file waits in the session, and
# every row is checked in memory: these bound both. 5 MB holds some 80,000 rows.
STAFF_IMPORT_MAX_BYTES = env_int("DJANGO_STAFF_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
STAFF_IMPORT_MAX_ROWS = env_int("DJANGO_STAFF_IMPORT_MAX_ROWS", 50_000)
# The largest request the site reads: an import file and room for the multipart
# envelope and the form's other fields. A larger one is answered 413 before any of it
# is read (schoolstaff.middleware.RequestSizeLimitMiddleware).
MAX_REQUEST_BYTES = STAFF_IMPORT_MAX_BYTES + 64 * 1024
# Uploads stay in memory rather than in a temporary file: the import reads the whole
# file into memory anyway, so a file on disk would only add a write per upload.
# DATA_UPLOAD_MAX_MEMORY_SIZE keeps Django's 2.5 MB for the fields other than files,
# far more than any form here posts.
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES

# Logging: to stdout, one line per event, as text or (DJANGO_LOG_FORMAT=json) JSON
# ------------------------------------------------------------------------------
LOG_FORMAT = os.environ.get("DJANGO_LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("DJANGO_LOG_FORMAT must be text or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {
            "()": "schoolstaff.log.OneLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "schoolstaff.log.JSONFormatter"},
    },
    "filters": {"client_errors": {"()": "schoolstaff.log.ClientErrorFilter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["client_errors"],
        },
    },
    "root": {"handlers": ["stdout"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Instead of Django's own handlers (stderr while debugging, email to admins).
        # Its logger django.request logs failed requests: 5xx with the traceback,
        # 4xx as warnings.
        "django": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        # Sign-ins are logged by the audit trail, once each.
        "axes": {"level": "WARNING"},
    },
}

# Audit trail
# ------------------------------------------------------------------------------
# `manage.py prune_audit` removes events older than this.
AUDIT_RETENTION_DAYS = env_int("DJANGO_AUDIT_RETENTION_DAYS", 2 * 365)
