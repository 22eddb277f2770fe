"""The labelling page keeps up with the editor, in a real Chromium: a new span is painted
before the server answers and taken back when the server refuses it; slips (Ctrl+A, a drag
across paragraphs, a drag from the title) are caught; hyphenated names are labelled whole;
the text is one key away; Undo and Submit stay in view; a phone shows the text first."""

from __future__ import annotations

import random

import pytest

from annotate.models import Annotation, Role
from annotate.offsets import from_utf16, snap_to_words
from annotate.services.annotations import SpanInput, annotation_for, gold_for, save_annotation

from ..factories import make_annotation, make_article
from .test_labelling_browser import (
    double_click,
    drag_over,
    spans_in_db,
    utf16,
    wait_for_version,
)

pytestmark = pytest.mark.browser

TITLE = "Pro-Iran militias launch rockets at US base in eastern Syria"
TEXT = (
    "Pro-Iranian militias exchanged fire with a US-led coalition in eastern Syria Monday, "
    "a war monitor said.\n\n"
    "The coalition fired heavy artillery at the town of Al-Mayadeen in response, said "
    "Iraq's Prime Minister Mustafa al-Kadhemi.\n\n"
    + "\n\n".join(
        f"Paragraph {n} of the report: the observatory counted the rockets and the "
        "artillery shells that fell on the town during the night."
        for n in range(1, 30)
    )
)

# Mouse positions (page coordinates in the viewport) of characters of the article text.
CHAR_BOX = """(offset) => {
  const text = document.getElementById("article-text");
  const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
  let seen = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (offset < seen + node.data.length) {
      const range = document.createRange();
      range.setStart(node, offset - seen);
      range.setEnd(node, offset - seen + 1);
      const r = range.getClientRects()[0];
      return {x: r.left + r.width / 2, y: r.top + r.height / 2, right: r.right};
    }
    seen += node.data.length;
  }
}"""


@pytest.fixture
def article(project, editor):
    return make_article(project, TEXT, editors=[editor], title=TITLE)


@pytest.fixture
def page(new_page, log_in, editor, article):
    page = new_page()
    log_in(page, editor)
    page.goto(f"/articles/{article.pk}/")
    return page


def version_of(article, user) -> int:
    annotation = Annotation.objects.filter(article=article, annotator=user).first()
    return annotation.version if annotation else 0


def test_ctrl_a_then_a_label_key_asks_first_and_cancel_saves_nothing(page, article, editor):
    page.locator("#article-text").focus()
    page.keyboard.press("Control+a")
    page.keyboard.press("3")
    dialog = page.locator("#confirm-span")
    dialog.wait_for()
    assert "paragraphs" in dialog.text_content()
    assert f"is {len(TEXT) - 1:,} characters long" in dialog.text_content()  # no full stop
    assert "started before the article text" in dialog.text_content()
    page.keyboard.press("Enter")  # Cancel has the focus: Enter does not save
    assert not dialog.is_visible()
    assert page.locator("#article-text mark").count() == 0
    assert "cancelled" in page.locator("#save-state").text_content()
    page.wait_for_timeout(200)
    assert version_of(article, editor) == 0

    page.keyboard.press("Control+a")
    page.keyboard.press("3")
    page.click("#confirm-span-save")
    wait_for_version(page, 1)
    assert spans_in_db(article, editor) == [("CASUALTY", TEXT.rstrip("."))]


def test_a_drag_across_a_paragraph_break_asks_and_is_saved_when_confirmed(page, article, editor):
    phrase = "a war monitor said.\n\nThe coalition"
    drag_over(page, article, phrase)
    page.keyboard.press("4")
    page.locator("#confirm-span").wait_for()
    assert "spans 2 paragraphs" in page.locator("#confirm-span-text").text_content()
    page.click("#confirm-span-save")
    wait_for_version(page, 1)
    assert spans_in_db(article, editor) == [("SOURCE", phrase)]
    # Drawn in each paragraph it touches (the blank line between them too), the parts after
    # the first marked as continuations.
    parts = page.eval_on_selector_all(
        "#article-text mark[data-label=SOURCE]",
        "ms => ms.map(m => [m.classList.contains('cont'), m.textContent])",
    )
    assert parts == [[False, "a war monitor said.\n"], [True, "\n"], [True, "The coalition"]]


