"""doccano 1.8.4 for bench/peers/run.py: installed, started and driven through its REST API.

Installed from PyPI with ``marshmallow<4`` and ``numpy<2`` (without those pins it does not
start). Started as it ships, with two things fixed for a bench: the web server is gunicorn
with the options ``doccano webserver`` gives it (``config.wsgi``, 2 × cores + 1 sync workers,
output captured) but bound to 127.0.0.1 instead of 0.0.0.0, so it is run as ``gunicorn``
directly; and the environment ``doccano`` would default (DOCCANO_HOME, DATABASE_URL on a
SQLite file, MEDIA_ROOT, STANDALONE) is set explicitly so the web server and the worker
agree. Its upload and download run as celery tasks, so ``doccano task`` runs a celery worker
(prefork, concurrency 2) beside it on doccano's default broker: kombu's SQLAlchemy transport
on the same SQLite file, with results in the database (django-celery-results). Nothing else
is needed on a fresh machine. CELERY_TASK_ALWAYS_EAGER is not used: doccano's settings read
no such variable.

The workloads, on the sizes run.py uses for Label Studio: import the same articles (one
filepond upload, then the import task, timed until the task reports done); save 40 spans on
each annotated article by each of two users (doccano has no bulk endpoint: one POST per
span; the 40 POSTs of one article are timed together as one save); fetch one article with
its spans (two requests: the example, then its spans); 8 concurrent clients doing that
fetch; export everything as JSONL (the download task, polled every 50 ms, and the zip's
download, timed together; the zip is then read to check it holds every span); the RSS of
the web server's and the worker's processes afterwards.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import secrets
import shutil
import statistics
import subprocess
import time
import zipfile
from pathlib import Path

from common import HOST, WORK, concurrent, free_port, stop, tree_pids, venv, wait_http
from suite import LABELS, Http, choose_spans, news_text, pct, rss_kib, sentence

DOCCANO = ["doccano==1.8.4", "marshmallow<4", "numpy<2"]
VERSION = DOCCANO[0].split("==")[1]
POLL_S = 0.05


def doccano(quick: bool, existing: str | None) -> dict:
    folder = Path(existing) if existing else venv("doccano", DOCCANO, timeout=1500)
    backend = next(folder.glob("lib/python*/site-packages/backend"))
    data = WORK / "doccano-data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    port, password = free_port(), secrets.token_hex(12)
    workers = multiprocessing.cpu_count() * 2 + 1
    env = {
        **os.environ,
        "DOCCANO_HOME": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
        "MEDIA_ROOT": str(data / "media"),
        "STANDALONE": "True",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_hex(25),
    }
    doccano_cli = str(folder / "bin" / "doccano")
    log = open(data / "server.log", "w")  # noqa: SIM115 -- closed below
    task_log = open(data / "task.log", "w")  # noqa: SIM115 -- closed below
    started: list[subprocess.Popen] = []
    try:
        for argv in (
            [doccano_cli, "init"],
            [doccano_cli, "createuser", "--username", "admin", "--password", password],
        ):
            subprocess.run(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=600
            )
        web = subprocess.Popen(
            [
                str(folder / "bin" / "gunicorn"), "config.wsgi", "--chdir", str(backend),
                "--workers", str(workers), "--bind", f"{HOST}:{port}",
                "--capture-output", "--log-level", "info",
            ],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        started.append(web)
        worker = subprocess.Popen(
            [doccano_cli, "task"],
            env=env,
            stdout=task_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(worker)
        wait_http(port, "/v1/me", web, 300)
        wait_worker(Path(task_log.name), worker, 300)
        figures = drive_doccano(port, password, [web.pid, worker.pid], quick)
        figures["server"] = (
            f"gunicorn {workers} sync workers (doccano webserver's options) + celery worker "
            "(doccano task, 2 processes, broker and results in the SQLite file), SQLite"
        )
        return figures
    finally:
        for process in started:
            stop(process)
        log.close()
        task_log.close()
        shutil.rmtree(data, ignore_errors=True)


def wait_worker(log: Path, worker: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the celery worker exited at start: {log.read_text()[-500:]}")
        if " ready." in log.read_text():
            return
        time.sleep(0.5)
    raise RuntimeError(f"the celery worker was not ready after {seconds:.0f} s")


class Client:
    """One user's token session on the doccano API."""

    def __init__(self, port: int, username: str, password: str) -> None:
        login = Http(port, {"Content-Type": "application/json"})
        credentials = json.dumps({"username": username, "password": password}).encode()
        status, answer, _ = login.request("POST", "/v1/auth/login/", "login", credentials)
        if status != 200:
            raise RuntimeError(f"login {username}: {status} {answer[:300]!r}")
        self.auth = {"Authorization": f"Token {json.loads(answer)['key']}"}
        self.http = Http(port, {**self.auth, "Content-Type": "application/json"})

    def call(self, method: str, url: str, body: object = None, tag: str = "peer") -> object:
        raw = None if body is None else json.dumps(body).encode()
        status, answer, _ = self.http.request(method, url, tag, raw)
        if status >= 400:
            raise RuntimeError(f"{method} {url}: {status} {answer[:300]!r}")
        return json.loads(answer) if answer else None

    def wait_task(self, task_id: str, seconds: float = 900) -> object:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state = self.call("GET", f"/v1/tasks/status/{task_id}", tag="poll")
            if state["error"]:
                raise RuntimeError(f"task {task_id}: {state['error']}")
            if state["ready"]:
                return state["result"]
            time.sleep(POLL_S)
        raise RuntimeError(f"task {task_id} not done after {seconds:.0f} s")


