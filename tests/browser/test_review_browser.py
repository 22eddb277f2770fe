"""A reviewer adjudicates an article in a real browser: a span by click, the agreed set with
one button, a span by keyboard, a new span by selecting text, then final. The gold in the
database must be exactly what the page showed."""

from __future__ import annotations

import pytest

from annotate.models import Role
from annotate.services.annotations import gold_for

from ..factories import make_annotation, make_article, make_member, make_project, make_user

pytestmark = pytest.mark.browser

# The emoji is one code point but two UTF-16 units: offsets after it differ in the browser.
TEXT = "Rebels shelled Aleppo on Monday, the ministry said. 🙂 Three civilians died in Idlib."
REBELS, ALEPPO, MINISTRY, THREE = (0, 6), (15, 21), (33, 45), (54, 69)
IDLIB = (TEXT.index("Idlib"), TEXT.index("Idlib") + 5)


# Screen rectangle of the first occurrence of `needle` in the gold pane, for a real drag.
GOLD_BOX = """(needle) => {
  const pane = document.querySelector('[data-text-pane="gold"]');
  const walker = document.createTreeWalker(pane, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(needle);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + needle.length);
    const box = range.getBoundingClientRect();
    return {x1: box.left + 1, x2: box.right - 1, y: box.top + box.height / 2};
  }
  throw new Error("text not found: " + needle);
}"""


def select_in_gold_pane(page, start_text, length):
    """Select `length` characters of the gold pane from the first `start_text`, by DOM Range."""
    page.evaluate(
        """([needle, length]) => {
            const pane = document.querySelector('[data-text-pane="gold"]');
            const walker = document.createTreeWalker(pane, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.data.indexOf(needle);
                if (at < 0) continue;
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + length);
                const selection = window.getSelection();
                selection.removeAllRanges();
                selection.addRange(range);
                return;
            }
            throw new Error("text not found: " + needle);
        }""",
        [start_text, length],
    )


def test_reviewer_builds_and_finalises_the_gold(new_page, log_in):
    from playwright.sync_api import expect

    project = make_project("demo-news")
    edith = make_member(project, make_user("edith"), Role.EDITOR)
    otto = make_member(project, make_user("otto"), Role.EDITOR)
    rita = make_member(project, make_user("rita"), Role.REVIEWER)
    article = make_article(project, TEXT, title="Shelling", editors=[edith, otto])
    make_annotation(
        article,
        edith,
        [(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION"), (*MINISTRY, "SOURCE")],
        submit=True,
    )
    make_annotation(
        article,
        otto,
        [(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION"), (*THREE, "CASUALTY")],
        submit=True,
    )
    page = new_page()
    log_in(page, rita)

    page.goto("/projects/demo-news/review/")
    page.get_by_role("link", name="Shelling").click()
    base = page.locator('input[name="base_version"]')
    expect(base).to_have_value("0")
    page.wait_for_load_state("load")
    loads = []  # every change below is an htmx swap, not a page load
    page.on("load", lambda _: loads.append(page.url))

    # One click accepts edith's SOURCE, recorded as coming from her span.
    page.get_by_role("button", name="Accept SOURCE the ministry").click()
    expect(base).to_have_value("1")
    expect(page.locator("#c33-45-SOURCE")).to_contain_text("in gold")

    # One button accepts everything both editors marked.
    page.get_by_role("button", name="Accept agreed").click()
    expect(base).to_have_value("2")
    expect(page.get_by_role("status")).to_contain_text("Accepted 2 spans")

    # Keyboard: j focuses the first candidate, arrows move, `a` accepts the focused row.
    page.locator("body").press("j")
    row = page.locator("#c54-69-CASUALTY")
    for _ in range(5):
        if row.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("ArrowDown")
    expect(row).to_be_focused()
    page.keyboard.press("a")
    expect(base).to_have_value("3")
    expect(page.locator("#c54-69-CASUALTY")).to_contain_text("in gold")
    expect(page.locator("#c54-69-CASUALTY")).to_be_focused()  # focus stays in the table

    # A new span: drag over part of a word in the gold pane, then click LOCATION; the
    # selection snaps to the whole word. (After the emoji, UTF-16 offsets are one ahead.)
    box = page.evaluate(GOLD_BOX, "dlib")
    page.mouse.move(box["x1"], box["y"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y"], steps=5)
    page.mouse.up()
    page.locator("[data-add-bar]").get_by_role("button", name="LOCATION").click()
    expect(base).to_have_value("4")
    expect(page.locator(".gold-table")).to_contain_text("Idlib")

    # Another by selection and hotkey: SOURCE for "Monday" (a made-up decision).
    select_in_gold_pane(page, "Monday", 6)
    page.keyboard.press("4")
    expect(base).to_have_value("5")
    expect(page.locator(".gold-table")).to_contain_text("Monday")

    page.get_by_role("button", name="Mark final").click()
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    assert loads == []

    gold = gold_for(article)
    assert gold.final and gold.version == 6
    spans = {(s.start, s.end, s.label.key): s for s in gold.current_spans()}
    assert set(spans) == {
        (*REBELS, "ACTOR"),
        (*ALEPPO, "LOCATION"),
        (*MINISTRY, "SOURCE"),
        (*THREE, "CASUALTY"),
        (*IDLIB, "LOCATION"),
        (25, 31, "SOURCE"),
    }
    assert spans[(*MINISTRY, "SOURCE")].source.annotation.annotator == edith
    assert spans[(*THREE, "CASUALTY")].source.annotation.annotator == otto
    assert spans[(*IDLIB, "LOCATION")].source is None
    assert spans[(*IDLIB, "LOCATION")].text == "Idlib"
