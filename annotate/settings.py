"""Settings, read from the environment.

Development: ``DEBUG=1`` and nothing else. Production: ``DEBUG`` off (the default),
a real ``SECRET_KEY``, ``ALLOWED_HOSTS`` and usually ``DATABASE_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# Publicly known keys that must never sign a production session.
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
_KNOWN_BAD_KEYS = {"", DEV_SECRET_KEY, "changeme", "secret", "django-insecure"}


def envbool(name: str, default: str = "0") -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def is_strong_secret_key(key: str) -> bool:
    """Django's own rule (`check --deploy`, security.W009): at least 50 characters, at least 5
    different ones, and not the "django-insecure-" prefix of startproject's keys."""
    return (
        len(key) >= SECRET_KEY_MIN_LENGTH
        and len(set(key)) >= SECRET_KEY_MIN_UNIQUE_CHARACTERS
        and not key.startswith(SECRET_KEY_INSECURE_PREFIX)
    )


DEBUG = envbool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = DEV_SECRET_KEY
# Old keys still accepted for signatures made with them (rotation), newest first.
SECRET_KEY_FALLBACKS = envlist("SECRET_KEY_FALLBACKS")
if not DEBUG and (SECRET_KEY in _KNOWN_BAD_KEYS or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or is a known development key. With DEBUG off, set SECRET_KEY to a "
        "long random value, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
for _name, _key in [("SECRET_KEY", SECRET_KEY)] + [
    (f"SECRET_KEY_FALLBACKS[{n}]", key) for n, key in enumerate(SECRET_KEY_FALLBACKS)
]:
    if not DEBUG and (_key in _KNOWN_BAD_KEYS or not is_strong_secret_key(_key)):
        raise ImproperlyConfigured(
            f"{_name} is weak: with DEBUG off a key must have at least {SECRET_KEY_MIN_LENGTH} "
            f"characters, at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different ones, and not "
            f"start with {SECRET_KEY_INSECURE_PREFIX!r}. Generate one with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "annotate.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "annotate",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "annotate.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "annotate.middleware.RefuseUnstorableInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "annotate.middleware.InputErrorMiddleware",
]

ROOT_URLCONF = "annotate.urls"
WSGI_APPLICATION = "annotate.wsgi.application"

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
                "annotate.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", 0),
    )
}
# DB_POOL=1 (PostgreSQL): each worker process keeps a psycopg pool of DB_POOL_MAX connections
# (Django 5.1+, needs psycopg[pool]) instead of opening one per request; CONN_MAX_AGE must
# then be 0. Size it so workers x DB_POOL_MAX stays under the server's max_connections.
if envbool("DB_POOL") and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured("DB_POOL=1 and DB_CONN_MAX_AGE cannot be used together.")
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": envint("DB_POOL_MIN", 1),
        "max_size": envint("DB_POOL_MAX", 4),
        "timeout": envint("DB_POOL_TIMEOUT", 10),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # Writers wait for the lock instead of failing at once; IMMEDIATE makes every
    # transaction take the write lock up front so concurrent writers queue cleanly.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The only backend: every authenticate() counts against the login throttle (annotate/auth.py).
AUTHENTICATION_BACKENDS = ["annotate.auth.ThrottledModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Nothing another app server needs is kept in the cache or on local disk: the login throttle
# counts in the database (annotate/throttle.py), sessions, uploads' results, releases and the
# rendered guidelines are rows too. So by default each process has its own memory cache;
# CACHE_URL=redis://host:6379/0 selects Django's Redis cache (needs `pip install redis`).
# Behind reverse proxies set NUM_PROXIES so the throttle counts the address the outermost
# trusted proxy saw (X-Forwarded-For), not the proxy's own.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL:
    raise ImproperlyConfigured(
        f"CACHE_URL must be a redis://, rediss:// or unix:// URL, got {CACHE_URL!r}"
    )
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
NUM_PROXIES = envint("NUM_PROXIES", 0)

# Uploads: articles are text, so the caps are generous for text and small for anything else.
MAX_ARTICLE_CHARS = envint("MAX_ARTICLE_CHARS", 200_000)
MAX_UPLOAD_BYTES = envint("MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
MAX_IMPORT_ITEMS = envint("MAX_IMPORT_ITEMS", 20_000)
# The ML backend a project may name (Project.ml_backend_url): asked for predictions after an
# import commits, at most ML_BACKEND_TIMEOUT seconds in all, ML_BACKEND_BATCH articles per
# request. Addresses inside the network (loopback, private, link-local) are refused unless
# ML_BACKEND_ALLOW_PRIVATE=1: a manager must not make the server call its neighbours (SSRF).
ML_BACKEND_TIMEOUT = envint("ML_BACKEND_TIMEOUT", 5)
ML_BACKEND_BATCH = envint("ML_BACKEND_BATCH", 50)
ML_BACKEND_ALLOW_PRIVATE = envbool("ML_BACKEND_ALLOW_PRIVATE")
# Background jobs (imports past IMPORT_SYNC_LIMIT articles, agreement recomputes, releases
# past RELEASE_SYNC_LIMIT final articles): TASKS_BACKEND=database queues them in the database
# for `manage.py db_worker` processes; immediate runs them inline in the request (the demo,
# SQLite, tests). Default: database on PostgreSQL, immediate otherwise.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND") or (
    "database" if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" else "immediate"
)
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, got {TASKS_BACKEND!r}"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
IMPORT_SYNC_LIMIT = envint("IMPORT_SYNC_LIMIT", 1_000)
RELEASE_SYNC_LIMIT = envint("RELEASE_SYNC_LIMIT", 5_000)
# An import job commits this many articles at a time and shows its progress in between.
IMPORT_JOB_BATCH = envint("IMPORT_JOB_BATCH", 5_000)
# bench/suite.py only: route the floor view of annotate/bench_urls.py. Never in production.
BENCH_FLOOR = envbool("BENCH_FLOOR")
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5_000

# Security. Everything below is on whenever DEBUG is off, so `check --deploy` stays clean.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "1")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["annotate.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "annotate.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "annotate.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `?format=` names an export format, not a renderer.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Fact labelling API",
    "DESCRIPTION": "Projects, articles, versioned annotations, agreement and gold exports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs describe endpoints, not data: readable before one has a token.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "annotate.api.schema.add_error_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
