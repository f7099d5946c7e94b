"""Settings for the integration platform, driven by environment variables.

Two modes (PLATFORM_ENV):

* ``development`` (default): embedded defaults so that ``make run`` works on a
  bare machine — SQLite in WAL mode, kombu's filesystem broker, a secret key
  and an encryption key generated once into ``var/`` (DATA_DIR).
* ``production``: every secret must come from the environment; a missing one
  is a start-up error rather than a silently weak default.

Variables: DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, FERNET_KEYS, DEBUG,
ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, DATA_DIR, LOG_LEVEL.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


PLATFORM_ENV = (env("PLATFORM_ENV", "development") or "development").lower()
PRODUCTION = PLATFORM_ENV == "production"
DATA_DIR = Path(env("DATA_DIR", str(BASE_DIR / "var")) or "").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _persistent_secret(filename: str, make) -> str:
    """A development secret generated once and kept in DATA_DIR, never in git."""
    path = DATA_DIR / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _required_in_production(name: str, filename: str, make) -> str:
    value = env(name)
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
FERNET_KEYS = env_list("FERNET_KEYS", "") or [
    _required_in_production("FERNET_KEYS", "fernet_key", _make_fernet_key)
]

DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "guardian",
    "formtools",
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
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
        env("DATABASE_URL", f"sqlite:///{SQLITE_PATH}") or "",
        # Persistent connections: a new PostgreSQL connection per request or per
        # task cost more than the work of a small task (bench/engine.py, latency).
        conn_max_age=int(env("CONN_MAX_AGE", "60") or 0),
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
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
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing folder
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
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous request then gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.data.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Integration platform API",
    "DESCRIPTION": "Setup elements under /api/v2/setup/<kind>/ and records under "
    "/api/v2/<namespace>/<data_type>/.",
    "VERSION": "2",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -----------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    # Measured (FACTS.md): one shared folder for in and out, polling at 0.1 s.
    for folder in ("out", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
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
        "visibility_timeout": int(env("BROKER_VISIBILITY_TIMEOUT", "600") or 600)
    }
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND")
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A prefork worker process that grew past this (KiB) is replaced after its task:
# user code cannot exhaust a worker's memory for good (the thread pool of the
# embedded broker cannot do this; use a real broker in production).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = int(env("WORKER_MAX_MEMORY_KB", "524288") or 0) or None
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Built-in periodic jobs; beat's database scheduler lists them with the users' own.
CELERY_BEAT_SCHEDULE = {
    "prune-request-logs": {
        "task": "gateway.prune_request_logs",
        "schedule": crontab(hour=3, minute=17),
    },
    "prune-tasks": {"task": "workflows.prune_tasks", "schedule": crontab(hour=3, minute=37)},
}
# Finished tasks (and their executions and notifications) are kept this long.
TASK_RETENTION_DAYS = int(env("TASK_RETENTION_DAYS", "30") or 30)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Records ----------------------------------------------------------------------
# Bulk record posts can be large (the default 2.5 MB would cut them short).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("DATA_UPLOAD_MAX_MEMORY_SIZE", str(50 * 2**20)) or 0)
# Records per transaction in bulk writes; memory grows with it (bench/records_upsert.py).
RECORDS_BATCH_SIZE = int(env("RECORDS_BATCH_SIZE", "1000") or 1000)
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
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The filesystem broker has no host; kombu warns about that on every connection.
        "kombu.connection": {"level": "ERROR" if CELERY_BROKER_URL == "filesystem://" else "INFO"},
    },
}

# --- Gateway ----------------------------------------------------------------------
# Outbound calls (apps/gateway). Refuse hosts that resolve to loopback, private,
# link-local or reserved addresses (server-side request forgery); on by default
# in production only, since development talks to local test servers.
GATEWAY_DENY_PRIVATE_ADDRESSES = env_bool("GATEWAY_DENY_PRIVATE_ADDRESSES", PRODUCTION)
# Retries: exponential backoff from GATEWAY_RETRY_BACKOFF seconds, with jitter,
# each wait capped at GATEWAY_RETRY_MAX_DELAY; a Retry-After header is honoured
# up to GATEWAY_RETRY_AFTER_MAX seconds. Attempts are set per connection.
GATEWAY_RETRY_BACKOFF = float(env("GATEWAY_RETRY_BACKOFF", "0.5") or 0.5)
GATEWAY_RETRY_MAX_DELAY = float(env("GATEWAY_RETRY_MAX_DELAY", "30") or 30)
GATEWAY_RETRY_AFTER_MAX = float(env("GATEWAY_RETRY_AFTER_MAX", "120") or 120)
# Request log: bodies are cut to this many bytes; rows older than the retention
# are removed by `manage.py prune_request_logs`.
GATEWAY_LOG_BODY_BYTES = int(env("GATEWAY_LOG_BODY_BYTES", "2048") or 2048)
# Response bodies are logged for failed attempts; this logs successful ones too
# (bench/fetch.py: about a fifth of the throughput of a fast paged import).
GATEWAY_LOG_SUCCESS_BODIES = env_bool("GATEWAY_LOG_SUCCESS_BODIES", False)
REQUEST_LOG_RETENTION_DAYS = int(env("REQUEST_LOG_RETENTION_DAYS", "30") or 30)
