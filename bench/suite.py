"""What users feel, over real HTTP, side by side with a floor and with the peers.

    .venv/bin/python bench/suite.py [--db sqlite|postgres|both] [--quick] [--skip-big] [--table]

For each database it creates a fresh one (a temporary SQLite file, or a database
``bench_<pid>`` on the PostgreSQL at 127.0.0.1:5432, user postgres, dropped afterwards),
migrates it, collects static files into a temporary folder, seeds deterministic synthetic
news-like data (``random.Random`` with fixed seeds), and starts gunicorn with 2 *sync*
workers on 127.0.0.1 and a free port, configured as in production (DEBUG=0, a generated
SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, SECURE_SSL_REDIRECT=0, DB_CONN_MAX_AGE=60) plus
BENCH_FLOOR=1, which routes the floor: ``annotate/bench_urls.py``, a bare Django view on the
same stack that reads the request body and answers the same number of bytes with no query.
Then it drives the workloads over HTTP from this machine (urllib3; threads for the
concurrent clients), reads each request's server time from gunicorn's access log (%(D)s)
and the workers' memory from /proc, stops everything and prints one table.

Every latency and rate is also given as a multiple of the floor measured in the same run
(the floor's cost = 1; these machines are shared and absolute times drift), and, where the
peers (Label Studio, doccano) ran the same workload, their figure and how many times faster
we are: measured now by ``bench/peers/run.py`` (``bench/out/peers.json``) or else the
figures recorded once on a machine like ours (``bench/peers/anchors.json``).

Nothing here asserts a time; the test suite checks behaviour.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PEERS = ROOT / "bench" / "peers"
PYTHON = sys.executable
HOST = "127.0.0.1"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
LABELS = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]
MiB = 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    page_runs: int = 30
    span_runs: int = 30
    put_articles: int = 200
    fetches: int = 500
    concurrent_seconds: float = 20.0
    clients: int = 8
    import_articles: int = 10_000
    import_batch: int = 1_000
    export_small: int = 1_000
    agreement_editors: int = 3
    spans: int = 40


QUICK = Sizes(
    page_runs=10,
    span_runs=10,
    put_articles=40,
    fetches=100,
    concurrent_seconds=5.0,
    import_articles=1_000,
    import_batch=500,
    export_small=200,
)

# --- Synthetic news-like text (deterministic) ---------------------------------------------

ACTORS = [
    "the army", "rebel fighters", "police", "the interior ministry", "Prime Minister Amal Haddad",
    "UN monitors", "the Red Crescent", "local officials", "government forces", "militants",
]  # fmt: skip
PLACES = [
    "Aleppo", "the northern province", "Mosul", "the border crossing", "Kharkiv", "Goma",
    "the capital", "Port-au-Prince", "the coastal town", "Khartoum", "Tigray",
]  # fmt: skip
TOLLS = [
    "three people", "at least 12 civilians", "dozens of fighters", "two children",
    "more than 20 people", "four soldiers", "six aid workers",
]  # fmt: skip
SOURCES = [
    "Reuters", "a spokesman", "witnesses", "the health ministry", "hospital staff",
    "an army statement", "residents",
]  # fmt: skip
VERBS = ["shelled", "attacked", "entered", "withdrew from", "surrounded", "bombed", "reached"]
TAILS = [
    "on Monday", "overnight", "late on Friday", "before dawn", "after days of fighting",
    "as aid convoys waited", "despite the ceasefire",
]  # fmt: skip


def sentence(rng: random.Random) -> str:
    kind = rng.randrange(4)
    actor, place = rng.choice(ACTORS), rng.choice(PLACES)
    if kind == 0:
        text = (
            f"{actor} {rng.choice(VERBS)} {place} {rng.choice(TAILS)}, killing {rng.choice(TOLLS)}"
        )
    elif kind == 1:
        text = f"{rng.choice(TOLLS)} were wounded in {place}, {rng.choice(SOURCES)} said"
    elif kind == 2:
        text = f"according to {rng.choice(SOURCES)}, {actor} reached {place} {rng.choice(TAILS)}"
    else:
        text = f"{rng.choice(SOURCES)} told reporters that {actor} had left {place}"
    return text[0].upper() + text[1:] + "."


def news_text(rng: random.Random, chars: int) -> str:
    parts, size = [], 0
    while size < chars:
        paragraph = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
        parts.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(parts)[:chars].rstrip(" ,\n") + "."


WORD = re.compile(r"\w+(?:['-]\w+)*")


def word_bounds(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in WORD.finditer(text)]


def choose_spans(text: str, rng: random.Random, count: int) -> list[tuple[int, int, str]]:
    """`count` non-overlapping spans of one or two words, labels spread over the four."""
    words = word_bounds(text)
    picks = sorted(rng.sample(range(0, len(words) - 3, 3), count))
    spans = []
    for n in picks:
        last = n + rng.randint(0, 1)
        spans.append((words[n][0], words[last][1], rng.choice(LABELS)))
    return spans


def editor_variant(
    spans: list[tuple[int, int, str]], text: str, rng: random.Random
) -> list[tuple[int, int, str]]:
    """An editor's take on the reference spans: mostly the same, some relabelled, some
    missed, some with a word more or less."""
    words = word_bounds(text)
    starts = {s: i for i, (s, _) in enumerate(words)}
    result = []
    for start, end, label in spans:
        draw = rng.random()
        if draw < 0.05:
            continue
        if draw < 0.15:
            label = rng.choice(LABELS)
        elif draw < 0.25:
            i = starts[start]
            end = words[i][1] if rng.random() < 0.5 else words[min(i + 2, len(words) - 1)][1]
        result.append((start, end, label))
    return sorted(set(result))


# --- Measuring ----------------------------------------------------------------------------


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def rss_kib(pid: int, field_name: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def reset_peaks(pids: list[int]) -> bool:
    """Reset each process's peak RSS (VmHWM), so a later read gives the peak since now."""
    try:
        for pid in pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@dataclass
