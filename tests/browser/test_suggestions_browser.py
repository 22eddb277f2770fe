"""Suggestions in a real Chromium: final gold elsewhere in the project is offered dashed in an
article; the editor goes through them by keyboard, accepts one, rejects one, accepts all of a
label, and each acceptance is one version whose spans say where they started."""

from __future__ import annotations

import pytest

from annotate.models import Annotation, Role
from annotate.models.assistance import SuggestionRejection
from annotate.services.annotations import SpanInput, gold_for, save_annotation

from ..factories import make_article, make_member, make_user

pytestmark = pytest.mark.browser

DONE = "Kataeb Hezbollah fighters shelled Aleppo and Mosul."
TEXT = "🚀 In Aleppo, Kataeb Hezbollah said Hezbollah would stay; Mosul too, and Aleppo."


@pytest.fixture
def article(project, editor):
    reviewer = make_member(project, make_user("rita"), Role.REVIEWER)
    done = make_article(project, DONE, editors=[editor])
    gold = gold_for(done)
    spans = [(0, 16, "ACTOR"), (7, 16, "ACTOR"), (34, 40, "LOCATION"), (45, 50, "LOCATION")]
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(*s) for s in spans],
        final=True,
    )
    return make_article(project, TEXT, editors=[editor])


@pytest.fixture
def page(new_page, log_in, live_server, article, editor):
    page = new_page()
    log_in(page, editor)
    page.goto(f"/articles/{article.pk}/")
    page.locator("details.guidelines").evaluate("d => d.open = false")
    page.wait_for_selector("#suggestions:not([hidden]) .suggestion-count:text('6')")
    return page


def own_spans(article, editor) -> list[tuple[str, str, str]]:
    annotation = Annotation.objects.filter(article=article, annotator=editor).first()
    if annotation is None:
        return []
    return [(s.label.key, s.text, s.origin) for s in annotation.current_spans()]


def dashed(page) -> list[str]:
    return page.eval_on_selector_all(
        "#article-text span.sugg",
        "els => [...new Set(els.map(e => e.dataset.sugg))].map(i => "
        "els.filter(e => e.dataset.sugg === i).map(e => e.textContent).join(''))",
    )


def test_suggestions_are_drawn_dashed_and_are_not_saved(page, article, editor):
    assert dashed(page) == [
        "Aleppo",
        "Kataeb Hezbollah",
        "Hezbollah",
        "Hezbollah",
        "Mosul",
        "Aleppo",
    ]
    # The text is still the article, character for character.
    assert page.locator("#article-text").text_content() == article.text
    assert own_spans(article, editor) == []
    title = page.locator('#article-text span.sugg[data-sugg="1"]').first.get_attribute("title")
    assert "from final gold" in title and "Kataeb Hezbollah" in title


def test_accepting_and_rejecting_by_keyboard(page, article, editor):
    page.locator("#article-text").focus()
    page.keyboard.press("]")
    assert "Suggestion 1 of 6" in page.locator("#suggestion-current").text_content()
    page.keyboard.press("Enter")
    page.wait_for_selector('#workspace[data-version="1"]')
    assert own_spans(article, editor) == [("LOCATION", "Aleppo", "gold")]
    page.wait_for_selector("#suggestions .suggestion-count:text('5')")

    page.keyboard.press("]")  # Kataeb Hezbollah
    page.keyboard.press("]")  # Hezbollah inside it
    assert "“Hezbollah”" in page.locator("#suggestion-current").text_content()
    page.keyboard.press("-")
    page.wait_for_selector("#suggestions .suggestion-count:text('4')")
    assert (
        SuggestionRejection.objects.filter(editor=editor, start=TEXT.index("Hezbollah")).count()
        == 1
    )
    assert own_spans(article, editor) == [("LOCATION", "Aleppo", "gold")]

    # The one after the rejected one is current now; then Mosul.
    assert "Suggestion 2 of 4" in page.locator("#suggestion-current").text_content()
    page.keyboard.press("]")
    assert "Location: “Mosul”" in page.locator("#suggestion-current").text_content()
    # Shift+Enter: every LOCATION suggestion left, in one version.
    page.keyboard.press("Shift+Enter")
    page.wait_for_selector('#workspace[data-version="2"]')
    assert own_spans(article, editor) == [
        ("LOCATION", "Aleppo", "gold"),
        ("LOCATION", "Mosul", "gold"),
        ("LOCATION", "Aleppo", "gold"),
    ]
    page.wait_for_selector("#suggestions .suggestion-count:text('2')")
    assert dashed(page) == ["Kataeb Hezbollah", "Hezbollah"]

    # A reload does not bring the rejected one back.
    page.reload()
    page.wait_for_selector("#suggestions:not([hidden]) .suggestion-count:text('2')")


def test_accept_all_of_a_label_with_its_button(page, article, editor):
    page.click("#suggestion-labels button[data-label=ACTOR]")
    page.wait_for_selector('#workspace[data-version="1"]')
    assert sorted(own_spans(article, editor)) == [
        ("ACTOR", "Hezbollah", "gold"),
        ("ACTOR", "Hezbollah", "gold"),
        ("ACTOR", "Kataeb Hezbollah", "gold"),
    ]
    page.wait_for_selector("#suggestions .suggestion-count:text('3')")
