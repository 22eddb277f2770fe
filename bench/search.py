"""Full-text search at 100,000 articles: p50/p95 of common and rare words and phrases.

    .venv/bin/python bench/search.py [--db sqlite|postgres|both] [--articles 100000]
                                     [--repeat 15]

For each database: a fresh one (a temporary SQLite file; on the PostgreSQL at 127.0.0.1:5432
a database ``bench_search_<pid>``, dropped afterwards), migrated, filled with `--articles`
articles of about 2,000 characters in one project (bulk inserts; the search index is kept
by the database as rows arrive: FTS5 triggers, PostgreSQL's generated tsvector and its GIN
index), then searched the way the search page does it: the count and the first page of 20
hits with their snippets (``annotate.services.article_search``), as a reviewer (every
article) and as an editor whose queue holds every 20th article.

The text: sentences drawn from a news vocabulary with Zipf-like frequencies (a few hundred
common words, place and group names in a few percent of the articles, and a long tail of
40,000 rare words), so that "said" is in nearly every article and a tail word in a handful.
It asserts nothing; it prints a table (milliseconds per search, wall clock).
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
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

COMMON = (  # noqa: SIM905 - a paragraph of words reads better than a list
    "the of and to in a said on for that was with by at from as is were has it an be had "
    "have after are their not this but which they who been two three people its also one "
    "killed police army forces government officials city town on monday tuesday wednesday "
    "thursday friday saturday sunday attack security minister president state military "
    "told reported according local area near border week during since more than least "
    "civilians fighters group rebels troops strike strikes air shelling killed wounded "
    "injured dead bodies hospital health ministry spokesman statement agency news reuters "
    "afp source sources witness witnesses residents village district province region "
    "capital north south east west northern southern eastern western clashes fighting "
    "gunmen militants insurgents protesters demonstrators protest protests arrested "
    "detained released hostages talks ceasefire truce peace deal aid convoy refugees "
    "displaced camp camps water food fuel electricity power prices market economy"
).split()
NAMES = (  # noqa: SIM905
    "Aleppo Homs Idlib Damascus Baghdad Mosul Basra Kirkuk Erbil Beirut Tripoli Benghazi "
    "Sanaa Aden Taiz Gaza Rafah Khartoum Darfur Mogadishu Kabul Kandahar Raqqa Deir Hama "
    "Daraa Latakia Fallujah Ramadi Tikrit Hezbollah Houthis Taliban Kataeb"
).split()
PHRASES = ["Kataeb Hezbollah", "Syrian Observatory for Human Rights", "Islamic State"]
TAIL = 40_000
CHARS = 2_000
BATCH = 2_000
PAGE = 20

QUERIES = [
    ("common word", "said"),
    ("common word, not stemmed", "killed"),
    ("name (~3% of articles)", "Aleppo"),
    ("rare word (a handful)", "zorvalek"),
    ("two words", "Aleppo wounded"),
    ("word or word", "Homs or Idlib"),
    ("common phrase", '"the army"'),
    ("rare phrase", '"Kataeb Hezbollah"'),
    ("word, minus word", "Baghdad -Mosul"),
    ("no match", "qqqqzzzz"),
]


def tail_word(rng: random.Random, n: int) -> str:
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    return "".join(
        rng.choice(consonants) + rng.choice(vowels) for _ in range(3 + n % 3)
    ) + rng.choice(consonants)


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    words = list(COMMON) + list(NAMES) + [tail_word(rng, n) for n in range(TAIL)]
    # The tail word the queries look for: as rare as any in the tail.
    words[len(COMMON) + len(NAMES) + TAIL // 2] = "zorvalek"
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(COMMON))]
    weights += [0.0015] * len(NAMES)
    weights += [0.4 / (rank + 50) ** 1.1 for rank in range(TAIL)]
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return words, cumulative


def article_text(rng: random.Random, words: list[str], cumulative: list[float]) -> str:
    parts: list[str] = []
    size = 0
    while size < CHARS:
        sentence = rng.choices(words, cum_weights=cumulative, k=rng.randint(8, 24))
        if rng.random() < 0.01:
            sentence.insert(rng.randrange(len(sentence)), rng.choice(PHRASES))
        sentence[0] = sentence[0].capitalize()
        text = " ".join(sentence) + "."
        parts.append(text)
        size += len(text) + 1
    return " ".join(parts)


def setup_django(database_url: str) -> None:
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotate.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(count: int) -> tuple[object, object, object]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from annotate.models import Article, Assignment, Membership, Project, Role
    from annotate.models.projects import text_sha256

    rng = random.Random(15)
    words, cumulative = vocabulary(rng)
    project = Project.objects.create(name="Search bench", slug="search-bench")
    users = get_user_model().objects
    reviewer = users.create_user("bench_reviewer", password="x" * 12)
    editor = users.create_user("bench_editor", password="x" * 12)
    Membership.objects.create(project=project, user=reviewer, role=Role.REVIEWER)
    Membership.objects.create(project=project, user=editor, role=Role.EDITOR)
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        rows = []
        for n in range(first, min(count, first + BATCH)):
            text = article_text(rng, words, cumulative)
            title = " ".join(rng.choices(words[:400], k=6)).capitalize()
            rows.append(
                Article(
                    project=project,
                    external_id=f"a{n}",
                    title=title,
                    text=text,
                    sha256=text_sha256(text),
                )
            )
        with transaction.atomic():
            made = Article.objects.bulk_create(rows)  # with their ids (RETURNING, both backends)
            Assignment.objects.bulk_create(
                Assignment(article=a, editor=editor)
                for a in made
                if int(a.external_id[1:]) % 20 == 0
            )
    seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # As autovacuum would by now: without statistics on the assignments, the planner
            # reads an editor's whole queue for a word in a handful of articles.
            cursor.execute("VACUUM ANALYZE annotate_article")
            cursor.execute("ANALYZE annotate_assignment")
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO annotate_article_fts(annotate_article_fts) VALUES ('optimize')"
            )
            cursor.execute("ANALYZE")
    print(f"  filled {count:,} articles in {seconds:.0f} s ({count / seconds:,.0f}/s)", flush=True)
    return project, reviewer, editor


def measure(project, user, role: str, text: str, repeat: int) -> tuple[float, float, int]:
    from annotate.services.article_search import search_articles

    times = []
    count = 0
    for _ in range(repeat):
        started = time.perf_counter()
        results = search_articles(project=project, user=user, role=role, text=text)
        count = len(results)
        page = results[0:PAGE]
        assert all(hit.snippet is not None for hit in page)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, count


def run_one(db: str, articles: int, repeat: int) -> None:
    pg_name = f"bench_search_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="bench-search-"))
    if db == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {pg_name}")
        url = f"postgresql://postgres@127.0.0.1:5432/{pg_name}"
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    try:
        setup_django(url)
        from django.db import connection

        from annotate.models import Role

        print(f"{db}: {articles:,} articles, load {os.getloadavg()[0]:.1f}", flush=True)
        project, reviewer, editor = fill(articles)
        print(f"  {'query':<28} {'as':<9} {'hits':>7} {'p50 ms':>8} {'p95 ms':>8}")
        for name, text in QUERIES:
            for who, user, role in (
                ("reviewer", reviewer, Role.REVIEWER),
                ("editor", editor, Role.EDITOR),
            ):
                p50, p95, count = measure(project, user, role, text, repeat)
                print(f"  {name:<28} {who:<9} {count:>7,} {p50:>8.1f} {p95:>8.1f}", flush=True)
        print(f"  load after: {os.getloadavg()[0]:.1f}", flush=True)
        connection.close()
    finally:
        if db == "postgres":
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
        for path in workdir.glob("*"):
            path.unlink()
        workdir.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if args.db != "both":
        run_one(args.db, args.articles, args.repeat)
        return
    # One process per database: Django's settings are read once.
    for db in ("sqlite", "postgres"):
        argv = [sys.executable, __file__, "--db", db, "--articles", str(args.articles)]
        subprocess.run([*argv, "--repeat", str(args.repeat)], check=True)


if __name__ == "__main__":
    main()
