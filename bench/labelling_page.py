"""How fast is the labelling page on a big article? Prints figures; asserts nothing.

Builds, in a throwaway test database (a temporary SQLite file, or a test database on the
PostgreSQL server of DATABASE_URL), an article of 20,000 characters with 500 spans, then
measures through Django's test client:

- the server time to render the full page and the htmx workspace fragment;
- the server time and answer size to add one span, as the page's script does it (JSON with
  what changed: the paragraph, the list item, the status bar) and as a plain htmx POST does
  it (the whole workspace);

and, when /usr/bin/chromium exists, in a real browser against a live server:

- the time from pressing a label's hotkey on a selection to the updated page (request,
  server, swap and re-selection included).

Run: .venv/bin/python bench/labelling_page.py [--runs 30] [--browser-runs 15] [--no-browser]
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
from django.test.utils import setup_test_environment  # noqa: E402

from annotate.models import Role  # noqa: E402
from annotate.offsets import to_utf16  # noqa: E402
from annotate.services.annotations import SpanInput, annotation_for, save_annotation  # noqa: E402
from tests.factories import PASSWORD, make_article, make_member, make_project, make_user  # noqa: E402

ARTICLE_CHARS = 20_000
SPANS = 500
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


def setup_data():
    rng = random.Random(20_000)
    project = make_project("bench")
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
    annotation = annotation_for(article, editor)
    save_annotation(
        annotation=annotation, author=editor, role=Role.EDITOR, base_version=0, spans=spans
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
    print(f"article: {len(article.text):,} characters, {SPANS} spans; page {size:,} bytes")

    full = [timed(lambda: client.get(url)) for _ in range(runs)]
    print(f"render full page          {percentiles(full)}   {cpu_p50()}")
    fragment = [timed(lambda: client.get(url, HTTP_HX_REQUEST="true")) for _ in range(runs)]
    print(f"render workspace fragment {percentiles(fragment)}   {cpu_p50()}")

    annotation = annotation_for(article, editor)
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


def bench_browser(article, editor, free_words, runs: int) -> None:
    if not Path("/usr/bin/chromium").exists():
        print("browser: /usr/bin/chromium not found, skipped")
        return
    from django.conf import settings
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from playwright.sync_api import sync_playwright

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    server = LiveServerThread("localhost", StaticFilesHandler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    base = f"http://localhost:{server.port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/login/")
            page.fill("#id_username", editor.username)
            page.fill("#id_password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/")
            started = time.perf_counter()
            page.goto(f"{base}/articles/{article.pk}/")
            page.wait_for_load_state("load")
            load_ms = (time.perf_counter() - started) * 1000
            print(f"browser: page load to 'load' event {load_ms:.0f} ms")
            page.evaluate(
                """() => {
                  window.__lat = []; window.__net = []; window.__swap = [];
                  document.addEventListener("keydown", () => { window.__t0 = performance.now(); },
                                            true);
                  document.body.addEventListener("htmx:beforeRequest",
                                                 () => { window.__t1 = performance.now(); });
                  document.body.addEventListener("htmx:beforeSwap",
                                                 () => { window.__t2 = performance.now(); });
                  // Done when the frame after the new workspace went in is painted.
                  new MutationObserver(() => {
                    if (!window.__t0) return;
                    const [t0, t1, t2] = [window.__t0, window.__t1, window.__t2];
                    window.__t0 = 0;
                    requestAnimationFrame(() => setTimeout(() => {
                      const now = performance.now();
                      window.__lat.push(now - t0);
                      window.__net.push(t2 - t1);
                      window.__swap.push(now - t2);
                    }));
                  }).observe(document.getElementById("labelling"), {childList: true});
                }"""
            )
            for n, (start, end) in enumerate(free_words[-runs:]):
                version = int(page.get_attribute("#workspace", "data-version"))
                page.evaluate(
                    """([s, e]) => {
                      const text = document.getElementById("article-text");
                      const w = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
                      const r = document.createRange(); let seen = 0, ok = false;
                      for (let n = w.nextNode(); n; n = w.nextNode()) {
                        const l = n.data.length;
                        if (!ok && s < seen + l) { r.setStart(n, s - seen); ok = true; }
                        if (ok && e <= seen + l) { r.setEnd(n, e - seen); break; }
                        seen += l;
                      }
                      getSelection().removeAllRanges(); getSelection().addRange(r);
                    }""",
                    [to_utf16(article.text, start), to_utf16(article.text, end)],
                )
                page.keyboard.press("4")
                page.wait_for_selector(f'#workspace[data-version="{version + 1}"]')
                page.wait_for_function(f"window.__lat.length >= {n + 1}")
            print(f"browser: hotkey to updated page {percentiles(page.evaluate('window.__lat'))}")
            print(f"  of which request+server       {percentiles(page.evaluate('window.__net'))}")
            print(f"  of which swap, layout, paint  {percentiles(page.evaluate('window.__swap'))}")
            browser.close()
    finally:
        server.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--browser-runs", type=int, default=15)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        project, editor, article, free_words = setup_data()
        print(f"database: {connection.vendor}")
        bench_server(article, editor, free_words, args.runs)
        if not args.no_browser:
            bench_browser(article, editor, free_words, args.browser_runs)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
