"""A million articles: fill PostgreSQL with COPY, then time what users ask for over HTTP.

    .venv/bin/python bench/scale.py --articles 10000            # fill (or --reuse) and measure
    .venv/bin/python bench/scale.py --articles 1000000 --reuse  # measure a database kept earlier
    .venv/bin/python bench/scale.py --compare 10000,1000000     # both, side by side

Each size has its own database ``annotate_scale_<n>`` on the PostgreSQL at 127.0.0.1:5432
(user postgres), created by the app's migrations and kept afterwards: ``--reuse`` skips the
fill when it is complete (``--refill`` drops it first). The fill writes, with COPY through
psycopg 3 and rows generated as a stream:

- project ``wire`` with `n` articles of about 2,000 characters (news-like text, a title, an
  external id), labels, 200 editors, 5 reviewers and a manager (usable passwords and API
  tokens), overlap 2: every article assigned to two editors of a team of eleven;
- the first 35 % of the articles labelled and submitted by both editors (two versions each:
  the spans, then the submit; 4 to 7 spans, each editor a variant of a reference set), the
  next 1 % started by one editor (in progress);
- gold for the first third (two versions: the reference spans, then final) and for a few
  more articles a gold in review (not final);
- the agreement statistics by the app's own ``recompute_project`` (the same code as
  ``manage.py recompute_agreement``, numpy over batches of 2,000 articles), so the report
  reads exactly what a live project would have stored;
- sequences reset past the copied ids, and ANALYZE at the end.

Then it starts gunicorn (2 sync workers, DEBUG off, production settings) on that database and
requests each page or call `--runs` times after one warm-up request, printing p50 and p95 of
the client-side time (for the export: the time to the first byte). Finally each page is
requested once more in process with its SQL captured: every query taking more than
`--slow-ms` gets EXPLAIN (ANALYZE, BUFFERS) printed, and every query whose plan reads a big
table without an index (a Seq Scan on articles, assignments, annotations, versions, spans or
agreement rows) is listed. Figures go to ``bench/out/scale_<n>.json`` too; ``--compare``
prints them side by side with the ratio.

Nothing here asserts a time. Disk: about 8 GB at 1,000,000 articles (``--drop`` at the end
removes the database).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suite import HOST, PG_ADMIN, ROOT, Http, Server, news_text, pct  # noqa: E402

OUT = ROOT / "bench" / "out"
SLUG = "wire"
EDITORS = 200
TEAM = 11  # an article's second editor is one of the next ten after its first
REVIEWERS = 5
LABELS = [
    ("ACTOR", "Actor"),
    ("LOCATION", "Location"),
    ("CASUALTY", "Casualties"),
    ("SOURCE", "Source"),
]
LABELLED = 0.35
IN_PROGRESS = 0.01
GOLD = 1 / 3
IN_REVIEW = 0.002
BODIES = 2_000
VARIANTS = 4
PASSWORD = "scale-bench-password"  # noqa: S105 - a benchmark database's users
SECRET = "scale-bench-" + "k3Jq9vX2mP7wR4tY8uZ1aB6cD0eF5gH" * 2  # noqa: S105
BIG_TABLES = (
    "annotate_article",
    "annotate_assignment",
    "annotate_annotation",
    "annotate_annotationversion",
    "annotate_span",
    "annotate_articleagreement",
)
NOW = "2026-01-05 09:00:00+00"


def db_name(articles: int) -> str:
    return f"annotate_scale_{articles}"


def db_url(articles: int) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{db_name(articles)}"


def machine() -> str:
    load = os.getloadavg()
    return f"nproc {os.cpu_count()}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"


# --- Generating rows ------------------------------------------------------------------------

WORD = re.compile(r"\w+(?:['-]\w+)*")
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def esc(value: object) -> str:
    """A value as COPY's text format writes it."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value).translate(_ESCAPE)