def test_double_click_on_a_hyphenated_name_labels_all_of_it(page, article, editor):
    double_click(page, article, "Mayadeen")
    page.keyboard.press("2")
    wait_for_version(page, 1)
    assert spans_in_db(article, editor) == [("LOCATION", "Al-Mayadeen")]
    assert page.locator("#article-text mark.pending").count() == 0
    assert page.locator("#article-text mark.span").text_content() == "Al-Mayadeen"
    double_click(page, article, "Kadhemi")
    page.keyboard.press("1")
    wait_for_version(page, 2)
    double_click(page, article, "Iraq's")  # a possessive is left out, as the guidelines say
    page.keyboard.press("2")
    wait_for_version(page, 3)
    assert sorted(spans_in_db(article, editor)) == [
        ("ACTOR", "al-Kadhemi"),
        ("LOCATION", "Al-Mayadeen"),
        ("LOCATION", "Iraq"),
    ]


def test_a_drag_that_starts_in_the_title_is_reported(page, article, editor):
    title = page.locator(".article-head h1").bounding_box()
    end = page.evaluate(CHAR_BOX, utf16(TEXT, len("Pro-Iranian militias") - 1))
    page.mouse.move(title["x"] + 20, title["y"] + title["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["right"] - 1, end["y"], steps=8)
    page.mouse.up()
    page.keyboard.press("1")
    wait_for_version(page, 1)
    note = page.locator("#labelling-notes .note")
    assert "started in the title" in note.text_content()
    assert "only “Pro-Iranian militias” was labelled" in note.text_content()
    assert spans_in_db(article, editor) == [("ACTOR", "Pro-Iranian militias")]


def test_a_span_is_painted_at_once_and_taken_back_when_the_server_refuses_it(page, article, editor):
    # Meanwhile, in another tab, the same words got another label: the page's change conflicts.
    coalition = TEXT.index("coalition")
    save_annotation(
        annotation=annotation_for(article, editor),
        author=editor,
        role=Role.EDITOR,
        base_version=0,
        spans=[SpanInput(coalition, coalition + len("coalition"), "SOURCE")],
    )
    held = []
    page.route("**/spans/", lambda route: held.append(route))
    double_click(page, article, "coalition")
    page.keyboard.press("1")
    painted = page.locator("#article-text mark.pending")
    assert painted.text_content() == "coalition"  # before any answer
    assert painted.get_attribute("data-label") == "ACTOR"
    while not held:
        page.wait_for_timeout(20)
    held[0].continue_()
    alert = page.locator("#labelling-alerts [role=alert]")
    alert.wait_for()
    assert page.locator("#article-text mark").count() == 0  # taken back
    assert "Not saved" in alert.text_content()
    assert "taken back" in page.locator("#save-state").text_content()
    assert alert.locator("a", has_text="Reload").count() == 1
    assert spans_in_db(article, editor) == [("SOURCE", "coalition")]


def test_the_answer_puts_the_new_span_in_the_list_in_text_order(page, article, editor):
    first, last = TEXT.index("Pro-Iranian"), TEXT.index("Mustafa")
    make_annotation(article, editor, [(first, first + 11, "ACTOR"), (last, last + 7, "ACTOR")])
    page.reload()
    double_click(page, article, "Mayadeen")
    page.keyboard.press("1")
    wait_for_version(page, 2)
    quotes = page.eval_on_selector_all(
        "#group-ACTOR ~ .span-list .quote", "qs => qs.map(q => q.textContent)"
    )
    assert quotes == ["Pro-Iranian", "Al-Mayadeen", "Mustafa"]
    assert page.locator("#group-ACTOR .count").text_content() == "3"
    assert page.locator("#span-panel-title .count").text_content() == "3"
    assert page.locator(".span-item.selected .quote").text_content() == "Al-Mayadeen"
    assert "(+1 ACTOR)" in page.locator("#undo-button").text_content()
    page.keyboard.press("Control+z")  # the new status bar's Undo works
    wait_for_version(page, 3)
    assert len(spans_in_db(article, editor)) == 2


def test_skip_link_and_slash_key_reach_the_text(page):
    page.keyboard.press("Tab")  # "Skip to content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip-to-text"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "article-text"
    page.locator("#snap-words").focus()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "article-text"
    assert "Go to the text" in page.locator(".keys-help").text_content()


def test_undo_and_submit_stay_in_view_while_scrolling(page):
    page.mouse.wheel(0, 3000)
    page.wait_for_timeout(200)
    assert page.evaluate("window.scrollY") > 1000
    for selector in ("#undo-button", "#submit-button"):
        box = page.locator(selector).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 900, selector


def test_on_a_phone_the_text_comes_first_and_the_span_list_is_one_tap_away(
    browser, live_server, log_in, article, editor
):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        log_in(page, editor)
        page.goto(f"/articles/{article.pk}/")
        text = page.locator("#article-text").bounding_box()
        bar = page.locator("#statusbar").bounding_box()
        # The first lines are in the first screen, above the status bar.
        assert text["y"] + 100 < bar["y"]
        assert bar["y"] + bar["height"] <= 844 and page.locator("#submit-button").is_visible()
        page.click(".statusbar .jump-link")
        page.wait_for_timeout(300)
        title = page.locator("#span-panel-title").bounding_box()
        legend = page.locator("#legend").bounding_box()
        assert legend["y"] + legend["height"] <= title["y"] < 844  # not under the label bar
        page.click(".span-panel .jump-link")
        page.wait_for_timeout(300)
        assert 0 <= page.locator("#article-text").bounding_box()["y"] < 844
    finally:
        context.close()


def test_the_page_snaps_selections_exactly_as_the_server_does(page):
    """The instant paint uses static/js/offsets.js; the server, annotate.offsets: they agree."""
    samples = [
        "Iraq's Prime Minister Mustafa al-Kadhemi said  <b>four</b> &amp; more.",
        "the town of Al-Mayadeen, N\u2019Djamena and Iraq\u2019s — BAGHDAD\u2014The end",
        "Dr 👩🏽‍⚕️ Layla and 🚀 crews reached البصرة on Monday; flag 🇮🇶 here.",
        "قال الطبيب مُحَمَّد إن الوضع صعب، said Iq\u0307bal and Rene\u0301e. 我在北京工作",
        "killed $5 million at 40°C -- a --b c- 'quoted' U.S.'s it's o'clock\n\nNext",
    ]
    rng = random.Random(7)
    cases = []
    for text in samples:
        for _ in range(60):
            start = rng.randrange(len(text) - 1)
            end = rng.randrange(start + 1, len(text) + 1)
            cases.append((text, utf16(text, start), utf16(text, end)))
    snapped = page.evaluate(
        """async (cases) => {
          const { snapToWords } = await import("/static/js/offsets.js");
          return cases.map(([text, s, e]) => snapToWords(text, s, e));
        }""",
        cases,
    )
    for (text, s16, e16), (js_start, js_end) in zip(cases, snapped, strict=True):
        start, end = from_utf16(text, s16), from_utf16(text, e16)
        expected = snap_to_words(text, start, end)
        got = (from_utf16(text, js_start), from_utf16(text, js_end))
        assert got == expected, (text, text[start:end], text[slice(*got)], text[slice(*expected)])


def test_the_page_redraws_a_paragraph_exactly_as_the_server_draws_it(page, article, editor):
    """Painting redraws paragraphs with static/js/paragraphs.js from the marks they hold:
    nested, crossing and cross-paragraph spans come out as annotate/highlight.py drew them."""
    iraq = TEXT.index("Iraq's")
    town = TEXT.index("the town")
    make_annotation(
        article,
        editor,
        [
            (iraq, iraq + len("Iraq's Prime Minister Mustafa al-Kadhemi"), "ACTOR"),
            (iraq, iraq + 4, "LOCATION"),
            (town, iraq + 4, "SOURCE"),  # crosses the ACTOR
            (TEXT.index("a war monitor"), TEXT.index("The coalition") + 3, "CASUALTY"),
            (TEXT.index("Al-Mayadeen"), TEXT.index("Al-Mayadeen") + 11, "LOCATION"),
            (TEXT.index("Al-Mayadeen"), TEXT.index("Al-Mayadeen") + 11, "ACTOR"),  # twins
        ],
    )
    page.reload()
    same = page.evaluate(
        """async () => {
          const { marksIn, renderParagraph } = await import("/static/js/paragraphs.js");
          const template = document.createElement("template");
          return [...document.querySelectorAll("#article-text .para")].map((para) => {
            template.innerHTML = renderParagraph(para.textContent, marksIn(para));
            return template.innerHTML === para.innerHTML;
          });
        }"""
    )
    assert same and all(same)
    assert page.locator("#article-text mark").count() >= 8  # split fragments included
    assert page.locator("#article-text mark.twin").count() == 1


def test_mark_final_lists_suspect_gold_spans_and_asks_first(
    new_page, log_in, project, article, editor, reviewer
):
    make_annotation(article, editor, [(0, 20, "ACTOR")], submit=True)
    gold = gold_for(article)
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(0, len(TEXT) - 1, "CASUALTY")],  # a stray drag over the article
    )
    page = new_page()
    log_in(page, reviewer)
    page.goto(f"/articles/{article.pk}/review/")
    warning = page.locator("#suspect-spans")
    assert "1 gold span looks like a slip" in warning.text_content()
    assert f"characters 0–{len(TEXT) - 1}" in warning.text_content()
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.click("button:has-text('Mark final anyway')")
    page.wait_for_timeout(300)
    assert asked and "Mark the gold final anyway?" in asked[0]
    gold.refresh_from_db()
    assert not gold.final
