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


@pytest.mark.parametrize("key", ["changeme", "django-insecure-abc", "short-key"])
def test_production_refuses_a_default_or_weak_key(key):
    result = manage("check", DEBUG="0", SECRET_KEY=key, ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


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
