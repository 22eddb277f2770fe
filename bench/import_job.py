"""Importing 100,000 articles through the API as a background job, on PostgreSQL, one worker.

    .venv/bin/python bench/import_job.py [--articles 100000] [--chars 1000] [--batch 5000]

Creates a database ``bench_jobs_<pid>`` on the PostgreSQL at 127.0.0.1:5432 (user postgres,
dropped afterwards), migrates it and makes a project with three editors (overlap 2). Starts
one app server (``bench/suite.py``'s gunicorn, production settings, TASKS_BACKEND=database)
and one worker (``manage.py db_worker``), both with the upload caps raised to fit. Then it
sends `--articles` articles of about `--chars` characters as one JSON Lines body to
``POST /api/projects/{slug}/articles/`` and prints:

- the time until the 202 answer (the server reads, checks and stores the upload, queues the
  job: the only part a web request waits for);
- the job's progress as the client polls ``GET /api/jobs/{id}/`` once a second;
- the job's total time (from the POST to ``finished_at``) and the worker's part
  (``started_at`` to ``finished_at``), and articles/s;
- the machine's CPUs and load average before and after.

Nothing here asserts a time; tests/test_job_worker.py and tests/test_api_jobs.py check the
behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from multi_server import drop_database, setup_database
from suite import ROOT, Http, Server, news_text

PYTHON = sys.executable


def seed() -> dict:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from annotate.models import Label, Membership, Project, Role

    User = get_user_model()
    project = Project.objects.create(name="Jobs", slug="jobs", overlap=2)
    for order, key in enumerate(["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]):
        Label.objects.create(project=project, key=key, name=key.title(), order=order)
    editors = [User.objects.create_user(f"ed{n}") for n in range(3)]
    manager = User.objects.create_user("manager")
    Membership.objects.bulk_create(
        [Membership(project=project, user=u, role=Role.EDITOR) for u in editors]
        + [Membership(project=project, user=manager, role=Role.MANAGER)]
    )
    return {"slug": project.slug, "token": Token.objects.create(user=manager).key}


def body(count: int, chars: int) -> bytes:
    rng = random.Random(3)
    # A few hundred distinct texts, numbered: building 100,000 texts would time the bench.
    texts = [news_text(rng, chars) for _ in range(300)]
    return "\n".join(
        json.dumps(
            {"external_id": f"job-{n}", "title": f"Article {n}", "text": f"{n}. {texts[n % 300]}"}
        )
        for n in range(count)
    ).encode()


def start_worker(env: dict[str, str], workdir: Path) -> subprocess.Popen:
    log = open(workdir / "worker.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [PYTHON, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.5"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--chars", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=5_000, help="IMPORT_JOB_BATCH")
    args = parser.parse_args()

    data = body(args.articles, args.chars)
    name = f"bench_jobs_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    (workdir / "tmp").mkdir()
    print(
        f"{args.articles:,} articles of about {args.chars:,} characters: "
        f"{len(data) / 1e6:.1f} MB of JSON Lines; CPUs {os.cpu_count()}, "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    caps = {
        "TASKS_BACKEND": "database",
        "MAX_IMPORT_ITEMS": str(args.articles),
        "MAX_UPLOAD_BYTES": str(len(data) + 1_000_000),
        "IMPORT_JOB_BATCH": str(args.batch),
    }
    os.environ.update(caps)
    env = {**setup_database(name, workdir), **caps, "TMPDIR": str(workdir / "tmp")}
    server = Server(env, workdir)
    worker = None
    try:
        project = seed()
        server.start()
        worker = start_worker(env, workdir)
        http = Http(server.port, {"Authorization": f"Token {project['token']}"})
        http.request("GET", "/api/projects/", "warm-up")  # the first request loads the code
        started = time.perf_counter()
        status, answer, ms = http.request(
            "POST",
            f"/api/projects/{project['slug']}/articles/",
            "import",
            data,
            **{"Content-Type": "application/x-ndjson"},
        )
        if status != 202:
            raise SystemExit(f"expected 202, got {status}: {answer[:500]!r}")
        job_url = json.loads(answer)["job"]
        print(f"202 Accepted after {ms / 1000:.2f} s ({job_url})", flush=True)
        path = "/" + job_url.split("/", 3)[3]
        last = ""
        while True:
            job = json.loads(http.request("GET", path, "poll")[1])
            line = f"  {job['state']:<9} {job['done']:>7,} of {job['total']:,}"
            if line != last:
                print(f"{time.perf_counter() - started:7.1f} s {line}", flush=True)
                last = line
            if job["state"] in ("succeeded", "failed"):
                break
            time.sleep(1)
        total = time.perf_counter() - started
        if job["state"] == "failed":
            raise SystemExit(f"the job failed: {job['error']}")
        worker_s = (when(job["finished_at"]) - when(job["started_at"])).total_seconds()
        waited = (when(job["started_at"]) - when(job["created_at"])).total_seconds()
        result = job["result"]
        print(
            f"job done: {result['created']:,} created, {result['assigned']:,} assignments; "
            f"total {total:.1f} s from the POST ({args.articles / total:,.0f} articles/s), "
            f"of which the worker ran {worker_s:.1f} s after {waited:.1f} s in the queue; "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    finally:
        if worker is not None:
            stop(worker)
        server.stop()
        drop_database(name)


if __name__ == "__main__":
    main()
