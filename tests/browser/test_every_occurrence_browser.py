"""Label every occurrence in a real Chromium: select words, press * and a label's key; or
select a span and press *; the button; one undo takes them all back."""

from __future__ import annotations

import pytest

from annotate.models import Annotation

from ..factories import make_annotation, make_article
from .test_labelling_browser import double_click, select_range, spans_in_db, wait_for_version

pytestmark = pytest.mark.browser

TEXT = (
    "👩🏽‍⚕️ Iraq said Iraqi forces left. Iraq's army and al-Iraq\n"
    "<b>Iraq</b> & Kataeb Hezbollah; مُحَمَّد and Kataeb Hezbollah in Iraq."
)


@pytest.fixture
def article(project, editor):
    return make_article(project, TEXT, editors=[editor], title="Iraq")


@pytest.fixture
def page(new_page, log_in, editor, article):
    page = new_page()
    log_in(page, editor)
    page.goto(f"/articles/{article.pk}/")
    page.locator("details.guidelines").evaluate("d => d.open = false")
    return page


def test_select_words_press_star_then_the_label_key_and_undo(page, article, editor):
    double_click(page, article, "Iraq")
    page.keyboard.press("*")
    assert "Every occurrence of “Iraq”" in page.locator("#labelling-notes").text_content()
    page.keyboard.press("2")  # LOCATION
    wait_for_version(page, 1)
    assert spans_in_db(article, editor) == [("LOCATION", "Iraq")] * 4
    assert page.locator("#article-text mark[data-label=LOCATION]").count() == 4
    assert (
        "Labelled every occurrence of “Iraq” as Location: 4."
        in page.locator("#statusbar").text_content()
    )
    assert Annotation.objects.get(annotator=editor).versions.count() == 1
    page.keyboard.press("Control+z")
    wait_for_version(page, 2)
    assert spans_in_db(article, editor) == []
    assert page.locator("#article-text mark.span").count() == 0


def test_a_selected_span_gives_its_label_to_every_occurrence(page, article, editor):
    start = article.text.index("Kataeb Hezbollah")
    make_annotation(article, editor, [(start, start + 16, "ACTOR")])
    page.reload()
    page.locator("#article-text mark[data-label=ACTOR]").click()
    page.keyboard.press("*")
    wait_for_version(page, 2)
    assert spans_in_db(article, editor) == [("ACTOR", "Kataeb Hezbollah")] * 2
    assert "Labelled 1 more occurrence" in page.locator("#statusbar").text_content()


def test_the_button_and_a_label_button_with_arabic(page, article, editor):
    assert select_range(page, article, "مُحَمَّد") == "مُحَمَّد"
    page.locator("#label-every").click()
    page.locator(".label-button[data-label=SOURCE]").click()
    wait_for_version(page, 1)
    assert spans_in_db(article, editor) == [("SOURCE", "مُحَمَّد")]


def test_escape_cancels_and_the_label_key_then_labels_one(page, article, editor):
    double_click(page, article, "Iraq")
    page.keyboard.press("*")
    page.keyboard.press("Escape")
    assert "Cancelled" in page.locator("#labelling-notes").text_content()
    double_click(page, article, "Iraq")
    page.keyboard.press("2")
    wait_for_version(page, 1)
    assert spans_in_db(article, editor) == [("LOCATION", "Iraq")]