class Body:
    """A text of about 2,000 characters with a reference span set and editors' variants."""

    def __init__(self, rng: random.Random) -> None:
        self.text = news_text(rng, 1_960)
        words = [m.span() for m in WORD.finditer(self.text)]
        picks = sorted(rng.sample(range(0, len(words) - 3, 3), rng.randint(4, 7)))
        self.gold = [
            (words[n][0], words[n + rng.randint(0, 1)][1], rng.randrange(len(LABELS)))
            for n in picks
        ]
        self.variants = []
        for _ in range(VARIANTS):
            spans = set()
            for start, end, label in self.gold:
                draw = rng.random()
                if draw < 0.07:
                    continue
                if draw < 0.17:
                    label = rng.randrange(len(LABELS))
                spans.add((start, end, label))
            self.variants.append(sorted(spans) or self.gold[:1])


def prefix(i: int) -> str:
    return f"Dispatch {i:07d}.\n\n"


def editors_of(i: int) -> tuple[int, int]:
    first = i % EDITORS
    return first, (first + 1 + (i // EDITORS) % (TEAM - 1)) % EDITORS


class Ids:
    def __init__(self) -> None:
        self.annotation = 0
        self.version = 0
        self.span = 0


def summary(spans: list[tuple[int, int, int]]) -> str:
    counts: dict[str, int] = {}
    for _, _, label in spans:
        key = LABELS[label][0]
        counts[key] = counts.get(key, 0) + 1
    return json.dumps({"added": dict(sorted(counts.items())), "removed": {}})


# --- Filling ---------------------------------------------------------------------------------


def copy_rows(cursor, model, fields: list[str], lines: Iterable[str]) -> int:
    """COPY `lines` (text format, tab-separated in `fields` order) into the model's table;
    any other column the model has (added by a later migration) gets its default."""
    from django.db import connection

    extra, values = [], []
    for field in model._meta.concrete_fields:
        if field.attname in fields or getattr(field, "generated", False):
            continue
        default = field.get_db_prep_save(field.get_default(), connection)
        if hasattr(default, "dumps"):  # psycopg's Jsonb wrapper
            default = json.dumps(default.obj)
        extra.append(field.column)
        values.append(esc(default))
    tail = ("\t" + "\t".join(values)) if values else ""
    columns = ", ".join(f'"{model._meta.get_field(f).column}"' for f in fields) + "".join(
        f', "{c}"' for c in extra
    )
    count = 0
    with cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
        buffer: list[str] = []
        for line in lines:
            buffer.append(line + tail + "\n")
            count += 1
            if len(buffer) >= 5_000:
                copy.write("".join(buffer).encode())
                buffer.clear()
        if buffer:
            copy.write("".join(buffer).encode())
    return count


def fill(n: int, search_column: bool = True) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token

    from annotate.models import (
        Annotation,
        AnnotationVersion,
        Article,
        Assignment,
        Label,
        Membership,
        Project,
        Role,
        Span,
    )
    from annotate.services.agreement import recompute_project

    User = get_user_model()
    rng = random.Random(16)
    started = time.perf_counter()

    def step(what: str) -> None:
        print(f"  {time.perf_counter() - started:7.1f} s  {what}", flush=True)

    with transaction.atomic():
        password = make_password(PASSWORD)
        manager = User.objects.create(username="manager", password=password)
        reviewers = [
            User.objects.create(username=f"rev{r}", password=password) for r in range(REVIEWERS)
        ]
        editors = User.objects.bulk_create(
            [User(username=f"ed{e:03d}", password=password) for e in range(EDITORS)]
        )
        Token.objects.bulk_create(
            [
                Token(key=hashlib.sha1(u.username.encode()).hexdigest(), user=u)  # noqa: S324
                for u in [manager, *reviewers, *editors]
            ]
        )
        project = Project.objects.create(name="Wire service", slug=SLUG, overlap=2)
        labels = [
            Label.objects.create(
                project=project, key=key, name=name, order=order, hotkey=str(order + 1)
            )
            for order, (key, name) in enumerate(LABELS)
        ]
        Membership.objects.bulk_create(
            [Membership(project=project, user=manager, role=Role.MANAGER)]
            + [Membership(project=project, user=u, role=Role.REVIEWER) for u in reviewers]
            + [Membership(project=project, user=u, role=Role.EDITOR) for u in editors]
        )
        # Two small projects besides: the home page lists them too.
        for slug in ("archive", "sports"):
            other = Project.objects.create(name=slug.title(), slug=slug, overlap=1)
            Label.objects.create(project=other, key="ACTOR", name="Actor")
            Membership.objects.bulk_create(
                [Membership(project=other, user=manager, role=Role.MANAGER)]
                + [Membership(project=other, user=u, role=Role.EDITOR) for u in editors[:20]]
            )
    step("users, tokens, projects, labels, memberships")

    bodies = [Body(rng) for _ in range(BODIES)]
    editor_ids = [u.pk for u in editors]
    reviewer_id = reviewers[0].pk
    label_ids = [label.pk for label in labels]
    labelled, progress = int(n * LABELLED), int(n * (LABELLED + IN_PROGRESS))
    gold, in_review = int(n * GOLD), int(n * (GOLD + IN_REVIEW))
    first_article = 1

    def text_of(i: int) -> str:
        return prefix(i) + bodies[i % BODIES].text

    raw = connection.cursor().cursor  # psycopg 3
    if not search_column:
        # The full-text column (migration 0011) costs PostgreSQL about 1 ms of CPU per
        # 2,000-character article on insert: a quarter of an hour per million on this
        # machine. Without it every page but search is measured as it would be with it.
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE annotate_article DROP COLUMN IF EXISTS search_vector")
    with transaction.atomic():

        def articles() -> Iterator[str]:
            for i in range(n):
                text = text_of(i)
                sha = hashlib.sha256(text.encode()).hexdigest()
                title = f"Dispatch {i:07d}: {text[len(prefix(i)) :].split('.', 1)[0][:120]}"
                yield "\t".join(
                    (
                        str(first_article + i),
                        project_id,
                        f"wire-{i:07d}",
                        esc(title),
                        esc(text),
                        sha,
                        f"https://news.example.org/{i}",
                        NOW,
                        "{}",
                        NOW,
                    )
                )

        project_id = str(project.pk)
        fields = ["id", "project_id", "external_id", "title", "text", "sha256", "url"]
        fields += ["published_at", "meta", "created_at"]
        copy_rows(raw, Article, fields, articles())
        step(f"{n:,} articles")

        def assignments() -> Iterator[str]:
            for i in range(n):
                for k, e in enumerate(editors_of(i)):
                    yield f"{2 * i + k + 1}\t{first_article + i}\t{editor_ids[e]}\t{NOW}"

        copy_rows(raw, Assignment, ["id", "article_id", "editor_id", "created_at"], assignments())
        step(f"{2 * n:,} assignments")

        ids = Ids()
        annotations: list[str] = []
        versions: list[str] = []
        spans: list[str] = []

        def annotate(
            i: int, editor: int | None, variant: int, submitted: bool, final: bool
        ) -> None:
            """One annotation of article i with its versions and spans (as lines)."""
            body = bodies[i % BODIES]
            chosen = body.gold if editor is None else body.variants[variant]
            offset = len(prefix(i))
            ids.annotation += 1
            pk = ids.annotation
            kind = "gold" if editor is None else "editor"
            annotator = esc(None if editor is None else editor_ids[editor])
            status = "submitted" if submitted else "in_progress"
            number = 2 if (submitted or final) else 1
            annotations.append(
                f"{pk}\t{first_article + i}\t{kind}\t{annotator}\t"
                f"{status}\t{esc(final)}\t{number}\t{NOW}"
            )
            author = reviewer_id if editor is None else editor_ids[editor]
            ids.version += 1
            versions.append(
                f"{ids.version}\t{pk}\t1\t{author}\t{NOW}\tin_progress\tf\t\t"
                f"{esc(summary(chosen))}\t{len(chosen)}\t\\N\t\\N"
            )
            if number == 2:
                ids.version += 1
                second = {"added": {}, "removed": {}}
                second.update({"status": "submitted"} if submitted else {"final": True})
                versions.append(
                    f"{ids.version}\t{pk}\t2\t{author}\t{NOW}\t"
                    f"{status}\t{esc(final)}\t\t"
                    f"{esc(json.dumps(second))}\t{len(chosen)}\t\\N\t\\N"
                )
            text = body.text
            for start, end, label in chosen:
                ids.span += 1
                spans.append(
                    f"{ids.span}\t{pk}\t{start + offset}\t{end + offset}\t{label_ids[label]}\t"
                    f"{esc(text[start:end])}\t{{}}\t1\t\\N\t\\N\t"
                )

        a_fields = ["id", "article_id", "kind", "annotator_id", "status", "final", "version"]
        a_fields += ["updated_at"]
        v_fields = ["id", "annotation_id", "number", "author_id", "created_at", "status"]
        v_fields += ["final", "note", "summary", "span_count", "restored_from", "request_key"]
        s_fields = ["id", "annotation_id", "start", "end", "label_id", "text", "attributes"]
        s_fields += ["added_in", "removed_in", "source_id", "origin"]

        def flush() -> None:
            copy_rows(raw, Annotation, a_fields, annotations)
            copy_rows(raw, AnnotationVersion, v_fields, versions)
            copy_rows(raw, Span, s_fields, spans)
            annotations.clear()
            versions.clear()
            spans.clear()

        for i in range(progress):
            first, second = editors_of(i)
            if i < labelled:
                annotate(i, first, i % VARIANTS, True, False)
                annotate(i, second, (i + 1) % VARIANTS, True, False)
            else:
                annotate(i, first, i % VARIANTS, False, False)
            if i < gold:
                annotate(i, None, 0, False, True)
            elif i < in_review and i < labelled:
                annotate(i, None, 0, False, False)
            if len(spans) > 200_000:
                flush()
        flush()
        step(f"{ids.annotation:,} annotations, {ids.version:,} versions, {ids.span:,} spans")

        with connection.cursor() as cursor:
            for model in (User, Project, Label, Membership, Article, Assignment, Annotation):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                    f'(SELECT coalesce(max(id), 1) FROM "{table}"))'
                )
            for model in (AnnotationVersion, Span):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                    f'(SELECT coalesce(max(id), 1) FROM "{table}"))'
                )
    step("committed; sequences reset")
    summary_ = recompute_project(project)
    step(f"agreement recomputed: {summary_.compared:,} articles compared, {summary_.groups} groups")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS scale_bench_done (articles integer, filled_at timestamptz)"
        )
        cursor.execute("INSERT INTO scale_bench_done VALUES (%s, now())", [n])
    step("ANALYZE")


