"""An editor labels an article in a real Chromium: mouse drags, double-clicks and hotkeys;
nested spans; relabel, delete and undo from the keyboard; submit; two tabs; blindness.

Every span the page creates is checked against the database, and the database against
Python slicing of the stored text, on a text with emoji, Arabic with vowel marks, combining
marks, CRLF line ends (canonicalised on import), repeated spaces and HTML-looking text.
"""

from __future__ import annotations

import pytest

from annotate.models import Annotation

from ..factories import make_annotation, make_article

pytestmark = pytest.mark.browser

TEXT = (
    "Dr 👩🏽‍⚕️ Layla and 🚀 crews reached البصرة on Monday.\r\n"
    "Iraq's Prime Minister Mustafa al-Kadhemi said  <b>four</b> &amp; more died.\r\n"
    "قال الطبيب مُحَمَّد إن الوضع صعب، said Iq\u0307bal and Rene\u0301e.\r\n"
    "The   end."
)

# Character rectangles of UTF-16 offsets in the article text, for real mouse drags.
CHAR_BOXES = """([start, end]) => {
  const text = document.getElementById("article-text");
  const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
  const point = (offset) => {
    let seen = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (offset < seen + node.data.length) return [node, offset - seen];
      seen += node.data.length;
    }
  };
  const box = (offset) => {
    walker.currentNode = text;
    const [node, at] = point(offset);
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + 1);
    return range.getClientRects()[0];
  };
  const first = box(start), last = box(end - 1);
  return {x1: first.left + 1, y1: first.top + first.height / 2,
          x2: last.right - 1, y2: last.top + last.height / 2};
}"""

# Select UTF-16 offsets [start, end) of the article text with a DOM Range (for right-to-left
# text, where a drag's direction on screen is not the text's).
SELECT_RANGE = """([start, end]) => {
  const text = document.getElementById("article-text");
  const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let seen = 0, started = false;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const n = node.data.length;
    if (!started && start < seen + n) { range.setStart(node, start - seen); started = true; }
    if (started && end <= seen + n) { range.setEnd(node, end - seen); break; }
    seen += n;
  }
  getSelection().removeAllRanges();
  getSelection().addRange(range);
  return getSelection().toString();
}"""


def utf16(text: str, offset: int) -> int:
    return len(text[:offset].encode("utf-16-le")) // 2


@pytest.fixture
def article(project, editor, other_editor):
    return make_article(project, TEXT, editors=[editor, other_editor], title="Deir ez-Zor")


@pytest.fixture
def page(new_page, log_in, editor, article):
    page = new_page()
    log_in(page, editor)
    page.goto(f"/articles/{article.pk}/")
    page.locator("details.guidelines").evaluate("d => d.open = false")
    return page


def spans_in_db(article, user) -> list[tuple[str, str]]:
    annotation = Annotation.objects.filter(article=article, annotator=user).first()
    if annotation is None:
        return []
    result = []
    for s in annotation.current_spans():
        assert article.text[s.start : s.end] == s.text  # the stored span is a Python slice
        result.append((s.label.key, s.text))
    return result


def wait_for_version(page, number: int) -> None:
    page.wait_for_selector(f'#workspace[data-version="{number}"]')


def drag_over(page, article, phrase: str, occurrence: int = 0) -> None:
    """Drag the mouse from the first to the last character of `phrase`."""
    start = article.text.index(phrase)
    for _ in range(occurrence):
        start = article.text.index(phrase, start + 1)
    end = start + len(phrase)
    box = page.evaluate(CHAR_BOXES, [utf16(article.text, start), utf16(article.text, end)])
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move((box["x1"] + box["x2"]) / 2, (box["y1"] + box["y2"]) / 2, steps=4)
    page.mouse.move(box["x2"], box["y2"], steps=4)
    page.mouse.up()


def double_click(page, article, word: str) -> None:
    start = article.text.index(word)
    box = page.evaluate(
        CHAR_BOXES, [utf16(article.text, start), utf16(article.text, start + len(word))]
    )
    page.mouse.dblclick((box["x1"] + box["x2"]) / 2, box["y1"])