class Row:
    group: str
    name: str
    ours: str
    floor: str = ""
    x_floor: str = ""
    server: str = ""
    peer_key: str = ""
    our_value: float | None = None  # for the peer comparison: a time (s) or a rate
    higher_is_better: bool = False


@dataclass
class Results:
    database: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(f"  {row.name:<46} {row.ours:<32} floor {row.floor:<22} ×{row.x_floor}", flush=True)


# --- The server ----------------------------------------------------------------------------


class Server:
    """gunicorn, 2 sync workers, production settings, its access log giving server times."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.log = workdir / "access.log"
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        argv = [
            str(Path(PYTHON).parent / "gunicorn"),
            "annotate.wsgi",
            "--workers", "2",
            "--worker-class", "sync",
            "--bind", f"{HOST}:{self.port}",
            "--timeout", "120",
            "--log-level", "warning",
            "--access-logfile", str(self.log),
            "--access-logformat", "%({x-bench}i)s %(s)s %(D)s",
        ]  # fmt: skip
        self.process = subprocess.Popen(argv, cwd=ROOT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited at start")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    if len(self.workers()) == 2:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start in 60 s")

    def workers(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def memory(self) -> tuple[int, list[int]]:
        """RSS in KiB: the master's and each worker's."""
        assert self.process is not None
        return rss_kib(self.process.pid), [rss_kib(pid) for pid in self.workers()]

    def server_times(self, tag: str) -> list[float]:
        """Server time in ms of every request sent with the header X-Bench: tag."""
        times = []
        if self.log.exists():
            for line in self.log.read_text().splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[0] == tag:
                    times.append(int(parts[2]) / 1000)
        return times

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


class Http:
    """Keep-alive HTTP to the bench server (a sync gunicorn worker closes each connection;
    urllib3 reconnects)."""

    def __init__(self, port: int, headers: dict[str, str], size: int = 1) -> None:
        import urllib3

        self.pool = urllib3.HTTPConnectionPool(
            HOST, port, maxsize=size, block=True, retries=False, timeout=urllib3.Timeout(300)
        )
        self.headers = headers

    def request(
        self, method: str, url: str, tag: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, bytes, float]:
        merged = {**self.headers, "X-Bench": tag, **headers}
        started = time.perf_counter()
        response = self.pool.request(method, url, body=body, headers=merged)
        return response.status, response.data, (time.perf_counter() - started) * 1000

    def stream(self, url: str, tag: str) -> tuple[int, int, float]:
        """Download without keeping the body: status, bytes, seconds."""
        started = time.perf_counter()
        response = self.pool.request(
            "GET", url, headers={**self.headers, "X-Bench": tag}, preload_content=False
        )
        size = sum(len(chunk) for chunk in response.stream(256 * 1024))
        response.release_conn()
        return response.status, size, time.perf_counter() - started


# --- One database ---------------------------------------------------------------------------


class Bench:
    def __init__(self, database: str, sizes: Sizes, workdir: Path, skip_big: bool) -> None:
        self.database = database
        self.sizes = sizes
        self.workdir = workdir
        self.skip_big = skip_big
        self.results = Results(database)
        self.pg_name = f"bench_{os.getpid()}"
        self.env: dict[str, str] = {}
        self.server: Server | None = None

    # Set-up

    def configure(self) -> None:
        url = (
            f"sqlite:///{self.workdir / 'bench.sqlite3'}"
            if self.database == "sqlite"
            else f"postgres://postgres@127.0.0.1:5432/{self.pg_name}"
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))},
            "DJANGO_SETTINGS_MODULE": "annotate.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "DB_CONN_MAX_AGE": "60",
            "DATABASE_URL": url,
            "BENCH_FLOOR": "1",
            "STATIC_ROOT": str(self.workdir / "static"),
            "LOG_LEVEL": "WARNING",
        }
        os.environ.update(self.env)
        if self.database == "postgres":
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f"CREATE DATABASE {self.pg_name}")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("collectstatic", verbosity=0, interactive=False)

    def drop(self) -> None:
        if self.database != "postgres":
            return
        from django.db import connections

        connections.close_all()
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")

    def seed(self) -> None:
        from django.contrib.auth import get_user_model
        from django.test import Client
        from rest_framework.authtoken.models import Token

        from annotate.article_parsing import parse_record
        from annotate.models import Label, Membership, Project, Role
        from annotate.services.importing import import_articles

        started = time.perf_counter()
        User = get_user_model()
        self.manager = User.objects.create_user("bench-manager", password=secrets.token_hex(8))
        self.editors = [
            User.objects.create_user(f"bench-editor{n + 1}", password=secrets.token_hex(8))
            for n in range(self.sizes.agreement_editors)
        ]
        self.tokens = {
            user.username: Token.objects.create(user=user).key
            for user in [self.manager, *self.editors]
        }

        def project(slug: str, overlap: int, editors: list) -> Project:
            made = Project.objects.create(name=slug, slug=slug, overlap=overlap)
            for n, key in enumerate(LABELS):
                Label.objects.create(
                    project=made, key=key, name=key.title(), order=n, hotkey=str(n + 1)
                )
            Membership.objects.create(project=made, user=self.manager, role=Role.MANAGER)
            for editor in editors:
                Membership.objects.create(project=made, user=editor, role=Role.EDITOR)
            return made

        editor = self.editors[0]
        # Labelling page: 20,000 characters, 500 spans (one editor).
        self.page_project = project("bench-page", 1, [editor])
        rng = random.Random(20_000)
        self.page_article, self.free_words = self._page_article(editor, rng)
        # API: articles of ~5,000 characters assigned to one editor.
        self.api_project = project("bench-api", 1, [editor])
        rng = random.Random(5_000)
        records = [
            parse_record(
                {
                    "external_id": f"api-{n}",
                    "title": sentence(rng),
                    "text": news_text(rng, 5_000),
                    "published_at": "2024-03-05T08:15:00Z",
                    "meta": {"section": rng.choice(["world", "regional", "politics"])},
                }
            )
            for n in range(self.sizes.put_articles)
        ]
        result = import_articles(project=self.api_project, records=records, user=self.manager)
        self.api_articles = result.article_ids
        # Bulk import target: three editors label every article.
        self.bulk_project = project("bench-bulk", 3, self.editors)
        client = Client()
        client.force_login(editor)
        self.session = client.cookies["sessionid"].value
        self.csrf = secrets.token_hex(16)  # 32 characters: Django accepts an unmasked secret
        print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)

    def _page_article(self, editor, rng: random.Random):
        from annotate.article_parsing import parse_record
        from annotate.models import Article, Role
        from annotate.services.annotations import SpanInput, annotation_for, save_annotation
        from annotate.services.importing import import_articles

        record = {"external_id": "long", "title": "A long article", "text": news_text(rng, 20_000)}
        result = import_articles(
            project=self.page_project, records=[parse_record(record)], user=editor
        )
        article = Article.objects.get(pk=result.article_ids[0])
        words = word_bounds(article.text)
        chosen = words[:1000:2]
        spans = [SpanInput(s, e, LABELS[n % 4]) for n, (s, e) in enumerate(chosen[:450])]
        # 50 two-word spans holding a nested one, as real labelling has.
        for n, (s, _) in enumerate(chosen[450:500]):
            spans.append(SpanInput(s, words[words.index(chosen[450 + n]) + 1][1], "ACTOR"))
        save_annotation(
            annotation=annotation_for(article, editor),
            author=editor,
            role=Role.EDITOR,
            base_version=0,
            spans=spans,
        )
        free = [w for w in words if w[0] > chosen[-1][1] + 40]
        return article, free

    # Workloads

    def floor(
        self,
        http: Http,
        method: str,
        size: int,
        runs: int,
        body: bytes | None = None,
        query: bool = False,
    ) -> tuple[list[float], list[float]]:
        tag = f"floor-{method}-{size}-{runs}-{uuid.uuid4().hex[:6]}"
        url = f"/bench/floor/?bytes={size}" + ("&query=1" if query else "")
        walls = []
        for _ in range(runs):
            status, data, ms = http.request(method, url, tag, body)
            assert status == 200 and len(data) == size, status
            walls.append(ms)
        return walls, self.server.server_times(tag)

    def latency_row(
        self,
        group: str,
        name: str,
        walls: list[float],
        server: list[float],
        floor: tuple[list[float], list[float]],
        peer_key: str = "",
        by_server: bool = False,
    ) -> None:
        """p50/p95 of the round trip (or of the server time), and the floor's."""
        ours, base = (server, floor[1]) if by_server else (walls, floor[0])
        self.results.add(
            Row(
                group,
                name,
                f"p50 {p50(ours):.1f} ms, p95 {pct(ours, 0.95):.1f} ms",
                f"p50 {p50(base):.2f} ms",
                f"{p50(ours) / p50(base):.1f}",
                f"p50 {p50(server):.1f} ms" if server else "",
                peer_key,
                p50(walls) / 1000,
            )
        )

    def labelling_page(self, http: Http) -> None:
        from annotate.models import Annotation
        from annotate.offsets import to_utf16

        article = self.page_article
        url = f"/articles/{article.pk}/"
        for _ in range(4):  # each worker compiles its templates once
            status, page, _ = http.request("GET", url, "warm")
            assert status == 200, status
            http.request("GET", "/bench/floor/?bytes=10", "warm")
        walls = []
        for _ in range(self.sizes.page_runs):
            status, page, ms = http.request("GET", url, "page")
            assert status == 200, status
            walls.append(ms)
        floor = self.floor(http, "GET", len(page), self.sizes.page_runs)
        name = f"1. labelling page, 20k chars, 500 spans ({len(page) // 1024} KiB)"
        self.latency_row("page", name, walls, self.server.server_times("page"), floor, "", True)

        annotation = Annotation.objects.get(article=article, annotator=self.editors[0])
        walls, fragment, body = [], b"", b""
        for start, end in self.free_words[: self.sizes.span_runs * 2 : 2]:
            form = {
                "start": to_utf16(article.text, start),
                "end": to_utf16(article.text, end),
                "quote": article.text[start:end],
                "label": "SOURCE",
                "base_version": annotation.version,
                "request_key": str(uuid.uuid4()),
            }
            from urllib.parse import urlencode

            body = urlencode(form).encode()
            status, fragment, ms = http.request(
                "POST",
                f"/articles/{article.pk}/spans/",
                "add-span",
                body,
                # As the page's script sends it: the answer is what changed, as JSON.
                **{
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
            )
            assert status == 200, (status, fragment[:300])
            annotation.version += 1
            walls.append(ms)
        floor = self.floor(http, "POST", len(fragment), self.sizes.span_runs, body)
        name = f"2. add a span, POST → what changed ({len(fragment) / 1024:.1f} KiB)"
        self.latency_row("page", name, walls, self.server.server_times("add-span"), floor, "", True)

    def api(self, port: int) -> None:
        token = {"Authorization": f"Token {self.tokens[self.editors[0].username]}"}
        http = Http(port, token)
        rng = random.Random(40)
        from annotate.models import Article

        texts = dict(Article.objects.filter(pk__in=self.api_articles).values_list("pk", "text"))
        walls, body, answer = [], b"", b""
        for article_id in self.api_articles:
            spans = choose_spans(texts[article_id], rng, self.sizes.spans)
            body = json.dumps(
                {
                    "base_version": 0,
                    "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans],
                    "submit": True,
                }
            ).encode()
            status, answer, ms = http.request(
                "PUT",
                f"/api/articles/{article_id}/annotation/",
                "put",
                body,
                **{"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
            )
            assert status == 200, (status, answer[:300])
            walls.append(ms)
        floor = self.floor(http, "PUT", len(answer), len(walls), body)
        name = f"3a. save 40 spans, PUT …/annotation/ ×{len(walls)} articles"
        self.latency_row("api", name, walls, self.server.server_times("put"), floor, "save")

        walls = []
        for n in range(self.sizes.fetches):
            article_id = self.api_articles[n % len(self.api_articles)]
            status, answer, ms = http.request(
                "GET", f"/api/articles/{article_id}/?include=annotation", "fetch"
            )
            assert status == 200, status
            walls.append(ms)
        floor = self.floor(http, "GET", len(answer), len(walls))
        name = f"3b. fetch article + annotation ×{len(walls)} ({len(answer) // 1024} KiB)"
        self.latency_row("api", name, walls, self.server.server_times("fetch"), floor, "fetch")
        one_query = self.floor(http, "GET", len(answer), len(walls), query=True)
        self.results.add(
            Row(
                "api",
                "    floor with one query (SELECT 1), same size",
                f"p50 {p50(one_query[0]):.2f} ms",
                f"p50 {p50(floor[0]):.2f} ms",
                f"{p50(one_query[0]) / p50(floor[0]):.1f}",
                f"p50 {p50(one_query[1]):.2f} ms",
            )
        )

        rate, errors = self.concurrent(
            port, token, lambda n: f"/api/articles/{n}/?include=annotation"
        )
        floor_rate, _ = self.concurrent(port, token, lambda n: f"/bench/floor/?bytes={len(answer)}")
        self.results.add(
            Row(
                "api",
                f"3c. {self.sizes.clients} clients × {self.sizes.concurrent_seconds:.0f} s, fetch",
                f"{rate:.0f} requests/s, {errors} errors",
                f"{floor_rate:.0f} requests/s",
                f"{floor_rate / rate:.1f}",
                peer_key="concurrent",
                our_value=rate,
                higher_is_better=True,
            )
        )

    def concurrent(self, port: int, headers: dict[str, str], url) -> tuple[float, int]:
        deadline = time.monotonic() + self.sizes.concurrent_seconds
        counts = [[0, 0] for _ in range(self.sizes.clients)]

        def client(n: int) -> None:
            http = Http(port, headers)
            rng = random.Random(n)
            while time.monotonic() < deadline:
                try:
                    status, _, _ = http.request("GET", url(rng.choice(self.api_articles)), "c")
                    counts[n][0 if status == 200 else 1] += 1
                except Exception:  # noqa: BLE001 -- an error is counted, not raised
                    counts[n][1] += 1

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(len(counts))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
        return sum(ok for ok, _ in counts) / took, sum(err for _, err in counts)

    def bulk_import(self, port: int) -> list[tuple[str, str]]:
        """Workload 4; returns the (external id, text) of what it imported."""
        http = Http(port, {"Authorization": f"Token {self.tokens[self.manager.username]}"})
        rng = random.Random(10_000)
        total, batch = self.sizes.import_articles, self.sizes.import_batch
        items = [(f"bulk-{n}", news_text(rng, 5_000)) for n in range(total)]
        bodies = []
        for first in range(0, total, batch):
            lines = [
                json.dumps({"external_id": key, "title": text[:60], "text": text})
                for key, text in items[first : first + batch]
            ]
            bodies.append(("\n".join(lines) + "\n").encode())
        started = time.perf_counter()
        answer = b""
        for body in bodies:
            status, answer, _ = http.request(
                "POST",
                "/api/projects/bench-bulk/articles/",
                "import",
                body,
                **{"Content-Type": "application/x-ndjson"},
            )
            assert status == 201, (status, answer[:300])
        took = time.perf_counter() - started
        started = time.perf_counter()
        for body in bodies:
            http.request("POST", f"/bench/floor/?bytes={len(answer)}", "floor-import", body)
        floor = time.perf_counter() - started
        megabytes = sum(map(len, bodies)) / MiB
        self.results.add(
            Row(
                "big",
                f"4. import {total:,} × 5,000 chars, {len(bodies)} POSTs ({megabytes:.0f} MB)",
                f"{total / took:,.0f} articles/s ({took:.1f} s)",
                f"{total / floor:,.0f} articles/s",
                f"{took / floor:.1f}",
                peer_key="import",
                our_value=total / took,
                higher_is_better=True,
            )
        )
        return items

    def seed_annotations(self, project, items: list[tuple[str, str]], editors: bool = True) -> None:
        """Three submitted editor annotations and a final gold of 40 spans on every imported
        article, as save_annotation stores them (version 1, one version row, one row per
        span), written in bulk: 10,000 × 4 calls of the write path would be most of the run."""
        from annotate.models import Annotation, AnnotationVersion, Article, Label, Span

        started = time.perf_counter()
        labels = {label.key: label for label in Label.objects.filter(project=project)}
        ids = dict(Article.objects.filter(project=project).values_list("external_id", "pk"))
        rng = random.Random(3)
        for first in range(0, len(items), 1_000):
            chunk = items[first : first + 1_000]
            plan = []  # (annotation, author, status, final, spans, text)
            for key, text in chunk:
                text = text.strip()
                reference = choose_spans(text, rng, self.sizes.spans)
                article_id = ids[key]
                for editor in self.editors if editors else []:
                    plan.append(
                        (
                            Annotation(
                                article_id=article_id,
                                kind=Annotation.Kind.EDITOR,
                                annotator=editor,
                                status=Annotation.Status.SUBMITTED,
                                version=1,
                            ),
                            editor,
                            editor_variant(reference, text, rng),
                            text,
                        )
                    )
                plan.append(
                    (
                        Annotation(
                            article_id=article_id, kind=Annotation.Kind.GOLD, version=1, final=True
                        ),
                        self.manager,
                        reference,
                        text,
                    )
                )
            annotations = Annotation.objects.bulk_create([p[0] for p in plan], batch_size=500)
            if any(a.pk is None for a in annotations):
                raise RuntimeError("the database did not return ids from a bulk insert")
            AnnotationVersion.objects.bulk_create(
                [
                    AnnotationVersion(
                        annotation=a,
                        number=1,
                        author=author,
                        status=a.status,
                        final=a.final,
                        span_count=len(spans),
                    )
                    for a, author, spans, _ in plan
                ],
                batch_size=500,
            )
            Span.objects.bulk_create(
                [
                    Span(
                        annotation=a,
                        start=s,
                        end=e,
                        label=labels[lab],
                        text=text[s:e],
                        added_in=1,
                    )
                    for a, _, spans, text in plan
                    for s, e, lab in spans
                ],
                batch_size=2_000,
            )
        took = time.perf_counter() - started
        print(f"  seeded 3 editors + gold on {len(items):,} articles in {took:.1f} s", flush=True)

    def seed_small_export(self, count: int) -> None:
        """The first `count` of the imported articles again, in a project of their own with
        the same gold: the export's memory must not depend on the project's size."""
        from annotate.article_parsing import parse_record
        from annotate.models import Article
        from annotate.services.importing import import_articles

        items = list(
            Article.objects.filter(project=self.bulk_project)
            .order_by("pk")
            .values_list("external_id", "text")[:count]
        )
        import_articles(
            project=self.small_project,
            records=[parse_record({"external_id": k, "text": t}) for k, t in items],
            user=self.manager,
            assign=False,
        )
        self.seed_annotations(self.small_project, items, editors=False)

    def export(self, port: int) -> None:
        http = Http(port, {"Authorization": f"Token {self.tokens[self.manager.username]}"})
        spans_per = self.sizes.spans
        # A long-running server has built its tokenizer tables (about a second, once per
        # worker): two exports at once so that both workers do it before the timed ones.
        warm = [
            threading.Thread(
                target=Http(port, http.headers).stream,
                args=("/api/projects/bench-small/export/?format=conll", "warm"),
            )
            for _ in range(2)
        ]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join()
        for slug, count in (
            ("bench-bulk", self.sizes.import_articles),
            ("bench-small", self.sizes.export_small),
        ):
            for format in ("jsonl", "conll"):
                workers = self.server.workers()
                before = max(rss_kib(pid) for pid in workers)
                exact = reset_peaks(workers)
                peak = [0]
                done = threading.Event()

                def watch(workers=workers, peak=peak, done=done) -> None:
                    while not done.wait(0.01):
                        peak[0] = max(peak[0], *(rss_kib(pid) for pid in workers))

                watcher = threading.Thread(target=watch)
                watcher.start()
                url = f"/api/projects/{slug}/export/?format={format}&final=true"
                status, size, took = http.stream(url, f"export-{slug}-{format}")
                done.set()
                watcher.join()
                assert status == 200, status
                if exact:
                    peak[0] = max(rss_kib(pid, "VmHWM") for pid in workers)
                _, floor_size, floor_took = http.stream(
                    f"/bench/floor/?bytes={size}&stream=1", "floor-export"
                )
                spans = count * spans_per
                self.results.add(
                    Row(
                        "big",
                        f"5. export {count:,} gold × {spans_per} spans, {format} "
                        f"({size / MiB:.0f} MB)",
                        f"{size / MiB / took:.1f} MB/s, {spans / took:,.0f} spans/s, "
                        f"worker peak {peak[0] / 1024:.0f} MiB ({(peak[0] - before) / 1024:+.1f})",
                        f"{floor_size / MiB / floor_took:.0f} MB/s",
                        f"{took / floor_took:.1f}",
                        peer_key=f"export_{format}" if slug == "bench-bulk" else "",
                        our_value=spans / took,
                        higher_is_better=True,
                    )
                )

    def agreement(self, port: int) -> None:
        """Workload 6: the full recompute (manage.py recompute_agreement, its own process:
        time and peak RSS), then the report over HTTP."""
        started = time.perf_counter()
        child = subprocess.Popen(
            [PYTHON, "manage.py", "recompute_agreement", "--project", "bench-bulk"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        took = time.perf_counter() - started
        output = child.stdout.read().strip() if child.stdout else ""
        assert child.returncode == 0, output
        n = self.sizes.import_articles
        editors = self.sizes.agreement_editors
        self.results.add(
            Row(
                "big",
                f"6. agreement recompute, {n:,} × {editors} editors × {self.sizes.spans} spans",
                f"{took:.1f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MiB (whole process)",
            )
        )
        http = Http(port, {"Authorization": f"Token {self.tokens[self.manager.username]}"})
        walls = []
        for unit in ("token", "char"):
            for _ in range(3):
                status, answer, ms = http.request(
                    "GET", f"/api/projects/bench-bulk/agreement/?unit={unit}", "agreement"
                )
                assert status == 200, (status, answer[:300])
                walls.append(ms)
        report = json.loads(answer)
        floor = self.floor(http, "GET", len(answer), 3)
        self.results.add(
            Row(
                "big",
                f"6b. agreement report over HTTP ({report.get('articles_total', '?')} articles)",
                f"p50 {p50(walls):.0f} ms",
                f"p50 {p50(floor[0]):.1f} ms",
                f"{p50(walls) / p50(floor[0]):.0f}",
            )
        )

    def memory(self) -> None:
        master, workers = self.server.memory()
        self.results.add(
            Row(
                "end",
                "7. server memory after the run (RSS)",
                f"{(master + sum(workers)) / 1024:.0f} MiB: master {master / 1024:.0f}, workers "
                + ", ".join(f"{w / 1024:.0f}" for w in workers),
                peer_key="memory",
                our_value=(master + sum(workers)) / 1024,
            )
        )

    def run(self) -> Results:
        try:
            self.configure()
            self.seed()
            from annotate.models import Membership, Project, Role

            self.small_project = Project.objects.create(
                name="bench-small", slug="bench-small", overlap=3
            )
            for n, key in enumerate(LABELS):
                self.small_project.labels.create(key=key, name=key.title(), order=n)
            Membership.objects.create(
                project=self.small_project, user=self.manager, role=Role.MANAGER
            )
            self.server = Server(self.env, self.workdir)
            self.server.start()
            print(f"  gunicorn 2 sync workers on {HOST}:{self.server.port}", flush=True)
            page = Http(
                self.server.port,
                {
                    "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}",
                    "X-CSRFToken": self.csrf,
                },
            )
            self.labelling_page(page)
            self.api(self.server.port)
            if not self.skip_big:
                items = self.bulk_import(self.server.port)
                self.seed_annotations(self.bulk_project, items)
                self.seed_small_export(self.sizes.export_small)
                self.export(self.server.port)
                self.agreement(self.server.port)
            self.memory()
        finally:
            if self.server is not None:
                self.server.stop()
            self.drop()
        return self.results


# --- The table ------------------------------------------------------------------------------

PEER_FIELDS = {
    # our row's peer_key -> (peer figure key, unit, figure is a time in seconds?)
    "save": ("save_p50_ms", "ms p50", True),
    "fetch": ("fetch_p50_ms", "ms p50", True),
    "concurrent": ("concurrent_rps", "req/s", False),
    "import": ("import_articles_per_s", "articles/s", False),
    "export_jsonl": ("export_json_spans_per_s", "spans/s (JSON)", False),
    "export_conll": ("export_conll_spans_per_s", "spans/s (CoNLL)", False),
    "memory": ("memory_after_mib", "MiB", True),
}


def load_peers() -> dict[str, dict]:
    """Measured now (bench/out/peers.json) where present, else the recorded figures."""
    recorded = json.loads((PEERS / "anchors.json").read_text())["peers"]
    peers = {name: {**figures, "source": "recorded"} for name, figures in recorded.items()}
    measured = OUT / "peers.json"
    if measured.exists():
        saved = json.loads(measured.read_text())
        for name, figures in saved.get("peers", {}).items():
            if figures.get("ok"):
                quick = " (--quick)" if figures.get("quick", saved.get("quick")) else ""
                peers[name] = {**figures, "source": f"measured now{quick}"}
    return peers


def peer_cell(row: Row, figures: dict) -> str:
    if not row.peer_key or row.our_value is None or row.peer_key not in PEER_FIELDS:
        return ""
    key, unit, is_time = PEER_FIELDS[row.peer_key]
    if row.peer_key == "concurrent" and "concurrent_articles_per_s" in figures:
        # A peer that needs two requests per article: compare articles, as ours is one request.
        key, unit = "concurrent_articles_per_s", "articles/s"
    value = figures.get(key)
    if value is None:
        return "—"
    if row.peer_key == "memory":
        return f"{value:,.0f} {unit} ({value / row.our_value:.1f}× ours)"
    speedup = value / (row.our_value * 1000) if is_time else row.our_value / value
    if speedup < 1:
        return f"{value:,.1f} {unit}: ours {1 / speedup:.1f}× slower"
    return f"{value:,.1f} {unit}: ours {speedup:.1f}× faster"


def print_table(all_results: list[Results], peers: dict[str, dict]) -> None:
    headers = ["workload", "db", "ours", "server", "floor", "×floor"]
    names = list(peers)
    headers += [f"{name} ({peers[name]['source']})" for name in names]
    lines = []
    for results in all_results:
        for row in results.rows:
            lines.append(
                [row.name, results.database, row.ours, row.server, row.floor, row.x_floor]
                + [peer_cell(row, peers[name]) for name in names]
            )
    print()
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for line in lines:
        print("| " + " | ".join(line) + " |")
    print()
    print(
        "ours: round trip from a client on the same machine (server: gunicorn's own time for "
        "the request); ×floor: our cost as a multiple of the floor's (a bare Django view on the "
        "same stack, same response size, no query); peers: their figure on SQLite and how many "
        "times faster we are."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--skip-big", action="store_true", help="workloads 1-3 and 7 only")
    parser.add_argument(
        "--table",
        action="store_true",
        help="print the table again from bench/out/suite.json (e.g. after bench/peers/run.py)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.table:
        saved = json.loads((OUT / "suite.json").read_text())
        print_table(
            [Results(r["database"], [Row(**x) for x in r["rows"]]) for r in saved], load_peers()
        )
        return 0
    sizes = QUICK if args.quick else Sizes()
    if args.child:
        # One database per process: Django is set up once per process.
        workdir = Path(tempfile.mkdtemp(prefix="bench-suite-"))
        try:
            results = Bench(args.db, sizes, workdir, args.skip_big).run()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        Path(args.child).write_text(
            json.dumps({"database": results.database, "rows": [r.__dict__ for r in results.rows]})
        )
        return 0
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    all_results = []
    for database in databases:
        print(f"== {database} ==", flush=True)
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            argv = [PYTHON, __file__, "--db", database, "--child", out.name]
            argv += ["--quick"] * args.quick + ["--skip-big"] * args.skip_big
            if subprocess.run(argv, check=False).returncode != 0:
                print(f"{database}: failed", file=sys.stderr)
                continue
            data = json.loads(Path(out.name).read_text())
        all_results.append(Results(data["database"], [Row(**r) for r in data["rows"]]))
    OUT.mkdir(exist_ok=True)
    (OUT / "suite.json").write_text(
        json.dumps(
            [{"database": r.database, "rows": [x.__dict__ for x in r.rows]} for r in all_results],
            indent=1,
        )
    )
    print_table(all_results, load_peers())
    return 0 if len(all_results) == len(databases) else 1


if __name__ == "__main__":
    raise SystemExit(main())