# --- Measuring -------------------------------------------------------------------------------


def session_for(username: str) -> str:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client.cookies["sessionid"].value


def token_for(username: str) -> str:
    return hashlib.sha1(username.encode()).hexdigest()  # noqa: S324


def routes_present() -> set[str]:
    from django.urls import get_resolver

    return {str(name) for name in get_resolver().reverse_dict if isinstance(name, str)}


class Plan:
    """The pages and calls to time: (name, method, url, who, body)."""

    def __init__(self, n: int) -> None:
        from annotate.models import Annotation, Assignment, Label

        ed = "ed000"
        open_article = (
            Assignment.objects.filter(editor__username=ed)
            .exclude(article__annotations__annotator__username=ed)
            .order_by("article_id")
            .values_list("article_id", flat=True)
            .first()
        )
        self.save_article = (
            Assignment.objects.filter(editor__username="ed001")
            .exclude(article__annotations__annotator__username="ed001")
            .order_by("-article_id")
            .values_list("article_id", "article__text")
            .first()
        )
        label = Label.objects.filter(project__slug=SLUG).order_by("order").first().key
        later = Annotation.objects.filter(kind="editor").order_by("-article_id").first()
        names = routes_present()
        w = f"/projects/{SLUG}"
        a = f"/api/projects/{SLUG}"
        self.requests: list[tuple[str, str, str, str]] = [
            ("editor home", "GET", "/", ed),
            ("editor queue (project page)", "GET", f"{w}/", ed),
            ("editor queue, done", "GET", f"{w}/?show=done", ed),
            ("next article (302)", "GET", f"{w}/next/", ed),
            ("labelling page", "GET", f"/articles/{open_article}/", ed),
            ("save (API PUT, 5 spans)", "PUT", "save", "ed001"),
        ]
        for status in ("open", "pending", "in_review", "final", "waiting", "flagged", "all"):
            self.requests.append(
                (f"review queue, {status}", "GET", f"{w}/review/?status={status}", "rev0")
            )
        self.requests += [
            (f"review queue, label {label}", "GET", f"{w}/review/?label={label}", "rev0"),
            ("review queue, editor ed003", "GET", f"{w}/review/?editor=ed003", "rev0"),
            ("agreement report (page)", "GET", f"{w}/agreement/", "manager"),
            ("agreement report (API)", "GET", f"{a}/agreement/", "manager"),
            ("API articles, reviewer", "GET", f"{a}/articles/", "rev0"),
            (
                "API articles, reviewer, middle page",
                "GET",
                f"{a}/articles/?page={n // 100}",
                "rev0",
            ),
            ("API articles, editor", "GET", f"{a}/articles/", ed),
            ("adjudication page", "GET", f"/articles/{later.article_id}/review/", "rev0"),
        ]
        if any("search" in name for name in names) and _has_search_column():
            self.requests += [
                ("search (page)", "GET", f"{w}/search/?q=shelled+Aleppo", "rev0"),
                ("search (API)", "GET", f"{a}/search/?q=shelled+Aleppo", "rev0"),
            ]
            self.search = True
        else:
            self.search = False
        self.requests.append(("export, first byte (JSONL)", "EXPORT", f"{a}/export/", "manager"))