def select_range(page, article, phrase: str) -> str:
    start = article.text.index(phrase)
    return page.evaluate(
        SELECT_RANGE, [utf16(article.text, start), utf16(article.text, start + len(phrase))]
    )


def mark_text(page, label: str) -> list[str]:
    return page.eval_on_selector_all(
        f"#article-text mark[data-label={label}]:not(.cont)",
        "marks => marks.map(m => m.textContent)",
    )


def test_editor_logs_in_and_labels_a_mouse_selection_after_emoji(page, article, editor):
    drag_over(page, article, "Prime Minister Mustafa al-Kadhemi")
    assert page.evaluate("getSelection().toString()") == "Prime Minister Mustafa al-Kadhemi"
    page.keyboard.press("1")
    wait_for_version(page, 1)
    assert spans_in_db(article, editor) == [("ACTOR", "Prime Minister Mustafa al-Kadhemi")]
    assert mark_text(page, "ACTOR") == ["Prime Minister Mustafa al-Kadhemi"]
    assert page.locator("#group-ACTOR .count").text_content() == "1"


def test_a_sloppy_drag_is_snapped_to_whole_words(page, article, editor):
    drag_over(page, article, "rime Minister Mus")  # starts and ends inside words
    page.keyboard.press("1")
    wait_for_version(page, 1)
    assert spans_in_db(article, editor) == [("ACTOR", "Prime Minister Mustafa")]


def test_double_click_a_word_then_its_label_button(page, article, editor):
    double_click(page, article, "crews")
    page.click(".legend .label-button[data-label=SOURCE]")
    wait_for_version(page, 1)
    assert spans_in_db(article, editor) == [("SOURCE", "crews")]


def highlighted(page, span_id: int) -> str:
    """The text the page highlights for a span (all its fragments)."""
    return page.eval_on_selector_all(
        f'#article-text mark[data-span="{span_id}"]', "ms => ms.map(m => m.textContent).join('')"
    )


@pytest.mark.parametrize(
    "phrase, stored",
    [
        ("👩🏽‍⚕️ Layla", "👩🏽‍⚕️ Layla"),
        ("الطبيب مُحَمَّد", "الطبيب مُحَمَّد"),
        ("Iq\u0307bal and Ren\u00e9e", "Iq\u0307bal and Ren\u00e9e"),
        ("<b>four</b> &amp;", "<b>four</b> &amp"),
        ("said  <b>", "said  <b>"),  # < and > are symbols: kept
        ("Monday.\nIraq", "Monday.\nIraq"),
        ("The   end", "The   end"),
    ],
)
def test_selection_in_hard_text_is_stored_as_python_slicing(page, article, editor, phrase, stored):
    assert select_range(page, article, phrase) == phrase
    page.keyboard.press("2")
    if "\n" in phrase:  # across a paragraph break: saved once confirmed
        page.click("#confirm-span-save")
    wait_for_version(page, 1)
    assert spans_in_db(article, editor) == [("LOCATION", stored)]
    span = Annotation.objects.get(annotator=editor).current_spans().get()
    assert highlighted(page, span.pk) == stored == article.text[span.start : span.end]


def test_nested_spans_are_both_visible(page, article, editor):
    drag_over(page, article, "Iraq's Prime Minister Mustafa al-Kadhemi")
    page.keyboard.press("1")
    wait_for_version(page, 1)
    double_click(page, article, "Iraq")  # "Iraq's" to Chromium; snapped to "Iraq"
    page.keyboard.press("2")
    wait_for_version(page, 2)
    assert sorted(spans_in_db(article, editor)) == [
        ("ACTOR", "Iraq's Prime Minister Mustafa al-Kadhemi"),
        ("LOCATION", "Iraq"),
    ]
    inner = page.locator("#article-text mark[data-label=ACTOR] > mark[data-label=LOCATION]")
    assert inner.text_content() == "Iraq"
    # The new span is selected. Esc clears that; clicking the inner span selects it, and
    # clicking again selects the span around it.
    assert page.locator(".span-item.selected .quote").text_content() == "Iraq"
    page.keyboard.press("Escape")
    assert page.locator(".span-item.selected").count() == 0
    inner.click()
    assert page.locator(".span-item.selected .quote").text_content() == "Iraq"
    inner.click()
    assert page.locator(".span-item.selected .quote").text_content().startswith("Iraq's Prime")


