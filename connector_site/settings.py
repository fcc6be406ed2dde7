"""Settings for the Twilio Advanced connector, all from the environment (django-environ).

With no variables set the product runs on embedded defaults: SQLite, DataSet tables and the
Celery broker (kombu's filesystem transport) under `var/`, e-mail to the console, the Twilio
sandbox on 127.0.0.1:8765. `DATABASE_URL` switches to PostgreSQL and `CELERY_BROKER_URL`
(or `REDIS_URL`) to Redis. `.env.example` documents every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from connector_site.local_keys import local_secret

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# Production refuses to start without its secrets; the embedded default generates them once
# under var/ (never committed) so `make run` needs no set-up.
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret(VAR_DIR / "secret_key", "django")
    _credential_keys = env.list("CREDENTIAL_KEYS", default=[]) or [
        local_secret(VAR_DIR / "credential.key", "fernet")
    ]
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    _credential_keys = env.list("CREDENTIAL_KEYS", default=[])
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG=False.")
    if not _credential_keys:
        raise ImproperlyConfigured(
            "CREDENTIAL_KEYS must be set when DJANGO_DEBUG=False (comma-separated Fernet keys, "
            "newest first; generate one with `python manage.py generate_credential_key`)."
        )
# Newest first: encryption uses the first key, decryption tries them all (MultiFernet).
CREDENTIAL_KEYS: list[str] = _credential_keys

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "csp",
    "axes",
    "twilio_reports",
    "datacenter",
    "scheduler",
    "web",
    "django_htmx",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login except views marked @login_not_required (the login page).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # An undecryptable stored secret answers in plain words, not with a 500.
    "connector_site.credential_errors.CredentialKeyErrorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "web.middleware.UserTimezoneMiddleware",
    # request.htmx: the connector page renders a single pane for htmx requests.
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns lock-outs into the "too many attempts" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "connector_site.urls"
WSGI_APPLICATION = "connector_site.wsgi.application"

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
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # The web server, the worker and beat share one file: wait for locks instead of
            # failing, take the write lock up front, and let readers run beside a writer.
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not :memory:, so a real worker process in the tests sees the test database;
    # one per test session, so two sessions on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "datasets"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: five failures for one username from one address lock it for 15 minutes,
# and 20 failures from one address over any usernames lock the address (one password tried
# across many usernames). Addresses are REMOTE_ADDR, or behind TRUSTED_PROXIES reverse proxies
# the address in X-Forwarded-For that the outermost proxy saw.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "connector_site.throttling.client_ip"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "connector_site.throttling.AddressAwareHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# WhiteNoise expects the folder, even before `collectstatic` fills it.
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # Plotly.js from the plotly package, served as vendor/plotly.min.js: no CDN.
    "connector_site.staticfinders.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Data Center <datacenter@localhost>")
# Absolute links in e-mails (the retry-exhausted notice links to the DataSet).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Error reports (debug page, e-mails to ADMINS) never show a token: see the filter.
DEFAULT_EXCEPTION_REPORTER_FILTER = "connector_site.error_reports.SecretsReporterFilter"

# --- Security headers ---------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Database sessions that refuse malformed keys (NUL bytes broke PostgreSQL lookups).
SESSION_ENGINE = "connector_site.sessions"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Scripts only from our own static files (no inline script); Plotly injects <style> tags, so
# styles allow inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Celery -------------------------------------------------------------------------------
BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
# The Celery app that queues tasks, imported on the first task queued (datacenter/broker.py).
CONNECTOR_CELERY_APP = "connector_site.celery.app"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or env.str(
    "REDIS_URL", default="filesystem://"
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Broadcast (pidbox) files; kombu's default is ./control in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Longer than the hard time limit, so a late-acked long run is not redelivered mid-flight.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=55 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# One beat entry: the dispatcher claims due DataSets from our own tables every minute.
CELERY_BEAT_SCHEDULE = {
    "dispatch-due": {"task": "scheduler.tasks.dispatch_due", "schedule": 60.0},
    "runs-reap-stale": {"task": "scheduler.tasks.runs_reap_stale", "schedule": 120.0},
}

# /status.json for monitors: `Authorization: Bearer <STATUS_TOKEN>` (empty: staff only).
STATUS_TOKEN = env.str("STATUS_TOKEN", default="")

# --- Product ------------------------------------------------------------------------------
DATASET_STORAGE_URI = env.str("DATASET_STORAGE_URI", default=str(VAR_DIR / "datasets"))
DATASET_KEEP_VERSIONS = env.int("DATASET_KEEP_VERSIONS", default=30)
# Finished slices of pulls in progress (datacenter.staging), on the worker's local disk.
DATASET_STAGING_DIR = Path(env.str("DATASET_STAGING_DIR", default=str(VAR_DIR / "staging")))
# The Twilio sandbox (twilio_reports/sandbox). Empty disables the "Use the sandbox" option.
TWILIO_SANDBOX_URL = env.str("TWILIO_SANDBOX_URL", default="http://127.0.0.1:8765" if DEBUG else "")
# How `manage.py twilio_report --account NAME` finds a saved account (a layer above it).
TWILIO_SAVED_ACCOUNT_CREDENTIALS = "datacenter.selectors.credentials_for_account_name"
TWILIO_MAX_IN_FLIGHT = env.int("TWILIO_MAX_IN_FLIGHT", default=8)
# Where the request budget of each Twilio account is shared (twilio_reports.budget): Redis
# across machines when the broker is Redis, else lock files shared by this machine's
# processes. A saved account's own cap (TwilioAccount.max_in_flight) applies to its pulls.
TWILIO_BUDGET_URL = env.str(
    "TWILIO_BUDGET_URL",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else str(VAR_DIR / "budget"),
)
# Seconds to wait for Twilio to connect / to send a page, and a factor on every retry delay
# (Retry-After and backoff); the tests' fault scenarios shrink them.
TWILIO_CONNECT_TIMEOUT = env.float("TWILIO_CONNECT_TIMEOUT", default=10.0)
TWILIO_READ_TIMEOUT = env.float("TWILIO_READ_TIMEOUT", default=60.0)
TWILIO_RETRY_SCALE = env.float("TWILIO_RETRY_SCALE", default=1.0)
# A running run that has not reported progress for this long is considered dead.
RUN_STALE_AFTER = timedelta(minutes=env.int("RUN_STALE_MINUTES", default=5))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
