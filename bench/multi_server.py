"""Requests per second over one and over three app servers on one PostgreSQL.

    .venv/bin/python bench/multi_server.py [--servers 1 3] [--seconds 15] [--clients 12]

Creates a database ``bench_multi_<pid>`` on the PostgreSQL at 127.0.0.1:5432 (user postgres,
dropped afterwards), migrates it and seeds a project (300 articles of about 1,500 characters,
three editors assigned to each). Then, for each server count, it starts that many gunicorn
servers (``bench/suite.py``'s Server: 2 sync workers each, production settings,
DB_CONN_MAX_AGE=60, each with its own TMPDIR) and drives them from `--clients` threads, the
requests spread round-robin over the servers, for `--seconds` each after a 3 s warm-up:

- read: ``GET /api/articles/{id}/`` (the text and its sha256);
- write: ``PUT /api/articles/{id}/annotation/`` (each client its own editor and articles,
  5 spans, the base version it last got back: no conflicts);
- agreement: ``GET /api/projects/{slug}/agreement/`` (from the stored statistics).

It prints requests/s and the client-side p50/p95 per workload, and the machine's CPUs and load.
Nothing here asserts a time; ``tests/test_multi_server.py`` checks the behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from suite import HOST, PG_ADMIN, ROOT, Http, Server, choose_spans, news_text, pct

ARTICLES = 300
EDITORS = 3
SPANS = 5
WARM_UP_SECONDS = 3.0


def setup_database(name: str, workdir: Path) -> dict[str, str]:
    import psycopg

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))},
        "DJANGO_SETTINGS_MODULE": "annotate.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "DB_CONN_MAX_AGE": "60",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "STATIC_ROOT": str(workdir / "static"),
    }
    os.environ.update(env)
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def drop_database(name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def seed() -> dict:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from annotate.models import Article, Assignment, Label, Membership, Project, Role, text_sha256

    rng = random.Random(11)
    User = get_user_model()
    project = Project.objects.create(name="Bench", slug="bench", overlap=EDITORS)
    for order, key in enumerate(["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]):
        Label.objects.create(project=project, key=key, name=key.title(), order=order)
    editors = [User.objects.create_user(f"ed{n}") for n in range(EDITORS)]
    manager = User.objects.create_user("manager")
    Membership.objects.bulk_create(
        [Membership(project=project, user=u, role=Role.EDITOR) for u in editors]
        + [Membership(project=project, user=manager, role=Role.MANAGER)]
    )
    texts = [news_text(rng, 1500) for _ in range(ARTICLES)]
    articles = Article.objects.bulk_create(
        [
            Article(
                project=project, external_id=f"b{n}", title=f"B{n}", text=t, sha256=text_sha256(t)
            )
            for n, t in enumerate(texts)
        ]
    )
    Assignment.objects.bulk_create(
        [Assignment(article=a, editor=e) for a in articles for e in editors]
    )
    return {
        "slug": project.slug,
        "articles": [(a.pk, a.text) for a in articles],
        "editor_tokens": [Token.objects.create(user=u).key for u in editors],
        "manager_token": Token.objects.create(user=manager).key,
        "versions": {},
    }


def drive(
    servers: list[Server], clients: int, seconds: float, request: Callable[[Http, int, int], int]
) -> tuple[int, list[float], int]:
    """`request(http, client, n)` from `clients` threads for `seconds`; (done, ms, errors)."""
    times: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.monotonic() + seconds

    def client(c: int) -> None:
        http = Http(servers[c % len(servers)].port, {})
        n = 0
        while time.monotonic() < deadline and n < 100_000:
            started = time.perf_counter()
            if request(http, c, n) >= 400:
                errors[c] += 1
            times[c].append((time.perf_counter() - started) * 1000)
            n += 1

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 300)
    flat = [t for per in times for t in per]
    return len(flat), flat, sum(errors)


def run(count: int, env: dict[str, str], data: dict, args, workdir: Path) -> list[str]:
    rng = random.Random(5)
    servers = []
    for n in range(count):
        home = workdir / f"s{count}-{n}"
        (home / "tmp").mkdir(parents=True)
        servers.append(Server({**env, "TMPDIR": str(home / "tmp")}, home))
    lines = []
    try:
        for server in servers:
            server.start()
        articles, tokens = data["articles"], data["editor_tokens"]
        versions: dict[tuple[int, int], int] = data["versions"]

        def read(http: Http, c: int, n: int) -> int:
            pk = articles[(c * 7919 + n) % len(articles)][0]
            auth = {"Authorization": f"Token {tokens[0]}"}
            return http.request("GET", f"/api/articles/{pk}/", "read", **auth)[0]

        def write(http: Http, c: int, n: int) -> int:
            editor = c % len(tokens)
            index = (c // len(tokens) + n * (args.clients // len(tokens) + 1)) % len(articles)
            pk, text = articles[index]
            spans = [
                {"start": s, "end": e, "label": label}
                for s, e, label in choose_spans(text, rng, SPANS)
            ]
            body = {"base_version": versions.get((pk, editor), 0), "spans": spans, "submit": True}
            status, answer, _ = http.request(
                "PUT",
                f"/api/articles/{pk}/annotation/",
                "write",
                json.dumps(body).encode(),
                **{"Authorization": f"Token {tokens[editor]}", "Content-Type": "application/json"},
            )
            if status in (200, 409):  # a 409 tells the current version: carry on from it
                state = json.loads(answer)
                versions[(pk, editor)] = state.get("current_version", state.get("version"))
            return status

        def report(http: Http, c: int, n: int) -> int:
            auth = {"Authorization": f"Token {data['manager_token']}"}
            url = f"/api/projects/{data['slug']}/agreement/"
            return http.request("GET", url, "agreement", **auth)[0]

        for name, work in (("read", read), ("write", write), ("agreement", report)):
            drive(servers, args.clients, WARM_UP_SECONDS, work)  # first requests load code
            done, times, errors = drive(servers, args.clients, args.seconds, work)
            lines.append(
                f"  {count} server(s)  {name:<10} {done / args.seconds:7.1f} req/s   "
                f"p50 {pct(times, 0.5):7.1f} ms  p95 {pct(times, 0.95):7.1f} ms  errors {errors}"
            )
            print(lines[-1], flush=True)
    finally:
        for server in servers:
            server.stop()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=12)
    args = parser.parse_args()
    name = f"bench_multi_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="bench-multi-"))
    (workdir / "static").mkdir()
    env = setup_database(name, workdir)
    try:
        data = seed()
        print(
            f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {args.clients} "
            f"clients, 2 sync workers per server, {args.seconds:.0f} s per workload",
            flush=True,
        )
        for count in args.servers:
            run(count, env, data, args, workdir)
        print(f"load at the end {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        drop_database(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