def drive_doccano(port: int, password: str, roots: list[int], quick: bool) -> dict:
    import urllib3

    admin = Client(port, "admin", password)
    project = admin.call(
        "POST",
        "/v1/projects",
        {
            "name": "bench",
            "description": "bench",
            "guideline": "",
            "project_type": "SequenceLabeling",
            "resourcetype": "SequenceLabelingProject",
        },
    )
    base = f"/v1/projects/{project['id']}"
    types = {
        key: admin.call("POST", f"{base}/span-types", {"text": key, "background_color": "#209cee"})[
            "id"
        ]
        for key in LABELS
    }
    editor_password = secrets.token_urlsafe(16)
    user = admin.call(
        "POST",
        "/v1/users/create",
        {"username": "editor", "password1": editor_password, "password2": editor_password},
    )
    roles = {role["name"]: role["id"] for role in admin.call("GET", "/v1/roles")}
    admin.call("POST", f"{base}/members", {"user": user["id"], "role": roles["annotator"]})
    editor = Client(port, "editor", editor_password)

    rng = random.Random(1_000)
    count, annotated = (200, 40) if quick else (1_000, 200)
    rows = [
        {"text": news_text(rng, 5_000), "title": sentence(rng), "label": []} for _ in range(count)
    ]
    upload, content_type = urllib3.encode_multipart_formdata(
        [
            ("filepond", "{}"),
            ("filepond", ("articles.jsonl", "".join(json.dumps(r) + "\n" for r in rows))),
        ]
    )
    started = time.perf_counter()
    status, upload_id, _ = admin.http.request(
        "POST", "/v1/fp/process/", "import", upload, **{"Content-Type": content_type}
    )
    if status != 200:
        raise RuntimeError(f"upload: {status} {upload_id[:300]!r}")
    task = admin.call(
        "POST",
        f"{base}/upload",
        {
            "uploadIds": [upload_id.decode()],
            "format": "JSONL",
            "task": "SequenceLabeling",
            "column_data": "text",
            "column_label": "label",
            "encoding": "utf_8",
        },
    )
    result = admin.wait_task(task["task_id"])
    import_s = time.perf_counter() - started
    listing = admin.call("GET", f"{base}/examples?limit={count}")
    if result["error"] or listing["count"] != count:
        raise RuntimeError(f"import: {listing['count']} of {count}, {result['error'][:3]}")
    examples = sorted(listing["results"], key=lambda row: row["id"])[:annotated]
    ids = [row["id"] for row in examples]

    saves, spans_total = [], 0
    for client in (admin, editor):
        for example in examples:
            spans = choose_spans(example["text"], rng, 40)
            started = time.perf_counter()
            for start, end, key in spans:
                client.call(
                    "POST",
                    f"{base}/examples/{example['id']}/spans",
                    {"label": types[key], "start_offset": start, "end_offset": end},
                    tag="save",
                )
            saves.append((time.perf_counter() - started) * 1000)
            spans_total += len(spans)

    fetches = []
    for n in range(100 if quick else 500):
        example = ids[n % len(ids)]
        started = time.perf_counter()
        admin.call("GET", f"{base}/examples/{example}", tag="fetch")
        admin.call("GET", f"{base}/examples/{example}/spans", tag="fetch")
        fetches.append((time.perf_counter() - started) * 1000)

    def fetch(chooser: random.Random) -> list[str]:
        example = chooser.choice(ids)
        return [f"{base}/examples/{example}", f"{base}/examples/{example}/spans"]

    rps, fetches_per_s, errors = concurrent(port, admin.auth, fetch, 5 if quick else 20)

    started = time.perf_counter()
    task = admin.call("POST", f"{base}/download", {"format": "JSONL", "exportApproved": False})
    admin.wait_task(task["task_id"])
    status, archive, _ = admin.http.request(
        "GET", f"{base}/download?taskId={task['task_id']}", "export"
    )
    export_s = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"export: {status} {archive[:300]!r}")
    exported = exported_spans(archive)
    if exported != spans_total:
        raise RuntimeError(f"export holds {exported} spans of {spans_total}")

    pids = [pid for root in roots for pid in tree_pids(root)]
    return {
        "ok": True,
        "version": VERSION,
        "import_articles_per_s": count / import_s,
        "import_note": f"{count:,} articles in {import_s:.2f} s (upload + import task)",
        "save_p50_ms": statistics.median(saves),
        "save_p95_ms": pct(saves, 0.95),
        "save_note": f"40 requests: no bulk span endpoint ({len(saves)} saves, 2 users)",
        "fetch_p50_ms": statistics.median(fetches),
        "fetch_p95_ms": pct(fetches, 0.95),
        "fetch_note": "two requests (example + spans)",
        "concurrent_rps": rps,
        "concurrent_articles_per_s": fetches_per_s,
        "concurrent_errors": errors,
        "concurrent_note": f"{rps:.0f} requests/s = {fetches_per_s:.0f} articles/s",
        "export_json_spans_per_s": spans_total / export_s,
        "export_json_note": f"{spans_total:,} spans as JSONL (zip, async task) in "
        f"{export_s:.2f} s ({len(archive) / 1e6:.1f} MB zipped)",
        "export_conll_spans_per_s": None,
        "export_conll_note": "not offered",
        "memory_after_mib": sum(rss_kib(pid) for pid in pids) / 1024,
        "memory_note": f"over {len(pids)} processes",
    }


def exported_spans(archive: bytes) -> int:
    """Spans in a JSONL export zip: one file per member, one line per example."""
    total = 0
    with zipfile.ZipFile(io.BytesIO(archive)) as folder:
        for name in folder.namelist():
            for line in folder.read(name).decode().splitlines():
                if line.strip():
                    total += len(json.loads(line)["label"])
    return total