def test_relabel_delete_and_undo_from_the_keyboard(page, article, editor):
    double_click(page, article, "Layla")
    page.keyboard.press("1")
    wait_for_version(page, 1)
    assert page.locator("mark.span.selected").text_content() == "Layla"  # the new span
    page.keyboard.press("4")  # relabel the selected span
    wait_for_version(page, 2)
    assert spans_in_db(article, editor) == [("SOURCE", "Layla")]
    page.keyboard.press("Delete")
    wait_for_version(page, 3)
    assert spans_in_db(article, editor) == []
    page.keyboard.press("Control+z")
    wait_for_version(page, 4)
    assert spans_in_db(article, editor) == [("SOURCE", "Layla")]
    page.keyboard.press("Control+z")
    wait_for_version(page, 5)
    assert spans_in_db(article, editor) == [("ACTOR", "Layla")]
    versions = Annotation.objects.get(annotator=editor).versions.count()
    assert versions == 5  # every change, undo included, is a new version


def test_click_a_span_then_delete_it_with_the_button(page, article, editor):
    rocket = article.text.index("🚀")
    make_annotation(article, editor, [(rocket, rocket + 7, "ACTOR")])
    page.reload()
    assert page.locator("#delete-selected").is_disabled()
    page.locator("#article-text mark[data-label=ACTOR]").click()
    assert page.locator(".span-item.selected .quote").text_content() == "🚀 crews"
    page.locator("#delete-selected").click()
    wait_for_version(page, 2)
    assert spans_in_db(article, editor) == []
    page.locator("#undo-button").click()
    wait_for_version(page, 3)
    assert spans_in_db(article, editor) == [("ACTOR", "🚀 crews")]


def test_span_list_selects_spans_and_its_label_buttons_relabel(page, article, editor):
    make_annotation(
        article,
        editor,
        [(TEXT.index("Layla"), TEXT.index("Layla") + 5, "ACTOR"), (0, 2, "SOURCE")],
    )
    page.reload()
    page.locator(".span-item", has_text="Layla").click()
    assert page.locator("#article-text mark.selected").text_content() == "Layla"
    assert page.url.endswith(f"/articles/{article.pk}/")  # selected, not followed
    page.click(".legend .label-button[data-label=CASUALTY]")
    wait_for_version(page, 2)
    assert sorted(spans_in_db(article, editor)) == [("CASUALTY", "Layla"), ("SOURCE", "Dr")]


def test_keyboard_only_labelling(page, article, editor):
    page.locator("#article-text").focus()
    page.keyboard.press("ArrowRight")  # the first word
    page.keyboard.press("ArrowRight")  # the next word (an emoji is not a word)
    assert page.evaluate("getSelection().toString()") == "Layla"
    page.keyboard.press("Shift+ArrowRight")  # extend by a word
    assert page.evaluate("getSelection().toString()") == "Layla and"
    page.keyboard.press("1")
    wait_for_version(page, 1)
    assert spans_in_db(article, editor) == [("ACTOR", "Layla and")]
    # Keyboard focus goes back to the text, which goes on from the labelled words.
    assert page.evaluate("document.activeElement.id") == "article-text"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("getSelection().toString()") == "crews"
    page.keyboard.press("3")
    wait_for_version(page, 2)
    # In the span list, the arrows move from span to span; Delete deletes the focused one.
    page.locator(".span-item").first.focus()
    assert page.locator(".span-item.selected .quote").text_content() == "Layla and"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent").startswith("crews")
    page.keyboard.press("Delete")
    wait_for_version(page, 3)
    assert spans_in_db(article, editor) == [("ACTOR", "Layla and")]
    assert page.evaluate("document.activeElement.classList.contains('span-item')")


