"""What several benchmarks share: a throwaway database with the app's migrations.

``configure("sqlite" | "postgres", workdir, prefix)`` points Django at a fresh database (a
SQLite file in `workdir`, or a new database on the PostgreSQL at 127.0.0.1:5432 named after
`prefix` and this process), with production-like settings, migrates it and returns its name;
``drop`` removes the PostgreSQL one afterwards.
"""

from __future__ import annotations

import os
import secrets
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def configure(
    database: str,
    workdir: Path,
    prefix: str,
    extra_env: dict[str, str] | None = None,
    root: Path = ROOT,
) -> str:
    """`root`: the checkout whose app to import (a benchmark may measure an older commit's)."""
    name = f"{prefix}_{os.getpid()}"
    url = (
        f"sqlite:///{workdir / 'bench.sqlite3'}"
        if database == "sqlite"
        else f"postgres://postgres@127.0.0.1:5432/{name}"
    )
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "annotate.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": url,
            "STATIC_ROOT": str(workdir / "static"),
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
    )
    if database == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
    sys.path.insert(0, str(root))
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic here
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return name


def drop(database: str, name: str) -> None:
    if database != "postgres":
        return
    from django.db import connections

    connections.close_all()
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
