"""Agreement at scale: a synthetic project of 10,000 articles × 3 editors × 40 spans, with
20 relations per annotation and attribute values on every casualty figure.

    .venv/bin/python bench/agreement.py [--articles N] [--editors M] [--spans S]
        [--relations R] [--db-recompute] [--postgres postgres://postgres@127.0.0.1:5432]

Prints (no assertions):
1. the full recompute from spans in memory (both units, plus the editor-group totals):
   time and peak memory (cost linear in the spans), then the same chunk by chunk as
   the recompute command runs it, with the scores and the JSON of the stored rows (the
   aims, under 5 s and 500 MB, are for the whole command, database included: the
   benchmark suite runs it, ``manage.py recompute_agreement``, on 10,000 imported
   articles);
2. the same for agreement on facts (relation and attribute statistics, scores, totals);
3. the report from stored statistics (spans and facts) in a temporary SQLite database
   (aim: under 200 ms), unfiltered and with an editor and a label filter;
4. with ``--db-recompute``, the whole recompute as the command runs it (``recompute_project``:
   reading spans, relations and attributes from the database, computing, writing rows and
   totals; aim: under 10 s) on that SQLite database (``--postgres URL``: on a fresh
   database on that PostgreSQL server, dropped afterwards), after storing the annotations.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotate.agreement import facts as agreement_facts  # noqa: E402
from annotate.agreement import stats as agreement_stats  # noqa: E402
from annotate.agreement.units import UNITS  # noqa: E402

LABELS = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]
TEXT_SAMPLE = (
    "the rebels shelled Aleppo on Monday killing 12 people officials in Damascus said army "
    "forces government sources reported north city town province police killed wounded , . "
    "al-Assad's spokesman Reuters according to witnesses two three children"
)
WORDS = TEXT_SAMPLE.split(" ")
CASUALTY = LABELS.index("CASUALTY")
RELATION_TYPES = ["SAID_BY", "LOCATED_IN", "PART_OF"]
KINDS = ["killed", "wounded", "missing"]


def synthetic(n_articles: int, n_editors: int, n_spans: int, n_relations: int = 0, seed: int = 0):
    """Articles of ~500 words; editors share most spans, with jitter, relabels and misses.

    Returns the articles and, per article, each editor's facts (label and relation type
    indices stand for ids): `n_relations` relations drawn from a shared list (each editor
    keeps 90 %, and loses those whose ends it missed), and on each casualty figure a kind
    (80 % the shared one) and a low figure (85 % the shared one)."""
    rng = np.random.default_rng(seed)
    vocab = np.array(WORDS)
    articles = []
    facts = []
    words = rng.integers(0, len(vocab), size=(n_articles, 500))
    for key in range(n_articles):
        text = " ".join(vocab[words[key]])
        length = len(text)
        starts = np.sort(rng.integers(0, length - 40, n_spans))
        widths = rng.integers(3, 30, n_spans)
        labels = rng.integers(0, len(LABELS), n_spans)
        links = rng.integers(0, n_spans, size=(n_relations, 2))
        types = rng.integers(0, len(RELATION_TYPES), n_relations)
        kinds = rng.integers(0, len(KINDS), n_spans)
        lows = rng.integers(1, 50, n_spans)
        editors = []
        editor_facts = []
        for editor in range(n_editors):
            jitter = rng.integers(-3, 4, n_spans) * (rng.random(n_spans) < 0.25)
            s = np.clip(starts + jitter, 0, length - 1)
            e = np.clip(s + widths, s + 1, length)
            lab = np.where(rng.random(n_spans) < 0.1, rng.integers(0, len(LABELS), n_spans), labels)
            keep = rng.random(n_spans) > 0.05
            editors.append(
                agreement_stats.EditorSpans(
                    editor + 1, 1, s[keep].tolist(), e[keep].tolist(), lab[keep].tolist()
                )
            )
            own_kind = np.where(rng.random(n_spans) < 0.8, kinds, rng.integers(0, 3, n_spans))
            own_low = np.where(rng.random(n_spans) < 0.85, lows, rng.integers(1, 50, n_spans))
            spans = [
                (
                    int(s[i]),
                    int(e[i]),
                    int(lab[i]),
                    {"kind": KINDS[own_kind[i]], "low": int(own_low[i])},
                )
                for i in np.flatnonzero(keep & (lab == CASUALTY))
            ]
            chosen = (rng.random(n_relations) < 0.9) & keep[links[:, 0]] & keep[links[:, 1]]
            relations = {
                (
                    int(types[r]),
                    int(s[a]),
                    int(e[a]),
                    int(lab[a]),
                    int(s[b]),
                    int(e[b]),
                    int(lab[b]),
                )
                for r, (a, b) in enumerate(links.tolist())
                if chosen[r] and a != b
            }
            editor_facts.append(
                agreement_facts.EditorFacts(editor + 1, 1, sorted(relations), spans)
            )
        articles.append(agreement_stats.ArticleSpans(key, text, editors))
        facts.append(editor_facts)
    return articles, facts


def recompute(articles) -> tuple[dict[str, list[dict]], dict]:
    """Everything the recompute command derives: per-article statistics and group totals."""
    return agreement_stats.compute_with_totals(articles, len(LABELS), UNITS)


def recompute_facts(facts) -> tuple[list, dict]:
    """Everything the recompute derives for facts: per-article statistics and scores, and
    group totals."""
    rows = []
    totals: dict[tuple, dict] = {}
    for editors in facts:
        stats = agreement_facts.article_stats(editors)
        rows.append((stats, agreement_facts.article_score(stats)))
        group = tuple(stats["editors"])
        totals[group] = agreement_facts.add_into(
            totals.get(group), agreement_facts.contribution(stats)
        )
    return rows, totals


def recompute_rows(articles) -> int:
    """What the recompute command does per article besides reading and writing: the
    statistics, the scores and the JSON the rows store, chunk by chunk."""
    size = 0
    batch = agreement_stats.batch_of(articles)
    for chunk in agreement_stats.compute_batch(batch, len(LABELS), UNITS, totals=True):
        for unit in UNITS:
            size += sum(len(json.dumps(stats)) for stats in chunk.stats[unit])
    return size


def timed(label: str, function, *args, repeat: int = 1):
    """Best of `repeat` runs: wall time and this process's CPU time (on a shared machine
    the CPU time is the steadier figure; the database work of SQLite runs in-process and
    counts in it)."""
    best, best_cpu = float("inf"), float("inf")
    result = None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = function(*args)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    print(f"{label:<58} {best * 1000:9.1f} ms (CPU {best_cpu * 1000:.0f} ms)")
    return result


def with_ids(facts, label_ids: list[int], type_ids: list[int]) -> list:
    """The synthetic facts with the database's label and relation type ids."""

    def relation(r: tuple) -> tuple:
        t, fs, fe, fl, ts, te, tl = r
        return (type_ids[t], fs, fe, label_ids[fl], ts, te, label_ids[tl])

    return [
        [
            agreement_facts.EditorFacts(
                e.editor,
                e.version,
                [relation(r) for r in e.relations],
                [(s, end, label_ids[lab], values) for s, end, lab, values in e.spans],
            )
            for e in editors
        ]
        for editors in facts
    ]