def test_submit_moves_to_the_next_article(page, project, article, editor):
    following = make_article(project, "The next story.", editors=[editor], title="Next story")
    double_click(page, article, "crews")
    page.keyboard.press("1")
    wait_for_version(page, 1)
    page.click("#submit-button")
    page.wait_for_url(f"**/articles/{following.pk}/")
    assert "Here is the next article" in page.locator("#messages").text_content()
    annotation = Annotation.objects.get(article=article, annotator=editor)
    assert annotation.status == "submitted" and annotation.version == 2


def test_second_editor_does_not_see_the_first_editors_spans(
    page, new_page, log_in, article, editor, other_editor
):
    drag_over(page, article, "Prime Minister")
    page.keyboard.press("1")
    wait_for_version(page, 1)
    theirs = new_page()
    log_in(theirs, other_editor)
    theirs.goto(f"/articles/{article.pk}/")
    assert theirs.locator("#article-text mark").count() == 0
    assert theirs.locator("#span-panel-title .count").text_content() == "0"
    assert "Prime Minister" not in theirs.locator(".span-panel").text_content()


def test_two_tabs_never_drop_a_change(page, new_page, log_in, article, editor):
    other_tab = page.context.new_page()
    other_tab.goto(f"/articles/{article.pk}/")
    other_tab.locator("details.guidelines").evaluate("d => d.open = false")
    double_click(page, article, "crews")
    page.keyboard.press("1")
    wait_for_version(page, 1)
    # The other tab still shows version 0: a change elsewhere in the text is merged...
    double_click(other_tab, article, "Monday")
    other_tab.keyboard.press("2")
    wait_for_version(other_tab, 2)
    assert sorted(spans_in_db(article, editor)) == [("ACTOR", "crews"), ("LOCATION", "Monday")]
    assert "Merged" in other_tab.locator(".statusbar").text_content()
    # ...and a change to the same words is refused, with a way to reload or re-apply it.
    select_range(page, article, "reached")
    page.keyboard.press("1")  # this tab shows version 1, the annotation is at 2: merged
    wait_for_version(page, 3)
    double_click(other_tab, article, "reached")  # the other tab still shows version 2
    other_tab.keyboard.press("4")
    alert = other_tab.locator("#labelling-alerts [role=alert]")
    alert.wait_for()
    assert "Not saved" in alert.text_content()
    assert alert.locator("a", has_text="Reload").count() == 1
    assert ("SOURCE", "reached") not in spans_in_db(article, editor)
    alert.locator("button", has_text="Re-apply my change").click()
    wait_for_version(other_tab, 4)
    assert sorted(spans_in_db(article, editor)) == [
        ("ACTOR", "crews"),
        ("ACTOR", "reached"),
        ("LOCATION", "Monday"),
        ("SOURCE", "reached"),
    ]
    assert other_tab.locator("#labelling-alerts [role=alert]").count() == 0


def test_everything_but_creating_spans_works_without_javascript(
    browser, live_server, log_in, project, article, editor
):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, editor)
        make_annotation(article, editor, [(TEXT.index("Layla"), TEXT.index("Layla") + 5, "ACTOR")])
        page.goto(f"/articles/{article.pk}/")
        assert "Creating spans needs JavaScript" in page.content()
        page.locator(".span-item", has_text="Layla").click()  # a real link to the span's page
        page.check("input[name=label][value=SOURCE]")
        page.click("text=Change label")
        page.wait_for_url(f"**/articles/{article.pk}/")
        assert spans_in_db(article, editor) == [("SOURCE", "Layla")]
        page.locator(".span-item", has_text="Layla").click()
        page.click("button:has-text('Delete span')")
        page.wait_for_url(f"**/articles/{article.pk}/")
        assert spans_in_db(article, editor) == []
        page.click("#undo-button")
        page.wait_for_url(f"**/articles/{article.pk}/")
        assert spans_in_db(article, editor) == [("SOURCE", "Layla")]
        page.click("#submit-button")
        page.wait_for_url(f"**/projects/{project.slug}/")
        assert Annotation.objects.get(annotator=editor).status == "submitted"
    finally:
        context.close()
