"""Suggestions for a 20,000-character article against a gold of 100,000 spans.

    .venv/bin/python bench/suggestions.py [--db sqlite|postgres|both] [--gold-spans 100000]
                                          [--chars 20000] [--repeat 30]

For each database: a fresh one (a temporary SQLite file in /dev/shm when there is one; on the
PostgreSQL at 127.0.0.1:5432 a database ``bench_suggestions_<pid>``, dropped afterwards),
migrated, then filled in bulk with 2,000 articles whose final gold holds `--gold-spans` spans
(50 each) over many distinct phrases: one to four words drawn from 30,000 made-up names
(sometimes joined by "al", "of" or "bin", or hyphenated), so the phrase index holds tens of
thousands of phrases and many share a first word. The phrase index is built with
``rebuild_gold_index`` (timed; on PostgreSQL followed by ``ANALYZE``, as autovacuum would
soon do). Then one article of `--chars` characters, news-like filler
with about 6% gold phrases, names and name pairs that are no phrase, hyphenated names and
lower-cased phrases (near misses), is
asked for its suggestions `--repeat` times through the API, as its editor
(``GET /api/articles/<id>/suggestions/``, Django's test client: the whole request, no
network). It prints p50 and p95 server time (wall clock) and the CPU time of this process
(with SQLite that includes the database's work; with PostgreSQL it does not), the suggestion
count, the phrases loaded for the article and the queries per request, and the same split
into loading the phrases and matching them (pure Python). The target is p50 under 50 ms.
It asserts nothing; the machine's load average is printed with the figures, since a shared
machine makes times noisy.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from common import configure, drop  # noqa: E402 - bench/ is on the path when run

COMMON = (  # noqa: SIM905 - a paragraph of words reads better than a list
    "the of and to in a said on for that was with by at from as is were has it an be had "
    "have after are their not this but which they who been two three people its also one "
    "killed police army forces government officials city town monday attack security "
    "minister president state military told reported according local area near border "
    "civilians fighters group rebels troops strike air shelling wounded hospital ministry"
).split()
SPANS_PER_GOLD = 50
SYLLABLES = "ka ta eb hez bol lah mo sul al ep po ra qa dar za vin or ut im sa ny ko".split()  # noqa: SIM905
LABELS = ["ACTOR", "LOCATION", "SOURCE", "CASUALTY"]


def names(rng: random.Random, n: int) -> list[str]:
    found: set[str] = set()
    while len(found) < n:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        found.add(word.capitalize())
    return sorted(found)


def phrase(rng: random.Random, vocabulary: list[str]) -> str:
    size = rng.choices([1, 2, 3, 4], weights=[4, 4, 2, 1])[0]
    words = [rng.choice(vocabulary) for _ in range(size)]
    if size > 1 and rng.random() < 0.2:
        words.insert(1, rng.choice(["al", "of", "bin"]))
    joiner = "-" if size == 2 and rng.random() < 0.1 else " "
    return joiner.join(words)


def fill(gold_spans: int, chars: int, rng: random.Random):
    """The project, its final gold in bulk, and the article to suggest in."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

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

    user_model = get_user_model()
    reviewer = user_model.objects.create_user("rita", password="x" * 12)
    editor = user_model.objects.create_user("edith", password="x" * 12)
    project = Project.objects.create(name="Bench", slug="bench")
    labels = [
        Label.objects.create(project=project, key=key, name=key.title(), order=i)
        for i, key in enumerate(LABELS)
    ]
    Membership.objects.create(project=project, user=reviewer, role=Role.REVIEWER)
    Membership.objects.create(project=project, user=editor, role=Role.EDITOR)
    vocabulary = names(rng, 30_000)
    pool = [phrase(rng, vocabulary) for _ in range(gold_spans)]
    golds = gold_spans // SPANS_PER_GOLD
    with transaction.atomic():
        articles, texts = [], []
        for g in range(golds):
            chosen = pool[g * SPANS_PER_GOLD : (g + 1) * SPANS_PER_GOLD]
            text = " ".join(f"{p}, {rng.choice(COMMON)}" for p in chosen) + "."
            texts.append((text, chosen))
            articles.append(Article(project=project, external_id=f"g{g}", title="", text=text))
        for a in articles:
            a.sha256 = "0" * 64
        Article.objects.bulk_create(articles, batch_size=1_000)
        annotations = Annotation.objects.bulk_create(
            [
                Annotation(article=a, kind=Annotation.Kind.GOLD, final=True, version=1)
                for a in articles
            ],
            batch_size=1_000,
        )
        AnnotationVersion.objects.bulk_create(
            [
                AnnotationVersion(
                    annotation=an, number=1, author=reviewer, status="in_progress", final=True
                )
                for an in annotations
            ],
            batch_size=1_000,
        )
        spans = []
        for an, (text, chosen) in zip(annotations, texts, strict=True):
            at = 0
            for p in chosen:
                start = text.index(p, at)
                at = start + len(p)
                label = labels[hash(p) % len(labels)]
                spans.append(
                    Span(annotation=an, start=start, end=at, label=label, text=p, added_in=1)
                )
        Span.objects.bulk_create(spans, batch_size=5_000)
    # The article: filler, 300 of the gold's phrases, and near misses.
    pieces: list[str] = []
    size = 0
    while size < chars:
        roll = rng.random()
        if roll < 0.06:
            piece = rng.choice(pool)
        elif roll < 0.08:
            piece = rng.choice(vocabulary) + "-" + rng.choice(vocabulary)  # hyphenated
        elif roll < 0.14:
            piece = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 3)))
        elif roll < 0.10:
            piece = rng.choice(pool).lower()
        else:
            piece = " ".join(rng.choice(COMMON) for _ in range(rng.randint(3, 9)))
        pieces.append(piece)
        size += len(piece) + 2
    text = ". ".join(pieces)[:chars].rsplit(" ", 1)[0] + "."
    article = Article.objects.create(project=project, external_id="target", text=text)
    Assignment.objects.create(article=article, editor=editor)
    return project, article, editor


