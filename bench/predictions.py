"""Uploading a model's predictions: 10,000 articles x 40 spans through the API.

    .venv/bin/python bench/predictions.py [--db sqlite|postgres|both] [--articles N]
                                          [--spans N]

A project gets N ~3,000-character articles (bulk-imported first, not timed); then one JSON
Lines body with one line per article, `--spans` predicted spans each (label, offsets, score;
a quarter with the text they cover, so the text check runs), is sent as
``POST /api/projects/{slug}/predictions/`` through the whole Django and REST framework
stack in process (test client with a token, DEBUG=0). It is sent twice: the first upload
creates, the second replaces every span (the documented re-upload). Reported: the body's
size, the time of each upload, spans per second, and the time of ``GET .../models/``
(counts over all the spans). MAX_UPLOAD_BYTES is raised for the run (the body is larger than
the default 20 MiB cap); a real client would send it in several requests.

Databases: a temporary SQLite file, or a database ``bench_predictions_<pid>`` on the
PostgreSQL at 127.0.0.1:5432 (user postgres), created and dropped here. Nothing asserts a
time; the tests check behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from common import configure, drop  # noqa: E402 - bench/ is on the path when run

PHRASE = (
    "the ministry said at least six more were wounded in shelling on the town near border "
    "while officials reported fighters killed and civilians missing after clashes province"
)
WORDS = PHRASE.split(" ")
LABELS = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]


def text_of(rng: random.Random, chars: int = 3_000) -> str:
    words: list[str] = []
    length = 0
    while length < chars:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def body_of(rng: random.Random, texts: dict[str, str], spans: int, model: str) -> bytes:
    lines = []
    for external_id, text in texts.items():
        bounds, start = [], 0
        for word in text.split(" "):
            bounds.append((start, start + len(word)))
            start += len(word) + 1
        chosen = sorted(rng.sample(range(len(bounds)), spans))
        items = []
        for n, index in enumerate(chosen):
            begin, end = bounds[index]
            item = {
                "start": begin,
                "end": end,
                "label": LABELS[n % len(LABELS)],
                "score": round(rng.random(), 3),
            }
            if n % 4 == 0:
                item["text"] = text[begin:end]
            items.append(item)
        lines.append(json.dumps({"id": external_id, "model": model, "spans": items}))
    return "\n".join(lines).encode()


def measure(database: str, articles: int, spans: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        name = configure(
            database,
            Path(folder),
            "bench_predictions",
            {"MAX_UPLOAD_BYTES": str(512 * 1024 * 1024), "TASKS_BACKEND": "immediate"},
        )
        try:
            return _measure(articles, spans)
        finally:
            drop(database, name)


def _measure(articles: int, spans: int) -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from annotate.models import Label, Membership, PredictedSpan, Project, Role
    from annotate.services.importing import import_articles

    rng = random.Random(15)
    user = get_user_model().objects.create_user("bench-manager", password="x")
    project = Project.objects.create(name="Bench", slug="bench")
    for order, key in enumerate(LABELS):
        Label.objects.create(project=project, key=key, name=key.title(), order=order)
    Membership.objects.create(project=project, user=user, role=Role.MANAGER)
    texts = {f"a{n:05d}": text_of(rng) for n in range(articles)}
    records = [
        {
            "external_id": key,
            "title": key,
            "text": text,
            "url": "",
            "published_at": None,
            "meta": {},
        }
        for key, text in texts.items()
    ]
    import_articles(project=project, records=records, assign=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    body = body_of(rng, texts, spans, "bench@1")
    figures: dict[str, float] = {"bytes": len(body)}
    for step in ("create", "replace"):
        began = time.perf_counter()
        response = client.generic(
            "POST", "/api/projects/bench/predictions/", body, content_type="application/x-ndjson"
        )
        figures[step] = time.perf_counter() - began
        if response.status_code != 201:
            raise SystemExit(f"{step}: {response.status_code} {response.content[:500]!r}")
    assert PredictedSpan.objects.count() == articles * spans
    began = time.perf_counter()
    response = client.get("/api/projects/bench/models/")
    figures["models"] = time.perf_counter() - began
    assert response.json()["models"][0]["spans"] == articles * spans
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--spans", type=int, default=40)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        figures = measure(args.child, args.articles, args.spans)
        print(json.dumps(figures))
        return 0
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    total = args.articles * args.spans
    print(f"Predictions upload: {args.articles:,} articles x {args.spans} spans = {total:,} spans")
    print(
        f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )
    print(f"{'database':<10} {'body':>9} {'create':>9} {'spans/s':>10} {'replace':>9} "
          f"{'spans/s':>10} {'models':>8}")  # fmt: skip
    for database in databases:
        # Each database in its own process: Django is configured once per process.
        argv = [sys.executable, __file__, "--child", database, "--articles", str(args.articles),
                "--spans", str(args.spans)]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stdout, done.stderr, file=sys.stderr)
            return 1
        f = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{database:<10} {f['bytes'] / 2**20:>7.1f} MB {f['create']:>8.2f}s "
            f"{total / f['create']:>10,.0f} {f['replace']:>8.2f}s {total / f['replace']:>10,.0f} "
            f"{f['models']:>7.2f}s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
