"""How fast is the labelling page on a big article? Prints figures; asserts nothing.

Builds, in a throwaway test database (a temporary SQLite file, or a test database on the
PostgreSQL server of DATABASE_URL), an article of 20,000 characters with 500 spans, 200
relations between them and attributes on every casualty figure (``--no-facts``: spans only),
then measures through Django's test client:

- the server time and the query count to render the full page and the htmx workspace
  fragment, and the server time of one span's facts panel (values proposed from its words);
- the server time and answer size to add one span, as the page's script does it (JSON with
  what changed: the paragraph, the list item, the status bar) and as a plain htmx POST does
  it (the whole workspace);

and, when /usr/bin/chromium exists, in a real browser against a live server:

- the time from pressing a label's hotkey on a selection to the painted span, and to the
  server's answer in place (bench/hotkey_paint.py).

Run: .venv/bin/python bench/labelling_page.py [--runs 30] [--browser-runs 15] [--no-browser]
     [--no-facts]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from annotate.models import Role  # noqa: E402
from annotate.offsets import to_utf16  # noqa: E402
from annotate.services.annotations import (  # noqa: E402
    RelationInput,
    SpanInput,
    annotation_for,
    save_annotation,
)
from tests.factories import (  # noqa: E402
    PASSWORD,
    make_article,
    make_attribute,
    make_member,
    make_project,
    make_relation_type,
    make_user,
)

ARTICLE_CHARS = 20_000
SPANS = 500
RELATIONS = 200
LABELS = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]
PHRASES = (
    "fighters clashed near the border on Monday according to local officials and",
    "witnesses said dozens of families fled towards the river 🚀 while the ministry",
    "البصرة بغداد said at least six civilians were killed in the attack 👩🏽‍⚕️",
    "doctors treated the wounded at the main hospital",
)
WORDS = " ".join(PHRASES).split()


def build_text(rng: random.Random) -> str:
    words, size = [], 0
    while size < ARTICLE_CHARS:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
        if rng.random() < 0.03:
            words.append("\n")
    return " ".join(words)[:ARTICLE_CHARS].rstrip() + "."


def word_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, ch in enumerate(text + " "):
        if ch.isalnum() and start is None:
            start = i
        elif not ch.isalnum() and start is not None:
            spans.append((start, i))
            start = None
    return spans


def add_schema(project) -> None:
    """Casualty figures with their values; SAID_BY from a figure to a source, NEAR between
    any two spans."""
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed", "wounded"])
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_attribute(project, "CASUALTY", "high", "integer", min=0)
    qualifiers = ["exact", "at_least", "more_than", "about", "up_to", "range"]
    make_attribute(project, "CASUALTY", "qualifier", "choice", choices=qualifiers)
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    make_relation_type(project, "NEAR")


def add_facts(spans: list[SpanInput]) -> tuple[list[SpanInput], list[RelationInput]]:
    """Values on every figure; each figure said by the source after it, then NEAR between
    neighbours far apart in the text (across paragraphs) up to RELATIONS relations."""
    with_values = [
        SpanInput(s.start, s.end, s.label, attributes={"kind": "killed", "low": n, "high": None,
                                                         "qualifier": "at_least"})
        if s.label == "CASUALTY"
        else s
        for n, s in enumerate(spans)
    ]  # fmt: skip
    relations = [
        RelationInput(i, i + 1, "SAID_BY")
        for i, s in enumerate(spans[:-1])
        if s.label == "CASUALTY" and spans[i + 1].label == "SOURCE"
    ]
    step = 1
    while len(relations) < RELATIONS:
        for i in range(0, len(spans) - 40 * step, 7):
            if len(relations) >= RELATIONS:
                break
            relations.append(RelationInput(i, i + 40 * step, "NEAR"))
        step += 1
    return with_values, relations[:RELATIONS]


def setup_data(facts: bool = True):
    rng = random.Random(20_000)
    project = make_project("bench")
    if facts:
        add_schema(project)
    editor = make_member(project, make_user("bench-editor"), Role.EDITOR)
    article = make_article(project, build_text(rng), editors=[editor], title="A long article")
    words = word_spans(article.text)
    # Every other word from the start gets a span (some two-word spans hold a nested one),
    # leaving the second half of the text free for the spans the benchmark adds.
    chosen = words[: 2 * SPANS : 2]
    spans = []
    for n, (start, end) in enumerate(chosen[: SPANS - 50]):
        spans.append(SpanInput(start, end, LABELS[n % 4]))
    for n, (start, _) in enumerate(chosen[SPANS - 50 : SPANS]):
        end = words[words.index(chosen[SPANS - 50 + n]) + 1][1]
        spans.append(SpanInput(start, end, "ACTOR"))
    relations: list[RelationInput] = []
    if facts:
        spans, relations = add_facts(spans)
    annotation = annotation_for(article, editor)
    save_annotation(
        annotation=annotation,
        author=editor,
        role=Role.EDITOR,
        base_version=0,
        spans=spans,
        relations=relations,
    )
    # Words away from every span (so that an added span merges with nothing), with room on
    # both sides (so that no two added spans touch).
    free_words = [w for w in words if w[0] > chosen[-1][1] + 40][::2]
    return project, editor, article, free_words


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (n={len(ordered)})"


CPU: list[float] = []


def timed(fn) -> float:
    """Wall-clock milliseconds of fn(); its CPU milliseconds go to CPU (on a shared machine
    the CPU time says more about the code than the wall clock does)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    CPU.append((time.process_time() - cpu) * 1000)
    return (time.perf_counter() - start) * 1000


