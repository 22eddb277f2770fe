"""Settings come from the environment and refuse unsafe production configurations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 20 + "-production-secret-key-" + "z" * 20


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    clean["DJANGO_SETTINGS_MODULE"] = "annotate.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DEBUG="0", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY is missing" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "changeme",
        "django-insecure-abc",
        "short-key",
        "a" * 60,  # long, but one character
        "ab" * 40,
        "abcd" * 20,  # four different characters: still weak to Django
        "django-insecure-" + "q7Xk2pLm9vRt4wZs" * 4,  # long and varied, but startproject's
        "vwxyz" * 9 + "vwxy",  # varied, but 49 characters
    ],
)
def test_production_refuses_a_default_or_weak_key(key):
    result = manage("check", DEBUG="0", SECRET_KEY=key, ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "ImproperlyConfigured" in result.stderr


def test_a_weak_fallback_key_is_refused_too():
    result = manage(
        "check",
        DEBUG="0",
        SECRET_KEY=GOOD_KEY,
        SECRET_KEY_FALLBACKS="b" * 60,
        ALLOWED_HOSTS="example.org",
    )
    assert result.returncode != 0
    assert "SECRET_KEY_FALLBACKS[0] is weak" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "",
        "a" * 60,
        "abcd" * 20,
        "abcde" * 10,
        "abcde" * 9,
        "django-insecure-" + "Zy8" * 20,
        GOOD_KEY,
        "0123456789" * 5,
    ],
)
def test_the_start_refuses_exactly_what_check_deploy_calls_weak(key):
    from django.core.checks.security.base import _check_secret_key

    from annotate.settings import is_strong_secret_key

    assert is_strong_secret_key(key) == _check_secret_key(key)


def test_the_smallest_key_django_calls_strong_starts():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="abcde" * 10,
        ALLOWED_HOSTS="labels.example.org",
    )
    assert result.returncode == 0, result.stderr


def test_production_refuses_the_development_key():
    from annotate.settings import DEV_SECRET_KEY

    result = manage("check", DEBUG="0", SECRET_KEY=DEV_SECRET_KEY, ALLOWED_HOSTS="example.org")
    assert result.returncode != 0


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="labels.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_debug_must_be_a_boolean():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_database_url_selects_postgresql():
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    clean = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "annotate.settings",
            "DEBUG": "1",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/whatever",
        },
    )
    assert result.stdout.strip() == "django.db.backends.postgresql", result.stderr


def test_the_throttle_sees_the_client_behind_trusted_proxies(settings, rf):
    from annotate.throttle import client_address

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.2")
    settings.NUM_PROXIES = 0
    assert client_address(request) == "10.0.0.2"
    settings.NUM_PROXIES = 1  # the forged 6.6.6.6 on the left is never trusted
    assert client_address(request) == "203.0.113.7"


def _settings_value(expression: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CACHE_URL"}}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings; print({expression})",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, "DJANGO_SETTINGS_MODULE": "annotate.settings", "DEBUG": "1", **env},
    )


def test_the_default_cache_is_local_memory_never_a_file():
    """Nothing another server needs is in the cache, so no file cache on one machine's disk."""
    result = _settings_value("settings.CACHES['default']['BACKEND']")
    assert result.stdout.strip() == "django.core.cache.backends.locmem.LocMemCache", result.stderr


def test_cache_url_selects_the_redis_cache():
    result = _settings_value(
        "settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION']",
        CACHE_URL="redis://cache.internal:6379/1",
    )
    assert result.stdout.strip() == (
        "django.core.cache.backends.redis.RedisCache redis://cache.internal:6379/1"
    ), result.stderr


def test_an_unknown_cache_url_is_refused():
    result = _settings_value("settings.CACHES", CACHE_URL="file:///var/cache")
    assert result.returncode != 0
    assert "CACHE_URL must be a redis://" in result.stderr


def test_db_pool_enables_psycopg_pooling_on_postgresql():
    result = _settings_value(
        "settings.DATABASES['default']['OPTIONS']['pool']",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/whatever",
        DB_POOL="1",
        DB_POOL_MAX="6",
    )
    assert result.stdout.strip() == "{'min_size': 1, 'max_size': 6, 'timeout': 10}", result.stderr


def test_db_pool_leaves_sqlite_alone():
    result = _settings_value(
        "'pool' in settings.DATABASES['default'].get('OPTIONS', {})", DB_POOL="1"
    )
    assert result.stdout.strip() == "False", result.stderr


def test_db_pool_and_persistent_connections_are_refused_together():
    result = _settings_value(
        "1",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/whatever",
        DB_POOL="1",
        DB_CONN_MAX_AGE="60",
    )
    assert result.returncode != 0
    assert "DB_POOL=1 and DB_CONN_MAX_AGE" in result.stderr


TASKS_BACKEND_OF = "settings.TASKS['default']['BACKEND']"


def test_jobs_run_inline_without_postgresql_so_the_demo_needs_no_worker():
    result = _settings_value(TASKS_BACKEND_OF, TASKS_BACKEND="")
    assert result.stdout.strip() == "django_tasks.backends.immediate.ImmediateBackend", (
        result.stderr
    )


def test_jobs_are_queued_in_the_database_on_postgresql():
    result = _settings_value(
        TASKS_BACKEND_OF,
        TASKS_BACKEND="",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/whatever",
    )
    assert result.stdout.strip() == "django_tasks_db.DatabaseBackend", result.stderr


def test_tasks_backend_chooses_and_refuses_an_unknown_one():
    chosen = _settings_value(
        TASKS_BACKEND_OF,
        TASKS_BACKEND="immediate",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/whatever",
    )
    assert chosen.stdout.strip() == "django_tasks.backends.immediate.ImmediateBackend"
    refused = _settings_value(TASKS_BACKEND_OF, TASKS_BACKEND="celery")
    assert refused.returncode != 0
    assert "TASKS_BACKEND must be one of database, immediate, got 'celery'" in refused.stderr
