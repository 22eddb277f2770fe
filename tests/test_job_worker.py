"""A real worker on PostgreSQL: jobs queued by the app through the database task backend wait
in the database until a separate ``manage.py db_worker`` process takes them, runs them and
leaves their outcome where any app server reads it. Skipped on SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from annotate.models import Article, Job, Release, Role
from annotate.services import jobs

from .factories import make_member, make_project, make_user
from .jobs_support import finalise

ROOT = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT = 300  # seconds, on a heavily loaded machine

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
    ),
]

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "postgres")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def run_worker(**env: str) -> subprocess.CompletedProcess:
    """One worker process that runs every queued task, then exits."""
    return subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url(),
            "TASKS_BACKEND": "database",
            "SECRET_KEY": "worker-test-key-" + "y" * 50,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
    )


def upload(count: int) -> bytes:
    return "\n".join(
        json.dumps({"external_id": f"w{i}", "title": f"T{i}", "text": f"Worker article {i}."})
        for i in range(count)
    ).encode()


def test_a_worker_process_runs_queued_jobs_to_success_and_failure():
    project = make_project("worker-desk")
    manager = make_member(project, make_user("wanda"), Role.MANAGER)
    reviewer = make_member(project, make_user("rex"), Role.REVIEWER)
    for name in ("ed", "eve"):
        make_member(project, make_user(name), Role.EDITOR)
    finalise(project, reviewer, 2)
    data = upload(7)
    with override_settings(TASKS=DATABASE_TASKS):
        imported = jobs.start_import(
            project=project, user=manager, data=data, count=7, format="jsonl"
        )
        first = jobs.start_release(project=project, user=reviewer, name="v1")
        # Both checked before v1 existed: the second one can only fail, and must say why.
        second = jobs.start_release(project=project, user=reviewer, name="v1")

    # Queued in the database, nothing run: the request that started them is free.
    assert [j.state for j in (imported, first, second)] == ["queued"] * 3
    assert DBTaskResult.objects.filter(status="READY").count() == 3
    assert {str(r.id) for r in DBTaskResult.objects.all()} == {
        j.task_id for j in (imported, first, second)
    }
    assert not Article.objects.filter(external_id__startswith="w").exists()

    worker = run_worker(IMPORT_JOB_BATCH="3")
    assert worker.returncode == 0, worker.stderr[-3000:]

    for job in (imported, first, second):
        job.refresh_from_db()
    assert imported.state == "succeeded", imported.error
    assert imported.result == {"created": 7, "skipped": [], "skipped_count": 0, "assigned": 14}
    assert (imported.done, imported.total) == (7, 7)
    assert Job.objects.get(pk=imported.pk).payload is None
    assert Article.objects.filter(project=project, external_id__startswith="w").count() == 7

    assert first.state == "succeeded"
    assert first.result["sha256"] == Release.objects.get(project=project, name="v1").sha256
    assert second.state == "failed"
    assert second.error == "This project already has a release named 'v1'."
    assert Release.objects.filter(project=project).count() == 1
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