def cpu_p50() -> str:
    value = statistics.median(CPU)
    CPU.clear()
    return f"cpu p50 {value:6.1f} ms"


def bench_server(article, editor, free_words, runs: int) -> None:
    client = Client()
    assert client.login(username=editor.username, password=PASSWORD)
    url = f"/articles/{article.pk}/"
    client.get(url)  # warm caches (templates, stylesheets)
    page = client.get(url)
    CPU.clear()
    size = len(page.content)
    annotation = annotation_for(article, editor)
    relations = annotation.relations.filter(removed_in__isnull=True).count()
    print(
        f"article: {len(article.text):,} characters, {SPANS} spans, {relations} relations; "
        f"page {size:,} bytes"
    )

    full = [timed(lambda: client.get(url)) for _ in range(runs)]
    print(f"render full page          {percentiles(full)}   {cpu_p50()}   {queries(client, url)}")
    fragment = [timed(lambda: client.get(url, HTTP_HX_REQUEST="true")) for _ in range(runs)]
    hx = queries(client, url, HTTP_HX_REQUEST="true")
    print(f"render workspace fragment {percentiles(fragment)}   {cpu_p50()}   {hx}")
    figure = annotation.current_spans().filter(label__key="CASUALTY").first()
    if figure is not None:
        panel = f"/articles/{article.pk}/spans/{figure.pk}/facts/"
        times = [timed(lambda: client.get(panel, HTTP_HX_REQUEST="true")) for _ in range(runs)]
        hx = queries(client, panel, HTTP_HX_REQUEST="true")
        print(f"one span's facts panel    {percentiles(times)}   {cpu_p50()}   {hx}")

    words = iter(free_words)
    for name, headers in (
        ("add one span (JSON, what changed)", {"HTTP_ACCEPT": "application/json"}),
        ("add one span (htmx, workspace)   ", {"HTTP_HX_REQUEST": "true"}),
    ):
        adds, sizes = [], []
        for start, end in (next(words) for _ in range(runs)):
            annotation.refresh_from_db()
            data = {
                "start": to_utf16(article.text, start),
                "end": to_utf16(article.text, end),
                "quote": article.text[start:end],
                "label": "SOURCE",
                "base_version": annotation.version,
                "request_key": str(uuid.uuid4()),
            }
            response = None

            def post(data=data, headers=headers):
                nonlocal response
                response = client.post(f"/articles/{article.pk}/spans/", data, **headers)

            adds.append(timed(post))
            assert response is not None and response.status_code == 200, response
            sizes.append(len(response.content))
        size = f"answer {statistics.median(sizes) / 1024:6.1f} KiB"
        print(f"{name} {percentiles(adds)}   {cpu_p50()}   {size}")


def queries(client: Client, url: str, **headers) -> str:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, **headers).status_code == 200
    return f"{len(captured)} queries"


def bench_browser(article, editor, free_words, runs: int) -> None:
    """Hotkey to paint, and to the server's answer in place, in Chromium (the page paints a
    new span before the server answers): bench/hotkey_paint.py measures it."""
    if not Path("/usr/bin/chromium").exists():
        print("browser: /usr/bin/chromium not found, skipped")
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from hotkey_paint import measure

    measure(article, editor, free_words, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--browser-runs", type=int, default=15)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-facts", action="store_true", help="spans only")
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        project, editor, article, free_words = setup_data(facts=not args.no_facts)
        print(f"database: {connection.vendor}")
        bench_server(article, editor, free_words, args.runs)
        if not args.no_browser:
            bench_browser(article, editor, free_words, args.browser_runs)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
