"""Settings for the integration platform, driven by environment variables.

Two modes (PLATFORM_ENV):

* ``development`` (default): embedded defaults so that ``make run`` works on a
  bare machine — SQLite in WAL mode, kombu's filesystem broker, a secret key
  and an encryption key generated once into ``var/`` (DATA_DIR).
* ``production``: every secret must come from the environment; a missing one
  is a start-up error rather than a silently weak default.

Variables (from the environment, or a ``.env`` file at the project root read
with django-environ): DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, FERNET_KEYS,
DEBUG, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, DATA_DIR, LOG_LEVEL, and those below.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file at the project root (ENV_FILE names another): the settings that `make run`,
# manage.py and Celery read alike, in any shell. Variables of the environment win.
ENV_FILE = Path(os.environ.get("ENV_FILE") or BASE_DIR / ".env")
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE)

PLATFORM_ENV = env.str("PLATFORM_ENV", default="development").lower()
PRODUCTION = PLATFORM_ENV == "production"
# Nothing is created here: `manage.py migrate` sets an instance up (config/instance.py).
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
# Development secrets not yet in DATA_DIR: written there when the instance is set up.
UNSAVED_SECRETS: dict[str, str] = {}


def _persistent_secret(filename: str, make) -> str:
    """A development secret generated once and kept in DATA_DIR, never in git."""
    path = DATA_DIR / filename
    if path.exists():
        return path.read_text().strip()
    UNSAVED_SECRETS[filename] = UNSAVED_SECRETS.get(filename) or make()
    return UNSAVED_SECRETS[filename]


def _required_in_production(name: str, filename: str, make) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(
            f"{name} is not set. PLATFORM_ENV=production needs it from the environment."
        )
    return _persistent_secret(filename, make)


def _make_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


SECRET_KEY = _required_in_production("SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
# Comma-separated; the first encrypts, all decrypt (key rotation).
FERNET_KEYS = env.list("FERNET_KEYS", default=[]) or [
    _required_in_production("FERNET_KEYS", "fernet_key", _make_fernet_key)
]

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # hashed API tokens (issue 9)
    "axes",  # admin login lockout (issue 9)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "guardian",
    "formtools",
    "apps.runners",
    "apps.data",
    "apps.security",
    "apps.gateway",
    "apps.workflows",
    "apps.collections",
    "apps.connector_factory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # No HTML debug pages for API clients: before CommonMiddleware, whose refusal of
    # an unknown Host header would otherwise be one.
    "apps.data.api.errors.APIErrorsAsJSON",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy (issue 9)
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks (issue 9)
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

# --- Database -----------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "db.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env.str("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}"),
        # Persistent connections: a new PostgreSQL connection per request or per
        # task cost more than the work of a small task (bench/engine.py, latency).
        conn_max_age=env.int("CONN_MAX_AGE", default=60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # opening a SQLite file costs nothing
    # Measured (FACTS.md): WAL + IMMEDIATE transactions + a busy timeout give no
    # "database is locked" errors with the web server and a worker writing at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory: tests start real worker processes that must see it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The engine's statements on the path of every change (apps.data.upsert.fast_cursor)
    # are prepared once they ran this often on a connection: parsed and planned once.
    # Django's own queries bind on the client and are never prepared. 0 turns it off
    # (a PgBouncer before 1.21 in transaction mode cannot keep prepared statements).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        env.int("DATABASE_PREPARE_THRESHOLD", default=5) or None
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out logins (issue 9)
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"  # made with the instance: whitenoise warns if missing
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security defaults ----------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous request then gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.security.throttling.TokenAuthentication",  # hashed tokens (issue 9)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bounded depth, no lone surrogates: a 400 rather than a RecursionError.
    "DEFAULT_PARSER_CLASSES": [
        "apps.data.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.data.api.pagination.PageNumberPagination",
    # A DELETE of an element others still use: 409 naming them (not a 500).
    "EXCEPTION_HANDLER": "apps.data.api.errors.exception_handler",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "apps.data.api.setup.ListFiltersSchema",  # lists' filters too
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Integration platform API",
    # Markdown: angle brackets would be read as HTML tags and vanish.
    "DESCRIPTION": "Setup elements under `/api/v2/setup/{kind}/` and records under "
    "`/api/v2/{namespace}/{data_type}/`.",
    "VERSION": "2",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -----------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    # Measured (FACTS.md): one shared folder for in and out, polling at 0.1 s. The
    # folders are made with the instance (config/instance.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),  # else ./control in the working dir
        "polling_interval": 0.1,  # used only where inotify is not available
    }
    # kombu's transport, woken by inotify when a message is written (config/filesystem_broker.py)
    CELERY_BROKER_TRANSPORT = "config.filesystem_broker:Transport"
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task whose worker died is delivered again after this many seconds (Redis'
    # default is an hour). A redelivered task that is still running elsewhere
    # finds its lock held (the runner's heartbeat) and is skipped.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("BROKER_VISIBILITY_TIMEOUT", default=600)
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes every database connection before and after each task
# unless this is set: a new PostgreSQL connection per task cost a small task ~6 ms, three
# quarters of the change -> export latency (bench/engine.py). It then closes them once per
# this many tasks; in between, config/celery.py closes those past CONN_MAX_AGE or broken,
# as Django does between requests.
CELERY_DB_REUSE_MAX = 1000
# A prefork worker process that grew past this (KiB) is replaced after its task:
# user code cannot exhaust a worker's memory for good (the thread pool of the
# embedded broker cannot do this; use a real broker in production).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("WORKER_MAX_MEMORY_KB", default=524288) or None
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "apps.workflows.beat:DatabaseScheduler"
# Built-in periodic jobs; beat's database scheduler lists them with the users' own.
CELERY_BEAT_SCHEDULE = {
    "prune-request-logs": {
        "task": "gateway.prune_request_logs",
        "schedule": crontab(hour=3, minute=17),
    },
    "prune-tasks": {"task": "workflows.prune_tasks", "schedule": crontab(hour=3, minute=37)},
    # Tasks whose worker process died (their lock expired) are given back to the queue.
    "recover-tasks": {"task": "workflows.recover_tasks", "schedule": 60.0},
}
# Finished tasks (and their executions and notifications) are kept this long.
TASK_RETENTION_DAYS = env.int("TASK_RETENTION_DAYS", default=30)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The queue this instance's tasks go through: instances sharing one Redis or RabbitMQ
# must not take each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")

# --- User code (DESIGN §6, coderunner/) ---------------------------------------------
# Every piece of user code runs in an isolated runner process: "auto" uses
# bubblewrap where it runs and otherwise the weaker fallback (announced at start
# and by the system check runners.W001; an error in production unless
# RUNNER_ALLOW_WEAK_ISOLATION is set); "bwrap" or "fallback" choose.
RUNNER_ISOLATION = env.str("RUNNER_ISOLATION", default="auto")
RUNNER_ALLOW_WEAK_ISOLATION = env.bool("RUNNER_ALLOW_WEAK_ISOLATION", default=False)
# Seconds of a run (or of a lot through a translator): the default, and the most a
# user may set. Waiting for the platform's answers does not count.
RUNNER_TIME_LIMIT_DEFAULT = env.float("RUNNER_TIME_LIMIT_DEFAULT", default=10.0)
RUNNER_TIME_LIMIT_MAX = env.float("RUNNER_TIME_LIMIT_MAX", default=300.0)
RUNNER_MEMORY_MB = env.int("RUNNER_MEMORY_MB", default=256)  # address space per runner
RUNNER_MAX_OUTPUT_MB = env.int("RUNNER_MAX_OUTPUT_MB", default=16)  # one job's result
# Records one api call may read or write (api.records(...).all/find/save, api.fetch).
RUNNER_MAX_RECORDS_PER_CALL = env.int("RUNNER_MAX_RECORDS_PER_CALL", default=10000)
RUNNER_SPARES = env.int("RUNNER_SPARES", default=1)  # warm runners kept ready per process
RUNNER_MAX_IDLE = env.int("RUNNER_MAX_IDLE", default=4)  # idle runners kept per process
# `{"sync": true}` waits this long for the task, then answers 202.
SYNC_WAIT_SECONDS = env.float("SYNC_WAIT_SECONDS", default=5.0)

# --- Records ----------------------------------------------------------------------
# Bulk record posts can be large (the default 2.5 MB would cut them short).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=50 * 2**20)
# Records per transaction in bulk writes; memory grows with it (bench/records_upsert.py).
RECORDS_BATCH_SIZE = env.int("RECORDS_BATCH_SIZE", default=1000)
# What stores records posted with ?async=1: a function returning the engine's Task.
RECORDS_ASYNC_IMPORT = "apps.workflows.services.records_import_enqueue"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"redact_secrets": {"()": "apps.security.logging.RedactSecretsFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The development server's access log, through the filter (OAuth codes in URLs).
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # The filesystem broker has no host; kombu warns about that on every connection.
        "kombu.connection": {"level": "ERROR" if CELERY_BROKER_URL == "filesystem://" else "INFO"},
    },
}

# --- Gateway ----------------------------------------------------------------------
# Outbound calls (apps/gateway). Refuse hosts that resolve to loopback, private,
# link-local or reserved addresses (server-side request forgery); on by default
# in production only, since development talks to local test servers.
GATEWAY_DENY_PRIVATE_ADDRESSES = env.bool("GATEWAY_DENY_PRIVATE_ADDRESSES", default=PRODUCTION)
# Retries: exponential backoff from GATEWAY_RETRY_BACKOFF seconds, with jitter,
# each wait capped at GATEWAY_RETRY_MAX_DELAY; a Retry-After header is honoured
# up to GATEWAY_RETRY_AFTER_MAX seconds. Attempts are set per connection.
GATEWAY_RETRY_BACKOFF = env.float("GATEWAY_RETRY_BACKOFF", default=0.5)
GATEWAY_RETRY_MAX_DELAY = env.float("GATEWAY_RETRY_MAX_DELAY", default=30.0)
GATEWAY_RETRY_AFTER_MAX = env.float("GATEWAY_RETRY_AFTER_MAX", default=120.0)
# Request log: bodies are cut to this many bytes; rows older than the retention
# are removed by `manage.py prune_request_logs`.
GATEWAY_LOG_BODY_BYTES = env.int("GATEWAY_LOG_BODY_BYTES", default=2048)
# Response bodies are logged for failed attempts; this logs successful ones too
# (bench/fetch.py: about a fifth of the throughput of a fast paged import).
GATEWAY_LOG_SUCCESS_BODIES = env.bool("GATEWAY_LOG_SUCCESS_BODIES", default=False)
REQUEST_LOG_RETENTION_DAYS = env.int("REQUEST_LOG_RETENTION_DAYS", default=30)


# --- Security hardening (issue 9) ---------------------------------------------------
# Kept together so that it merges as one block. Variables: API_TOKEN_TTL_DAYS,
# API_AUTH_FAILURE_RATE, API_TOKEN_RATE, TRUSTED_PROXY_COUNT, ADMIN_LOGIN_FAILURES,
# ADMIN_LOCKOUT_MINUTES, CACHE_URL, SECURE_* (below).
from datetime import timedelta  # noqa: E402

# API tokens (django-rest-knox): hashed, shown once, expiring after this many days (0: never).
_token_days = env.int("API_TOKEN_TTL_DAYS", default=30)
API_TOKEN_TTL = timedelta(days=_token_days) if _token_days > 0 else None
REST_KNOX = {"TOKEN_TTL": API_TOKEN_TTL, "AUTH_HEADER_PREFIX": "Token"}
# Clients are counted by REMOTE_ADDR; behind N proxies of your own, by the address
# the outermost of them saw (X-Forwarded-For). Never trust a header nobody checked.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
# Failed sign-ins per client address (then 429 for its tokens too), and token requests.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "auth_failure": env.str("API_AUTH_FAILURE_RATE", default="30/hour"),
    "auth_token": env.str("API_TOKEN_RATE", default="60/hour"),
}
# Throttle counts live in the cache: set CACHE_URL (redis://…) when several web
# processes serve, so that they share one count.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHE_URL", default=""),
    }
    if env.str("CACHE_URL", default="")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Admin login lockout (django-axes): this many failures for one username from one
# address lock that pair out for ADMIN_LOCKOUT_MINUTES (answers 429).
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ONLY_ADMIN_SITE = True  # the API has its own throttles (apps/security/throttling.py)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "apps.security.throttling.client_ip"
AXES_VERBOSE = False

# Content-Security-Policy (django-csp): scripts, styles, fonts and images from this
# site only; no inline scripts, no plugins, no framing, forms post here only. Inline
# style attributes stay allowed (the admin and its widgets set them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# HTTPS in production: redirect http to https, and HSTS (a year, subdomains, preload;
# SECURE_HSTS_PRELOAD=0 before the domain is ready for browsers' preload lists).
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto, opt in with
# SECURE_PROXY_SSL_HEADER=1 (never otherwise: clients could claim https themselves).
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
