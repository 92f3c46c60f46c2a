"""Settings for the pricing site, read from the environment.

Defaults give the embedded set-up: SQLite in the project folder and Celery tasks run
in-process. Set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis) to run on real
services; the code is the same.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from .env import env_bool, env_int, env_list, env_str, read_secret_file

BASE_DIR = Path(__file__).resolve().parent.parent

# 1. Core
DEBUG = env_bool("DEBUG", False)
# The key comes from SECRET_KEY, or from the file SECRET_KEY_FILE names (default
# .secret-key, which `make install` fills with random bytes on each machine, never committed).
# There is no fallback key: with DEBUG off and no key the site does not start; with DEBUG on
# a random key is made for this process (sessions end when it restarts).
SECRET_KEY = env_str("SECRET_KEY") or read_secret_file(
    env_str("SECRET_KEY_FILE", str(BASE_DIR / ".secret-key"))
)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set it (or SECRET_KEY_FILE) in the environment; "
            "`make install` writes a random local key to .secret-key"
        )
    SECRET_KEY = secrets.token_urlsafe(50)
if len(SECRET_KEY) < 32 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 random characters")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "apps.catalog",
    "apps.rating",
    "apps.usage",
    "apps.accounts",
    "apps.compare",
    "apps.plans",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "pricing_site.urls"
WSGI_APPLICATION = "pricing_site.wsgi.application"
ASGI_APPLICATION = "pricing_site.asgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

# 2. Database: SQLite by default, PostgreSQL (or anything dj-database-url reads) by URL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several requests (and in-process imports) write at once: each write transaction takes
    # the lock when it begins (IMMEDIATE) and waits up to `timeout` seconds for it, instead of
    # failing with "database is locked" when a read turns into a write; WAL lets readers go
    # on while one writer commits (Django's SQLite notes, "Database is locked errors").
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Uploads waiting for their import, per user: stored bytes not yet imported, and uploads
# per hour (counted from import jobs, so every web process sees the same numbers).
UPLOAD_QUOTA_BYTES = env_int("UPLOAD_QUOTA_BYTES", 2 * 1024**3)
UPLOADS_PER_HOUR = env_int("UPLOADS_PER_HOUR", 30)

# 3. Auth, i18n, static
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
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "usage:imports"
LOGOUT_REDIRECT_URL = "catalog:prices"

# 4. Security. Strict CSP: no inline script, no eval; Plotly's strict bundle needs neither.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
}
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and env_bool("HTTPS", False))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("HTTPS", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Uploads: Django has no per-file cap; the import views enforce MAX_UPLOAD_BYTES themselves.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 512 * 1024 * 1024)
# Uploaded logs wait here (outside the web root, server-made names) until their import ends.
# Several machines: a shared volume, so any worker can read what any web process stored.
UPLOAD_DIR = Path(env_str("UPLOAD_DIR", str(BASE_DIR / "var" / "uploads")))
IMPORT_MAX_ARCHIVE_MEMBERS = env_int("IMPORT_MAX_ARCHIVE_MEMBERS", 10_000)
IMPORT_MAX_DECOMPRESSED_BYTES = env_int("IMPORT_MAX_DECOMPRESSED_BYTES", 10 * 1024**3)
IMPORT_MAX_COMPRESSION_RATIO = env_int("IMPORT_MAX_COMPRESSION_RATIO", 100)
IMPORT_BATCH_RECORDS = env_int("IMPORT_BATCH_RECORDS", 5_000)

# Rate limits. Estimates spend compute units per client and minute (a quick estimate is 1
# unit, a conversation month 1 + 1 per 10,000 requests); over the budget: 429. Sign-in:
# after LOGIN_MAX_FAILURES wrong passwords for one user name, or from one address, within
# LOGIN_FAILURE_WINDOW seconds, sign-in is refused until the window ends.
COMPUTE_UNITS_PER_MINUTE_ANON = env_int("COMPUTE_UNITS_PER_MINUTE_ANON", 300)
COMPUTE_UNITS_PER_MINUTE_USER = env_int("COMPUTE_UNITS_PER_MINUTE_USER", 1200)
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 10)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 15 * 60)
# Behind a reverse proxy, the META key holding the client address (e.g. HTTP_X_REAL_IP).
# Unset: REMOTE_ADDR (a client-written header must not choose whose budget it spends).
TRUSTED_PROXY_HEADER = env_str("TRUSTED_PROXY_HEADER")

# 5. Cache: local memory by default; Redis when CACHE_URL is set (needed with several web processes).
_cache_url = env_str("CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# 6. Celery. Without a broker, tasks run in-process (eager) so `make run` needs no server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if not CELERY_BROKER_URL:
    # in-process: nothing connects to it, but an empty URL would make kombu guess AMQP
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Imports are idempotent, so a task whose worker dies is redelivered rather than lost
# (acks_late alone still acks on a killed child: celery #1628, hence reject_on_worker_lost).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# An import past the soft limit continues in a fresh task from its last commit (tasks.py).
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 50 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 55 * 60)
# A little longer than the hard time limit: shorter, and Redis hands a running task to a
# second worker; much longer, and a task whose worker died waits that long to resume (the
# job page says so meanwhile, see IMPORT_STALLED_AFTER).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 2 * 60)
}
# A running import that has not committed for this many seconds has lost its worker.
IMPORT_STALLED_AFTER = env_int("IMPORT_STALLED_AFTER", 120)
# Runs of one import (resumes and continuations included) before it is given up as failed.
IMPORT_MAX_ATTEMPTS = env_int("IMPORT_MAX_ATTEMPTS", 10)
CELERY_TIMEZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