def _has_search_column() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'annotate_article' "
            "AND column_name = 'search_vector'"
        )
        return cursor.fetchone() is not None or connection.vendor != "postgresql"


def measure(
    n: int,
    runs: int,
    slow_ms: float,
    workdir: Path,
    budget_ms: float,
    explain_over_ms: float,
    timeout_s: float,
) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plan = Plan(n)
    if not plan.search:
        print(
            "  search: no search route in this version, or the database was filled with "
            "--no-search-column; skipped",
            flush=True,
        )
    users = {who for _, _, _, who in plan.requests}
    cookies = {who: session_for(who) for who in users}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))},
        "DJANGO_SETTINGS_MODULE": "annotate.settings",
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "DB_CONN_MAX_AGE": "60",
        "DATABASE_URL": db_url(n),
        "STATIC_ROOT": os.environ["STATIC_ROOT"],
        "TMPDIR": str(workdir),
    }
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    server = Server(env, workdir)
    server.start()
    results: dict[str, dict] = {}
    pk, text = plan.save_article
    words = [m.span() for m in WORD.finditer(text)]
    version = {"v": 0}

    def save_body(k: int) -> bytes:
        spans = [
            {"start": words[w][0], "end": words[w][1], "label": LABELS[(w + k) % 4][0]}
            for w in range(10 + k % 3, 60, 11)
        ][:5]
        return json.dumps({"base_version": version["v"], "spans": spans}).encode()

    def once(http: Http, method: str, url: str, who: str, name: str, k: int) -> tuple:
        if method == "GET":
            status, _, ms = http.request("GET", url, name)
        elif method == "PUT":
            status, body, ms = http.request(
                "PUT",
                f"/api/articles/{pk}/annotation/",
                name,
                save_body(k),
                **{"Authorization": f"Token {token_for(who)}", "Content-Type": "application/json"},
            )
            if status == 200:
                version["v"] = json.loads(body)["version"]
        else:
            http = Http(server.port, {})  # a fresh connection each time: the last one was cut
            http.pool.timeout = http_timeout
            started = time.perf_counter()
            response = http.pool.request(
                "GET",
                url,
                headers={"Authorization": f"Token {token_for(who)}", "X-Bench": name},
                preload_content=False,
            )
            next(response.stream(1024), b"")
            ms = (time.perf_counter() - started) * 1000
            status = response.status
            response.release_conn()
            http.pool.close()  # drop the rest of the stream
        return status, ms

    import urllib3

    http_timeout = urllib3.Timeout(connect=10, read=timeout_s)
    try:
        for name, method, url, who in plan.requests:
            http = Http(server.port, {"Cookie": f"sessionid={cookies[who]}"})
            http.pool.timeout = http_timeout
            times: list[float] = []
            status: int | str = 0
            spent = 0.0
            for k in range(runs + 1):
                if len(times) >= 1 and spent > budget_ms:
                    break  # a slow page: fewer runs, its p95 is then the slowest seen
                try:
                    status, ms = once(http, method, url, who, name, k)
                except urllib3.exceptions.TimeoutError:
                    status, times = "timeout", [timeout_s * 1000]
                    server.stop()  # its worker is still busy with the request
                    server.start()
                    break
                if k:
                    times.append(ms)
                spent += ms
            results[name] = {
                "runs": len(times),
                "status": status,
                "p50": pct(times, 0.5),
                "p95": pct(times, 0.95),
                "url": url,
            }
            over = ">" if status == "timeout" else " "
            print(
                f"  {name:<36} {status}  p50 {over}{results[name]['p50']:8.1f} ms  "
                f"p95 {over}{results[name]['p95']:8.1f} ms  ({len(times)} runs)",
                flush=True,
            )
    finally:
        server.stop()

    # The SQL behind each page, in process, with the plans of the slow queries.
    from django.test import Client

    print(
        f"\n  Pages over {explain_over_ms:g} ms p50: their queries over {slow_ms:g} ms "
        "(EXPLAIN ANALYZE) and their unindexed reads of big tables (Seq Scan):"
    )
    plans: dict[str, list] = {}
    for name, method, url, who in plan.requests:
        slow = results[name]["p50"] >= explain_over_ms
        if method == "PUT" or not slow or results[name]["status"] == "timeout":
            continue
        client = Client(HTTP_AUTHORIZATION=f"Token {token_for(who)}")
        client.cookies["sessionid"] = cookies[who]
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
            if getattr(response, "streaming", False):
                next(iter(response.streaming_content), b"")
                response.close()
        found = []
        for query in captured.captured_queries:
            sql = query["sql"]
            cursor_for = re.match(r"DECLARE .*? CURSOR .*?FOR (SELECT .*)", sql, re.S)
            sql = cursor_for.group(1) if cursor_for else sql
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            took = float(query["time"]) * 1000
            analyze = "ANALYZE, BUFFERS" if took > slow_ms else "COSTS"
            with connection.cursor() as cursor:
                try:
                    cursor.execute(f"EXPLAIN ({analyze}) " + sql)
                except Exception as error:  # noqa: BLE001 - report it, go on
                    found.append({"sql": sql[:300], "error": str(error)[:200]})
                    continue
                lines = [row[0] for row in cursor.fetchall()]
            if took > slow_ms:
                took = float(re.search(r"Execution Time: ([\d.]+)", lines[-1]).group(1))
            seq = sorted(
                {t for t in BIG_TABLES if re.search(rf"Seq Scan on {t}\b", "\n".join(lines))}
            )
            if took > slow_ms or seq:
                found.append({"sql": sql, "ms": took, "seq_scans": seq, "plan": lines})
                print(f"\n  [{name}] {took:.1f} ms; seq scans: {', '.join(seq) or 'none'}")
                print("    " + sql[:600])
                if took > slow_ms:
                    print("\n".join("      " + line for line in lines[:60]))
        plans[name] = found
        results[name]["queries"] = len(captured.captured_queries)
    return {"articles": n, "machine": machine(), "results": results, "slow": plans}