def store_annotations(project, ids, articles, facts, label_ids, type_ids, users) -> None:
    """The annotations themselves (submitted, version 1), their spans with attribute values
    and their relations, as the recompute command reads them."""
    from annotate.models import Annotation, Relation, Span

    annotations = Annotation.objects.bulk_create(
        [
            Annotation(
                article_id=article_id,
                annotator=users[e.editor - 1],
                kind=Annotation.Kind.EDITOR,
                status=Annotation.Status.SUBMITTED,
                version=1,
            )
            for article_id, article in zip(ids, articles, strict=True)
            for e in article.editors
        ],
        batch_size=2000,
    )
    spans, relations = [], []
    owners = iter(annotations)
    for article, editors in zip(articles, facts, strict=True):
        text = article.text
        for e, f in zip(article.editors, editors, strict=True):
            annotation = next(owners).pk
            values = {(s, end, lab): v for s, end, lab, v in f.spans}
            seen = set()
            for s, end, lab in zip(e.starts, e.ends, e.labels, strict=True):
                if (s, end, lab) in seen:
                    continue
                seen.add((s, end, lab))
                attributes = values.get((s, end, label_ids[lab]), {})
                spans.append(
                    (annotation, s, end, label_ids[lab], text[s:end], json.dumps(attributes), 1, "")
                )
            for t, fs, fe, fl, ts, te, tl in set(f.relations):
                relations.append((annotation, t, fs, fe, fl, ts, te, tl, 1))
    span_fields = ["annotation", "start", "end", "label", "text", "attributes", "added_in"]
    _insert(Span, [*span_fields, "origin"], spans)
    relation_fields = ["annotation", "type", "from_start", "from_end", "from_label"]
    _insert(Relation, [*relation_fields, "to_start", "to_end", "to_label", "added_in"], relations)


