"""Saving facts: 40 spans with 20 relations and attributes on 15 of them, next to 40 bare spans.

    .venv/bin/python bench/facts_save.py [--db sqlite|postgres|both] [--articles N]
                                         [--baseline REV]

Each save is a first ``PUT /api/articles/{id}/annotation/`` (with ``submit``) of a fresh
~5,000-character article through the whole Django and REST framework stack, in process (the
test client with a token; DEBUG=0), as ``bench/suite.py`` workload 3a sends it. Two bodies,
on the same code and database: 40 bare spans, and 40 spans of which 15 casualty figures
carry attributes (kind, low, qualifier) with 20 relations (SAID_BY, LOCATED_IN). It reports
the p50 and mean time of a save and its query count.

``--baseline REV`` also saves the 40 bare spans with the code of commit REV (before facts,
e.g. ``0b66917``), extracted by ``git archive`` into a temporary folder and run in a child
process on a database of its own: "within 1.3x of saving 40 bare spans today" compares the
facts save with that figure.

Databases: a temporary SQLite file, or a database ``bench_facts_<pid>`` on the PostgreSQL at
127.0.0.1:5432 (user postgres), created and dropped here; never the server's ``postgres``.
Nothing here asserts a time; the tests check behaviour and query counts.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from common import configure, drop  # noqa: E402 - bench/ is on the path when run

WORDS = [
    *[
        "the",
        "ministry",
        "said",
        "at",
        "least",
        "six",
        "more",
        "were",
        "wounded",
        "in",
        "shelling",
        "on",
        "the",
        "town",
        "near",
    ],
    *[
        "the",
        "border",
        "while",
        "officials",
        "reported",
        "fighters",
        "killed",
        "and",
        "civilians",
        "missing",
    ],
    *[
        "after",
        "clashes",
        "in",
        "the",
        "province",
        "according",
        "to",
        "a",
        "monitor",
        "and",
        "local",
        "sources",
    ],
]


def text_of(rng: random.Random, chars: int = 5_000) -> str:
    words: list[str] = []
    length = 0
    while length < chars:
        words.append(rng.choice(WORDS))
        length += len(words[-1]) + 1
    return " ".join(words)


def word_bounds(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for word in text.split(" "):
        bounds.append((start, start + len(word)))
        start += len(word) + 1
    return bounds


def bodies(text: str, rng: random.Random, facts: bool) -> dict:
    """40 spans on distinct words; with `facts`, 15 CASUALTY figures with attributes, 10
    SOURCE, 5 LOCATION, 10 ACTOR, and 20 relations (15 SAID_BY, 5 LOCATED_IN)."""
    chosen = sorted(rng.sample(word_bounds(text), 40))
    labels = ["CASUALTY"] * 15 + ["SOURCE"] * 10 + ["LOCATION"] * 5 + ["ACTOR"] * 10
    rng.shuffle(labels)
    spans = []
    for (start, end), label in zip(chosen, labels, strict=True):
        span: dict[str, object] = {"start": start, "end": end, "label": label}
        if facts and label == "CASUALTY":
            span["attributes"] = {
                "kind": rng.choice(["killed", "wounded"]),
                "low": rng.randint(1, 40),
                "qualifier": rng.choice(["exact", "at_least", "about"]),
            }
        spans.append(span)
    body: dict[str, object] = {"base_version": 0, "spans": spans, "submit": True}
    if facts:
        where = {label: [i for i, s in enumerate(spans) if s["label"] == label] for label in labels}
        relations = [
            {"from": f, "to": where["SOURCE"][n % 10], "type": "SAID_BY"}
            for n, f in enumerate(where["CASUALTY"])
        ]
        relations += [
            {"from": f, "to": where["LOCATION"][n], "type": "LOCATED_IN"}
            for n, f in enumerate(where["CASUALTY"][:5])
        ]
        body["relations"] = relations
    return body


def measure(database: str, articles: int, root: Path, kinds: list[str]) -> dict[str, dict]:
    # SQLite in memory-backed /dev/shm when there is one: on a shared machine the disk's
    # fsync at each commit otherwise dominates and drifts with the neighbours' load.
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=shm) as tmp:
        name = configure(database, Path(tmp), "bench_facts", root=root)
        try:
            return run(articles, kinds)
        finally:
            drop(database, name)


def run(articles: int, kinds: list[str]) -> dict[str, dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from annotate.models import Article, Assignment, Label, Membership, Project, Role

    editor = get_user_model().objects.create_user("bench-editor", password=secrets.token_hex(8))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")
    project = Project.objects.create(name="bench-facts", slug="bench-facts", overlap=1)
    for n, key in enumerate(["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]):
        Label.objects.create(project=project, key=key, name=key.title(), order=n)
    Membership.objects.create(project=project, user=editor, role=Role.EDITOR)
    if "facts" in kinds:
        add_schema(project)
    # The two bodies alternate, article by article, so that both see the same load.
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
    queries: dict[str, list[int]] = {kind: [] for kind in kinds}
    rng = random.Random(40)
    for n in range(articles + 5):  # the first five rounds warm up
        for kind in kinds:
            text = text_of(rng)
            article = Article.objects.create(project=project, external_id=f"{kind}-{n}", text=text)
            Assignment.objects.create(article=article, editor=editor)
            body = json.dumps(bodies(text, rng, facts=kind == "facts"))
            url = f"/api/articles/{article.pk}/annotation/"
            with CaptureQueriesContext(connection) as captured:
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.put(url, body, content_type="application/json")
                elapsed = (time.perf_counter() - started) * 1000
                used = (time.process_time() - started_cpu) * 1000
            assert response.status_code == 200, response.content[:300]
            if n >= 5:
                times[kind].append(elapsed)
                cpu[kind].append(used)
                queries[kind].append(len(captured))
    results = {
        kind: {
            "p50_ms": round(statistics.median(times[kind]), 2),
            "mean_ms": round(statistics.fmean(times[kind]), 2),
            # This process's CPU: the whole save on SQLite, the client side on PostgreSQL;
            # steadier than wall time when the machine is shared.
            "cpu_p50_ms": round(statistics.median(cpu[kind]), 2),
            "queries": max(queries[kind]),
        }
        for kind in kinds
    }
    return results


def add_schema(project) -> None:
    from annotate.models import AttributeDefinition, RelationType

    casualty = project.labels.get(key="CASUALTY")
    for order, (key, kind, extra) in enumerate(
        [
            ("kind", "choice", {"choices": ["killed", "wounded"]}),
            ("low", "integer", {"min": 0}),
            ("qualifier", "choice", {"choices": ["exact", "at_least", "about"]}),
        ]
    ):
        AttributeDefinition.objects.create(
            label=casualty, key=key, name=key, type=kind, order=order, **extra
        )
    for key, target in (("SAID_BY", "SOURCE"), ("LOCATED_IN", "LOCATION")):
        relation_type = RelationType.objects.create(project=project, key=key, name=key.lower())
        relation_type.from_labels.set([casualty])
        relation_type.to_labels.set([project.labels.get(key=target)])


def baseline(revision: str, database: str, articles: int) -> dict:
    """40 bare spans saved by the code of `revision`, in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        out = subprocess.run(
            [sys.executable, __file__, "--db", database, "--articles", str(articles),
             "--root", tmp, "--bare-only", "--json"],
            check=True, capture_output=True, text=True, cwd=tmp,
        )  # fmt: skip
        return json.loads(out.stdout.strip().splitlines()[-1])["bare"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--baseline", metavar="REV", help="also measure bare spans at REV")
    parser.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--bare-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print one JSON line per database")
    args = parser.parse_args()
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    kinds = ["bare"] if args.bare_only else ["bare", "facts"]
    for database in databases:
        if len(databases) > 1:  # one process per database: Django is set up once per process
            command = [sys.executable, __file__, "--db", database, "--articles", str(args.articles)]
            if args.baseline:
                command += ["--baseline", args.baseline]
            subprocess.run(command + (["--json"] if args.json else []), check=True)
            continue
        results = measure(database, args.articles, Path(args.root), kinds)
        if args.baseline:
            results["bare_at_" + args.baseline] = baseline(args.baseline, database, args.articles)
        if args.json:
            print(json.dumps(results))
            continue
        print(f"{database}: first save of a 5,000-character article, {args.articles} articles")
        for kind, figures in results.items():
            print(
                f"  {kind:>18}: p50 {figures['p50_ms']:6.2f} ms, mean {figures['mean_ms']:6.2f} ms,"
                f" CPU p50 {figures['cpu_p50_ms']:6.2f} ms, {figures['queries']} queries"
            )
        if "facts" in results:
            for reference in [k for k in results if k.startswith("bare")]:
                ratio = results["facts"]["p50_ms"] / results[reference]["p50_ms"]
                ratio_cpu = results["facts"]["cpu_p50_ms"] / results[reference]["cpu_p50_ms"]
                print(f"  facts / {reference}: {ratio:.2f}x (p50), {ratio_cpu:.2f}x (CPU p50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