# --- Running -----------------------------------------------------------------------------------


def database_state(n: int) -> str:
    """ "missing", "partial" (a fill that did not finish) or "complete"."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        if not admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db_name(n)]
        ).fetchone():
            return "missing"
    with psycopg.connect(db_url(n).replace("postgres://", "postgresql://")) as conn:
        done = conn.execute("SELECT to_regclass('scale_bench_done')").fetchone()[0]
    return "complete" if done else "partial"


def one(args) -> int:
    import psycopg

    n = args.articles
    state = database_state(n)
    if state != "missing" and (args.refill or not args.reuse or state == "partial"):
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {db_name(n)} WITH (FORCE)")
        state = "missing"
    if state == "missing":
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {db_name(n)}")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "annotate.settings",
            "DATABASE_URL": db_url(n),
            "DEBUG": "0",
            "SECRET_KEY": SECRET,
            "ALLOWED_HOSTS": f"{HOST},testserver",
            "SECURE_SSL_REDIRECT": "0",
            "STATIC_ROOT": str(OUT / "scale_static"),
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a reused database gets newer indexes too
    print(f"{db_name(n)}: {machine()}", flush=True)
    if state == "missing":
        started = time.perf_counter()
        fill(n, search_column=not args.no_search_column)
        print(f"  filled in {time.perf_counter() - started:.0f} s", flush=True)
    size = _db_size(n)
    print(f"  database size {size / 2**30:.2f} GiB", flush=True)
    if args.fill_only:
        return 0
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        figures = measure(
            n,
            args.runs,
            args.slow_ms,
            Path(tmp),
            args.budget * 1000,
            args.explain_over,
            args.timeout,
        )
    figures["db_bytes"] = size
    OUT.mkdir(exist_ok=True)
    (OUT / f"scale_{n}.json").write_text(json.dumps(figures, indent=1))
    if args.drop:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {db_name(n)} WITH (FORCE)")
    return 0


def _db_size(n: int) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def compare(sizes: list[int], args) -> int:
    for n in sizes:
        argv = [sys.executable, __file__, "--articles", str(n), "--runs", str(args.runs)]
        argv += ["--slow-ms", str(args.slow_ms)]
        argv += ["--reuse"] if args.reuse else []
        if subprocess.run(argv, check=False).returncode:
            return 1
    print_comparison(sizes)
    return 0


def print_comparison(sizes: list[int]) -> None:
    figures = [json.loads((OUT / f"scale_{n}.json").read_text()) for n in sizes]
    base, *others = figures
    titles = [f"{f['articles']:,} p50/p95 ms" for f in figures]
    head = f"{'page or call':<36}" + "".join(f"{t:>24}" for t in titles)
    print("\n" + head + "".join(f"{'ratio p50':>11}" for _ in others))
    for name, row in base["results"].items():
        cells = []
        for f in figures:
            r = f["results"].get(name)
            cells.append(f"{r['p50']:10.1f} / {r['p95']:8.1f}" if r else f"{'-':>21}")
        ratios = [
            f"{f['results'][name]['p50'] / row['p50']:10.1f}x" if name in f["results"] else ""
            for f in others
        ]
        print(f"{name:<36}" + "".join(f"{c:>24}" for c in cells) + "".join(ratios))
    for f in figures:
        print(f"  {f['articles']:,}: {f['machine']}, database {f['db_bytes'] / 2**30:.2f} GiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--compare", help="sizes to run and print side by side, e.g. 10000,1000000")
    parser.add_argument("--reuse", action="store_true", help="keep a filled database")
    parser.add_argument("--refill", action="store_true", help="drop and fill again")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--budget", type=float, default=30.0, help="seconds per page before fewer runs"
    )
    parser.add_argument(
        "--explain-over", type=float, default=50.0, help="ms p50: look at the SQL of slower pages"
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds before a request counts as timed out"
    )
    parser.add_argument(
        "--no-search-column",
        action="store_true",
        help="drop the full-text column before the fill (much faster; search is then skipped)",
    )
    parser.add_argument("--fill-only", action="store_true", help="fill, do not measure")
    parser.add_argument("--slow-ms", type=float, default=20.0)
    parser.add_argument("--table", action="store_true", help="print the last --compare figures")
    args = parser.parse_args()
    if args.compare:
        sizes = [int(s) for s in args.compare.split(",")]
        if args.table:
            print_comparison(sizes)
            return 0
        return compare(sizes, args)
    return one(args)


if __name__ == "__main__":
    raise SystemExit(main())