def _insert(model, fields: list[str], rows: list[tuple]) -> None:
    """Rows straight through the driver (the ORM's bulk_create builds a model instance per
    row: minutes for a million spans)."""
    from django.db import connection, transaction

    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:  # one commit, not one a row
        for first in range(0, len(rows), 20_000):
            cursor.executemany(sql, rows[first : first + 20_000])


def _fresh_postgres_database(server: str) -> str:
    """A new, empty database on the PostgreSQL server at `server` (a URL without a database
    name), dropped when the benchmark ends; its URL."""
    import atexit

    import psycopg

    name = f"bench_agreement_{os.getpid()}"
    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")

    atexit.register(drop)
    return f"{server.rstrip('/')}/{name}"


def store_and_report(
    articles, computed, totals, facts, db_recompute: bool, postgres: str | None = None
) -> None:
    if postgres:
        os.environ["DATABASE_URL"] = _fresh_postgres_database(postgres)
    else:
        database = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    # DEBUG off: with it on, Django keeps the SQL of every query, which costs time.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotate.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from annotate.models import (
        AgreementTotal,
        Article,
        ArticleAgreement,
        ArticleFactAgreement,
        AttributeDefinition,
        FactAgreementTotal,
        Label,
        Project,
        RelationType,
    )
    from annotate.services.agreement import _rows, project_report, recompute_project

    call_command("migrate", verbosity=0)
    project = Project.objects.create(name="Bench", slug="bench")
    labels = [
        Label.objects.create(project=project, key=key, name=key, order=i).pk
        for i, key in enumerate(LABELS)
    ]
    casualty = labels[CASUALTY]
    AttributeDefinition.objects.create(
        label_id=casualty, key="kind", name="Kind", type="choice", choices=KINDS
    )
    AttributeDefinition.objects.create(label_id=casualty, key="low", name="Low", type="integer")
    types = [
        RelationType.objects.create(project=project, key=key, name=key, order=i).pk
        for i, key in enumerate(RELATION_TYPES)
    ]
    facts = with_ids(facts, labels, types)
    n_editors = len(articles[0].editors)
    users = [
        get_user_model().objects.create(username=f"editor{i + 1}", id=i + 1)
        for i in range(n_editors)
    ]
    started = time.perf_counter()
    Article.objects.bulk_create(
        [
            Article(project=project, external_id=f"a{a.key}", title=f"Article {a.key}", text=a.text)
            for a in articles
        ],
        batch_size=2000,
    )
    ids = list(Article.objects.filter(project=project).order_by("pk").values_list("pk", flat=True))
    batch = replace(agreement_stats.batch_of(articles), keys=ids)
    rows = [
        row
        for chunk in agreement_stats.compute_batch(batch, len(LABELS), UNITS)
        for row in _rows(chunk, project.pk, labels)
    ]
    ArticleAgreement.objects.bulk_create(rows, batch_size=1000)
    AgreementTotal.objects.bulk_create(
        [
            AgreementTotal(
                project=project,
                unit=unit,
                group=",".join(map(str, editors)),
                editors=list(editors),
                labels=labels,
                articles=total["articles"],
                stats=total,
            )
            for unit, groups in totals.items()
            for editors, total in groups.items()
        ]
    )
    fact_rows, fact_totals = recompute_facts(facts)
    ArticleFactAgreement.objects.bulk_create(
        [
            ArticleFactAgreement(
                article_id=article_id,
                project=project,
                editors=stats["editors"],
                versions=stats["versions"],
                stats=stats,
                score=score,
            )
            for article_id, (stats, score) in zip(ids, fact_rows, strict=True)
        ],
        batch_size=1000,
    )
    FactAgreementTotal.objects.bulk_create(
        [
            FactAgreementTotal(
                project=project,
                group=",".join(map(str, group)),
                editors=list(group),
                articles=total["articles"],
                stats=total,
            )
            for group, total in fact_totals.items()
        ]
    )
    print(f"{'store statistics (not part of the aims)':<58} "
          f"{(time.perf_counter() - started) * 1000:9.1f} ms")  # fmt: skip
    two = [users[0].username, users[1].username]
    timed("report from stored statistics, tokens", project_report, project, repeat=5)
    timed(
        "report, characters",
        lambda: project_report(project, unit="char"),
        repeat=5,
    )
    timed(
        "report, two editors (per-article ranking re-scored)",
        lambda: project_report(project, editors=two),
    )
    timed(
        "report, one label (per-article ranking re-scored)",
        lambda: project_report(project, labels=["ACTOR"]),
    )
    timed(
        "report, 100 chosen articles",
        lambda: project_report(project, article_ids=ids[:100]),
        repeat=3,
    )
    result = project_report(project, articles_limit=10)
    print(
        f"  relation F1 exact {result['relations']['f1_exact']}, overlap "
        f"{result['relations']['f1_overlap']}; CASUALTY.low alpha "
        f"{result['attributes']['CASUALTY.low']['krippendorff_alpha']}"
    )
    if db_recompute:
        started = time.perf_counter()
        store_annotations(project, ids, articles, facts, labels, types, users)
        print(f"{'store annotations, spans, relations (not part of the aims)':<58} "
              f"{(time.perf_counter() - started) * 1000:9.1f} ms")  # fmt: skip
        summary = timed("full recompute from the database (recompute_project)",
                        recompute_project, project)  # fmt: skip
        print(f"  {summary.compared} articles compared, {summary.groups} editor groups")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--editors", type=int, default=3)
    parser.add_argument("--spans", type=int, default=40)
    parser.add_argument("--relations", type=int, default=20)
    parser.add_argument(
        "--db-recompute", action="store_true", help="Also time the recompute from the database."
    )
    parser.add_argument("--no-db", action="store_true", help="Skip the stored-report part.")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="Store in a fresh database on this PostgreSQL server (e.g. "
        "postgres://postgres@127.0.0.1:5432), dropped afterwards, instead of SQLite.",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    articles, facts = synthetic(args.articles, args.editors, args.spans, args.relations)
    chars = sum(len(a.text) for a in articles)
    spans = sum(len(e.starts) for a in articles for e in a.editors)
    print(
        f"synthetic project: {len(articles)} articles, {args.editors} editors, {spans} spans, "
        f"{chars / 1e6:.1f} M characters ({time.perf_counter() - started:.1f} s to generate)"
    )
    agreement_stats.compute(articles[:10], len(LABELS), UNITS)  # warm up (tables, imports)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    cpu = time.process_time()
    computed, totals = recompute(articles)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'full recompute, tokens + characters + totals':<58} {wall * 1000:9.1f} ms "
          f"(CPU {cpu * 1000:.0f} ms)")  # fmt: skip
    print(f"{'  per unit kind, per 1,000 articles':<58} "
          f"{wall * 1000 / len(UNITS) / (len(articles) / 1000):9.1f} ms")  # fmt: skip
    print(
        f"{'  peak RSS of the process before / after':<58} {rss_before:6.0f} / {rss_after:.0f} MB"
    )

    del computed, totals
    tracemalloc.start()
    computed, totals = recompute(articles)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"{'  peak memory allocated by the recompute (tracemalloc)':<58} {peak:9.1f} MB")
    started = time.perf_counter()
    cpu = time.process_time()
    size = recompute_rows(articles)
    print(f"{'the same as rows: statistics, scores, JSON (' + f'{size / 1e6:.0f} MB)':<58} "
          f"{(time.perf_counter() - started) * 1000:9.1f} ms "
          f"(CPU {(time.process_time() - cpu) * 1000:.0f} ms)")  # fmt: skip

    relations = sum(len(e.relations) for editors in facts for e in editors)
    started = time.perf_counter()
    cpu = time.process_time()
    recompute_facts(facts)
    print(f"{f'facts: {relations} relations, statistics + scores + totals':<58} "
          f"{(time.perf_counter() - started) * 1000:9.1f} ms "
          f"(CPU {(time.process_time() - cpu) * 1000:.0f} ms)")  # fmt: skip

    if not args.no_db:
        store_and_report(articles, computed, totals, facts, args.db_recompute, args.postgres)


if __name__ == "__main__":
    main()
