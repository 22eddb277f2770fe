"""Streamed export: throughput and memory for 1,000 and 10,000 gold articles x 40 spans.

    .venv/bin/python bench/export_memory.py [--sizes 1000 10000] [--formats jsonl conll facts]
                                            [--relations 20]

Each gold also has `--relations` relations (20 by default; 0 for spans only) and attributes
on its CASUALTY spans, as facts are stored (API version 2).

Builds a throwaway SQLite database in a temporary folder (or uses DATABASE_URL if set, at
your own risk: it creates two projects there), fills it with articles of about 5,000
characters, each with a final gold annotation of 40 spans, then streams the export twice
per size and format: once timed (MB/s, spans/s), once under tracemalloc (peak Python memory while
streaming). It also streams once through Django's test client, the whole HTTP stack. It
asserts nothing; it prints a table. Flat memory means the peak does not grow with the
number of articles.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLE = (
    "the army said rebels shelled the town on monday killing three people and wounding "
    "dozens according to local officials who spoke on condition of anonymity while the "
    "ministry of health reported that hospitals were overwhelmed near the border crossing "
    "as aid convoys waited for permission to enter the besieged district"
)
WORDS = SAMPLE.split()
LABELS = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]
SPANS = 40
CHARS = 5_000
BATCH = 250


def setup_django(workdir: Path) -> None:
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic here
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    # DEBUG off: with it on, Django keeps every query's SQL, which is not flat memory.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotate.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def article_text(rng: random.Random) -> str:
    words: list[str] = []
    size = 0
    while size < CHARS:
        sentence = [rng.choice(WORDS) for _ in range(rng.randint(8, 20))]
        sentence[0] = sentence[0].capitalize()
        text = " ".join(sentence) + "."
        words.append(text)
        size += len(text) + 1
    return " ".join(words)[:CHARS].rstrip() + "."


def word_spans(text: str, rng: random.Random) -> list[tuple[int, int]]:
    """40 non-overlapping spans of one to three words."""
    starts = [i for i, ch in enumerate(text) if ch != " " and (i == 0 or text[i - 1] == " ")]
    chosen = sorted(rng.sample(range(0, len(starts) - 4, 3), SPANS))
    spans = []
    for n in chosen:
        start = starts[n]
        end_word = starts[n + rng.randint(1, 2)] - 1
        spans.append((start, end_word))
    return spans


def populate(slug: str, count: int, reviewer, relations: int = 0) -> object:
    """A project with `count` articles, each with final gold of 40 spans, as save_annotation
    would store them (version 1, one version row, 40 span rows), written in bulk because
    10,000 calls of the write path would make the set-up the slowest part of the bench."""
    from annotate.models import (
        Annotation,
        AnnotationVersion,
        Article,
        AttributeDefinition,
        Label,
        Project,
        Relation,
        RelationType,
        Span,
        text_sha256,
    )

    project = Project.objects.create(name=slug, slug=slug)
    labels = Label.objects.bulk_create(
        Label(project=project, key=key, name=key.title(), order=n) for n, key in enumerate(LABELS)
    )
    casualty = next(label for label in labels if label.key == "CASUALTY")
    for order, (key, kind) in enumerate((("kind", "choice"), ("low", "integer"))):
        AttributeDefinition.objects.create(
            label=casualty,
            key=key,
            name=key,
            type=kind,
            order=order,
            choices=["killed", "wounded"] if kind == "choice" else [],
        )
    link = RelationType.objects.create(project=project, key="LINKED", name="linked")
    rng = random.Random(count)
    for first in range(0, count, BATCH):
        texts = [article_text(rng) for _ in range(min(BATCH, count - first))]
        articles = Article.objects.bulk_create(
            Article(
                project=project,
                external_id=f"{slug}-{first + n}",
                title=f"Article {first + n}",
                text=text,
                sha256=text_sha256(text),
            )
            for n, text in enumerate(texts)
        )
        golds = Annotation.objects.bulk_create(
            Annotation(article=a, kind=Annotation.Kind.GOLD, version=1, final=True)
            for a in articles
        )
        AnnotationVersion.objects.bulk_create(
            AnnotationVersion(
                annotation=g,
                number=1,
                author=reviewer,
                status="in_progress",
                final=True,
                span_count=SPANS,
            )
            for g in golds
        )
        spans, links = [], []
        for gold, text in zip(golds, texts, strict=True):
            these = []
            for start, end in word_spans(text, rng):
                label = rng.choice(labels)
                values = {"kind": "killed", "low": rng.randrange(100)} if label == casualty else {}
                these.append(
                    Span(
                        annotation=gold,
                        start=start,
                        end=end,
                        label=label,
                        text=text[start:end],
                        added_in=1,
                        attributes=values,
                    )
                )
            spans += these
            pairs = {tuple(rng.sample(range(len(these)), 2)) for _ in range(relations)}
            links += [
                Relation(
                    annotation=gold,
                    type=link,
                    from_start=these[a].start,
                    from_end=these[a].end,
                    from_label=these[a].label,
                    to_start=these[b].start,
                    to_end=these[b].end,
                    to_label=these[b].label,
                    added_in=1,
                )
                for a, b in pairs
            ]
        Span.objects.bulk_create(spans, batch_size=2000)
        Relation.objects.bulk_create(links, batch_size=2000)
    return project


def stream(project, format: str) -> int:
    from annotate.exports import render
    from annotate.services.exporting import export_records, fact_columns

    size = 0
    columns = fact_columns(project)
    records = export_records(project)
    for chunk in render(format, records, namespace=project.slug, generated="-", columns=columns):
        size += len(chunk)
    return size


def stream_http(project, format: str, client) -> tuple[int, float]:
    started = time.perf_counter()
    response = client.get(f"/api/projects/{project.slug}/export/?format={format}")
    size = sum(len(chunk) for chunk in response.streaming_content)
    return size, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--formats", nargs="+", default=["jsonl", "conll", "facts"])
    parser.add_argument("--relations", type=int, default=20, help="Relations per article.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="export-bench-") as folder:
        setup_django(Path(folder))
        from django.contrib.auth import get_user_model
        from django.test import Client
        from rest_framework.authtoken.models import Token

        from annotate.models import Membership, Role

        reviewer = get_user_model().objects.create_user("bench-reviewer", password="x")
        token = Token.objects.create(user=reviewer)
        client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
        projects = {}
        for count in args.sizes:
            started = time.perf_counter()
            projects[count] = populate(f"bench-{count}", count, reviewer, args.relations)
            Membership.objects.create(project=projects[count], user=reviewer, role=Role.REVIEWER)
            took = time.perf_counter() - started
            print(
                f"set-up: {count:,} articles x {SPANS} spans x {args.relations} relations "
                f"in {took:.1f} s"
            )
        print()
        print(
            f"{'articles':>9} {'format':>6} {'MB':>8} {'seconds':>8} {'cpu s':>6} {'MB/s':>7} "
            f"{'spans/s':>8} {'peak MiB':>9} {'http s':>7} {'http MB/s':>9} {'maxrss MiB':>10}"
        )
        for count, project in projects.items():
            for format in args.formats:
                started, cpu = time.perf_counter(), time.process_time()
                size = stream(project, format)
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                tracemalloc.start()
                stream(project, format)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                http_size, http_seconds = stream_http(project, format, client)
                assert http_size == size or format == "w3c"
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                mb = size / 1e6
                print(
                    f"{count:>9,} {format:>6} {mb:>8.1f} {seconds:>8.2f} {cpu:>6.2f} "
                    f"{mb / seconds:>7.1f} {count * SPANS / seconds:>8,.0f} "
                    f"{peak / 2**20:>9.1f} {http_seconds:>7.2f} {mb / http_seconds:>9.1f} "
                    f"{rss:>10.0f}"
                )
        print()
        print("peak MiB: the most Python memory allocated at once while streaming (tracemalloc);")
        print("maxrss: the process's high-water mark so far, set-up included.")
        print("seconds are wall time (the machine may be shared); cpu s is this process's CPU.")


if __name__ == "__main__":
    main()
