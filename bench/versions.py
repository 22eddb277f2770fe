"""What does a long annotation history cost? Prints figures; asserts nothing.

Builds, in a throwaway test database (a temporary SQLite file, or a test database on the
PostgreSQL server of DATABASE_URL), one annotation with 1,000 versions: 40 spans in version
1, then random one-span edits (add, remove, relabel) through ``save_annotation``. Prints:

- rows written per version (the version row, plus one span row per span added);
- bytes per version, from the database itself (SQLite ``dbstat``, PostgreSQL
  ``pg_total_relation_size``: tables, indexes and TOAST);
- the time to load the current state and an old state (median), and to save a version.

Run: .venv/bin/python bench/versions.py [--versions 1000] [--spans 40] [--runs 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from annotate.models import Annotation, AnnotationVersion, Role, Span  # noqa: E402
from annotate.services.annotations import SpanInput, annotation_for, save_annotation  # noqa: E402
from annotate.versioning import SpanKey  # noqa: E402
from tests.factories import make_article, make_member, make_project, make_user  # noqa: E402

LABELS = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]
WORDS = 400
TABLES = ["annotate_span", "annotate_annotationversion"]


def word(i: int, label: str) -> SpanKey:
    return SpanKey(i * 8, i * 8 + 7, label)


def edit(rng: random.Random, state: frozenset[SpanKey], target: int) -> frozenset[SpanKey]:
    """One random add, remove or relabel, drifting around `target` spans."""
    spans = sorted(state)
    weights = [2, 1, 2] if len(spans) < target else [1, 2, 2]
    op = rng.choices(["add", "remove", "relabel"], weights)[0] if spans else "add"
    if op == "add":
        taken = {s.start for s in spans}
        free = [i for i in range(WORDS) if i * 8 not in taken]
        return state | {word(rng.choice(free), rng.choice(LABELS))}
    old = rng.choice(spans)
    if op == "remove":
        return state - {old}
    label = rng.choice([x for x in LABELS if x != old.label])
    return (state - {old}) | {SpanKey(old.start, old.end, label)}


def table_bytes() -> dict[str, int]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE tbl_name IN (%s, %s)", TABLES
            )
            owner = dict(cursor.fetchall())
            cursor.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
            sizes: dict[str, int] = {}
            for name, size in cursor.fetchall():
                if name in owner:
                    sizes[owner[name]] = sizes.get(owner[name], 0) + size
            return sizes
        result = {}
        for table in TABLES:
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            result[table] = cursor.fetchone()[0]
        return result


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.2f} ms"


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(versions: int, spans: int, runs: int) -> None:
    rng = random.Random(7)
    project = make_project("bench-versions")
    editor = make_member(project, make_user("bench-editor"), Role.EDITOR)
    text = " ".join(f"word{i:03d}" for i in range(WORDS))
    article = make_article(project, text, editors=[editor])
    annotation = annotation_for(article, editor)

    def save(state: frozenset[SpanKey]) -> None:
        save_annotation(
            annotation=annotation,
            author=editor,
            role=Role.EDITOR,
            base_version=annotation.version,
            spans=[SpanInput(*k) for k in sorted(state)],
        )

    empty = table_bytes()
    state = frozenset(word(i * 9, LABELS[i % 4]) for i in range(spans))
    save_times = [timed(lambda: save(state))]
    while annotation.version < versions:
        state = edit(rng, state, spans)
        save_times.append(timed(lambda s=state: save(s)))
    full = table_bytes()

    version_rows = AnnotationVersion.objects.filter(annotation=annotation).count()
    span_rows = Span.objects.filter(annotation=annotation).count()
    current = Span.objects.filter(annotation=annotation, removed_in__isnull=True).count()

    def load_current() -> None:
        loaded = Annotation.objects.get(pk=annotation.pk)
        list(loaded.current_spans())

    def load_old() -> None:
        list(annotation.spans_at(rng.randint(1, versions)))

    current_times = [timed(load_current) for _ in range(runs)]
    old_times = [timed(load_old) for _ in range(runs)]
    later = []
    for _ in range(min(runs, 100)):
        state = edit(rng, state, spans)
        later.append(timed(lambda s=state: save(s)))

    grown = {t: full.get(t, 0) - empty.get(t, 0) for t in TABLES}
    print(f"database: {connection.vendor}; {versions} versions, {current} spans now")
    print(f"rows: {version_rows} version rows + {span_rows} span rows")
    print(
        f"rows per version: 1 version row + {(span_rows) / versions:.2f} span rows "
        f"(a full snapshot per version would be ~{spans} span rows)"
    )
    per_version = sum(grown.values()) / versions
    detail = ", ".join(
        f"{t.removeprefix('annotate_')} {b / versions:.0f}" for t, b in grown.items()
    )
    print(f"bytes per version: {per_version:.0f} ({detail}; tables and indexes)")
    print(f"load current state (head + spans, 2 queries), median: {median_ms(current_times)}")
    print(f"load an old state (1 query), median: {median_ms(old_times)}")
    print(f"save a version, median while building: {median_ms(save_times)}")
    print(f"save a version on top of {versions} versions, median: {median_ms(later)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--spans", type=int, default=40)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args.versions, args.spans, args.runs)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
