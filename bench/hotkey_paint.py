"""Hotkey to highlight on the labelling page, in Chromium. Prints figures; asserts nothing.

The article of bench/labelling_page.py (20,000 characters, 500 spans) is served by a live
server in a throwaway test database; Chromium (/usr/bin/chromium, through Playwright) selects
a free word, presses a label's hotkey and measures, from the keydown event:

- paint: until the frame that shows the new span is drawn (the page paints it at once,
  before the server answers): the script's own work, the style and layout that follow
  (forced at once, to time them apart), and until that frame;
- confirmed: until the frame after the server's answer is in place (the span's id, its list
  item, the new version).

Run: .venv/bin/python bench/hotkey_paint.py [--adds 50]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.test.utils import setup_test_environment  # noqa: E402
from labelling_page import PASSWORD, connection, percentiles, setup_data, to_utf16  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")

# Installed in the page: times from each keydown to the paint of the new span (a mark with
# data-pending appears) and to the server's answer being in place (data-version changes).
PROBE = """() => {
  window.__paint = []; window.__work = []; window.__layout = []; window.__confirmed = [];
  let t0 = 0, painted = false, confirmed = false;
  window.addEventListener("keydown", (e) => {
    t0 = e.timeStamp; painted = false; confirmed = false;
  }, true);
  const afterFrame = (fn) => requestAnimationFrame(() => setTimeout(fn, 0));
  new MutationObserver(() => {
    if (!t0 || painted || !document.querySelector("#article-text mark[data-pending]")) return;
    painted = true;
    const start = t0;
    const worked = performance.now();
    window.__work.push(worked - start);
    document.body.offsetHeight; // style and layout now, to time them apart
    window.__layout.push(performance.now() - worked);
    afterFrame(() => window.__paint.push(performance.now() - start));
  }).observe(document.getElementById("article-text"), {childList: true, subtree: true});
  new MutationObserver(() => {
    if (!t0 || confirmed) return;
    confirmed = true;
    const start = t0;
    afterFrame(() => window.__confirmed.push(performance.now() - start));
  }).observe(document.getElementById("workspace"),
             {attributes: true, attributeFilter: ["data-version"]});
}"""

SELECT = """([s, e]) => {
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
}"""


def measure(article, editor, free_words, adds: int) -> None:
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
                executable_path=str(CHROMIUM),
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
            print(f"page load to 'load' event {(time.perf_counter() - started) * 1000:.0f} ms")
            page.evaluate(PROBE)
            words = free_words[::-2][:adds]  # from the end: bench_server adds from the start
            for n, (start, end) in enumerate(words):
                version = int(page.get_attribute("#workspace", "data-version"))
                page.evaluate(SELECT, [to_utf16(article.text, start), to_utf16(article.text, end)])
                page.keyboard.press("4")
                page.wait_for_selector(f'#workspace[data-version="{version + 1}"]')
                page.wait_for_function(f"window.__confirmed.length >= {n + 1}")
            print(f"hotkey to paint, script work   {percentiles(page.evaluate('window.__work'))}")
            print(f"  then style and layout        {percentiles(page.evaluate('window.__layout'))}")
            print(f"hotkey to painted frame        {percentiles(page.evaluate('window.__paint'))}")
            confirmed = percentiles(page.evaluate("window.__confirmed"))
            print(f"hotkey to server's answer shown {confirmed}")
            browser.close()
    finally:
        server.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adds", type=int, default=50)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} not found: nothing to measure")
        return
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        _, editor, article, free_words = setup_data()
        print(f"database: {connection.vendor}; article {len(article.text):,} characters, 500 spans")
        measure(article, editor, free_words, args.adds)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