def run(database: str, gold_spans: int, chars: int, repeat: int) -> None:
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=shm) as tmp:
        name = configure(database, Path(tmp), "bench_suggestions")
        try:
            measure(database, gold_spans, chars, repeat)
        finally:
            drop(database, name)


def measure(database: str, gold_spans: int, chars: int, repeat: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from annotate.assistance.matching import PhraseIndex, word_bounds
    from annotate.services.suggestions import (
        MAX_WORD_CHARS,
        phrases_starting_with,
        rebuild_gold_index,
    )

    rng = random.Random(15)
    started = time.perf_counter()
    project, article, editor = fill(gold_spans, chars, rng)
    filled = time.perf_counter() - started
    started = time.perf_counter()
    in_index = rebuild_gold_index(project)
    indexed = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk change: without statistics the planner
        # guesses, and may scan the project's phrases instead of using the word index.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE annotate_goldphrase")

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")
    url = f"/api/articles/{article.pk}/suggestions/"
    client.get(url)  # warm up: connection, URL resolver, first imports
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.content[:300]
    with CaptureQueriesContext(connection) as queries:
        found = client.get(url).json()["suggestions"]

    # The two halves: loading the phrases the article can hold, and matching them.
    text = article.text
    words = sorted({text[s:e] for s, e in word_bounds(text) if e - s <= MAX_WORD_CHARS})
    loads, matches = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        phrases = phrases_starting_with(project.pk, words)
        loads.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        PhraseIndex(phrases).find(text)
        matches.append((time.perf_counter() - started) * 1000)

    def p(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]

    load = os.getloadavg()
    print(f"\n{database}: gold of {gold_spans:,} spans, {in_index:,} distinct phrases in the index")
    print(f"  filled in {filled:.1f} s; index rebuilt in {indexed * 1000:.0f} ms")
    print(
        f"  article: {len(article.text):,} characters, {len(words):,} distinct words; "
        f"{len(phrases):,} phrases loaded for it; {len(found)} suggestions"
    )
    print(
        f"  GET suggestions ({repeat}x): p50 {statistics.median(times):.1f} ms, "
        f"p95 {p(times, 95):.1f} ms, {len(queries)} queries per request; CPU of this "
        f"process p50 {statistics.median(cpu):.1f} ms"
        + (" (the database's own work included)" if database == "sqlite" else "")
    )
    print(
        f"  of which: loading phrases p50 {statistics.median(loads):.1f} ms, "
        f"matching (trie + walk) p50 {statistics.median(matches):.1f} ms"
    )
    print(f"  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--gold-spans", type=int, default=100_000)
    parser.add_argument("--chars", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if args.db == "both":
        # One process per database: Django is set up once per process.
        for database in ("sqlite", "postgres"):
            command = [sys.executable, __file__, "--db", database]
            command += ["--gold-spans", str(args.gold_spans), "--chars", str(args.chars)]
            command += ["--repeat", str(args.repeat)]
            subprocess.run(command, check=True)
        return
    run(args.db, args.gold_spans, args.chars, args.repeat)


if __name__ == "__main__":
    main()
