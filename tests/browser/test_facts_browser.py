"""Facts on the labelling page in a real Chromium, on the text of a real news article: an
editor relates a casualty figure to its source (SAID_BY) and gives the figure its values,
by keyboard and by mouse; what they made is read back over the API."""

from __future__ import annotations

import pytest

from annotate.models import Role
from annotate.services.annotations import SpanInput, annotation_for, save_annotation

from ..api_support import api
from ..factories import make_article, make_attribute, make_relation_type
from .test_labelling_browser import select_range, wait_for_version

pytestmark = pytest.mark.browser

# From the sample article (samples/000_33d243c699f326a6.txt, AFP, June 2021).
TEXT = (
    "Kataeb Hezbollah and Kataeb Sayyid al-Shuhada, two Iraqi Shiite armed factions, were "
    'among the "several Iran-backed militia groups" that had used the facilities, the Pentagon '
    "said.\n\n"
    "The Observatory, which relies on a network of sources inside Syria, said seven fighters "
    "were killed in the strikes and at least six more were wounded.\n\n"
    "The targets included an arms depot near Albu Kamal, a Syrian border town on the Euphrates "
    "River, the Observatory said.\n\n"
    "Syria's state-run SANA news agency said one child was killed, while its foreign ministry "
    'condemned the raid as "a flagrant violation of the sanctity of Syrian and Iraqi '
    'territory".'
)
SIX = "at least six more were wounded"
SEVEN = "seven fighters were killed"


def key(phrase: str, label: str, text: str = TEXT) -> tuple[int, int, str]:
    start = text.index(phrase)
    return start, start + len(phrase), label


@pytest.fixture
def schema(project):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed", "wounded"], order=0)
    make_attribute(project, "CASUALTY", "low", "integer", min=0, order=1)
    make_attribute(project, "CASUALTY", "high", "integer", min=0, order=2)
    qualifiers = ["exact", "at_least", "more_than", "about", "up_to", "range"]
    make_attribute(project, "CASUALTY", "qualifier", "choice", choices=qualifiers, order=3)
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"], order=0)
    return project


@pytest.fixture
def article(schema, editor):
    return make_article(schema, TEXT, editors=[editor], title="US strikes in Syria and Iraq")


def annotate(article, editor, spans) -> dict[tuple[int, int, str], int]:
    """Version 1 with `spans`; their ids by key."""
    annotation = annotation_for(article, editor)
    save_annotation(
        annotation=annotation,
        author=editor,
        role=Role.EDITOR,
        base_version=0,
        spans=[SpanInput(*k) for k in spans],
    )
    return {(s.start, s.end, s.label.key): s.pk for s in annotation.current_spans()}


@pytest.fixture
def open_page(new_page, log_in, editor):
    def go(article):
        page = new_page()
        log_in(page, editor)
        page.goto(f"/articles/{article.pk}/")
        page.locator("details.guidelines").evaluate("d => d.open = false")
        return page

    return go


def saved(article, editor) -> dict:
    """The editor's annotation as the API gives it: spans by text, relations by texts."""
    data = api(editor).get(f"/api/articles/{article.pk}/annotation/").json()
    spans = data["spans"]
    return {
        "version": data["version"],
        "attributes": {s["text"]: s.get("attributes") or {} for s in spans},
        "relations": sorted(
            (spans[r["from"]]["text"], r["type"], spans[r["to"]]["text"]) for r in data["relations"]
        ),
    }


def select_in_list(page, span: int) -> None:
    """Select a span from the keyboard: the span list is in the tab order."""
    page.locator(f'.span-item[data-span="{span}"]').focus()


def test_said_by_by_keyboard(open_page, article, editor):
    ids = annotate(
        article,
        editor,
        [key(SIX, "CASUALTY"), key("The Observatory", "SOURCE"), key("SANA", "SOURCE")],
    )
    page = open_page(article)
    select_in_list(page, ids[key(SIX, "CASUALTY")])
    page.keyboard.press("r")
    # Link mode: the sources are the candidates; the first one after the figure is SANA,
    # in a later paragraph.
    assert page.locator("#article-text mark.link-candidate").count() == 2
    current = page.locator("#article-text mark.link-current")
    assert current.text_content() == "SANA"
    page.keyboard.press("ArrowLeft")
    assert current.text_content() == "The Observatory"
    assert "Link “at least six more were wounded” to" in page.locator("#link-banner").text_content()
    page.keyboard.press("Enter")
    wait_for_version(page, 2)
    assert saved(article, editor)["relations"] == [(SIX, "SAID_BY", "The Observatory")]
    # Visible without hovering: under both spans in the list; the linked span marked.
    figure_item = page.locator(f'li:has(> .span-item[data-span="{ids[key(SIX, "CASUALTY")]}"])')
    assert "said by → The Observatory" in figure_item.text_content()
    source = ids[key("The Observatory", "SOURCE")]
    assert page.locator(f'#article-text mark.linked[data-span="{source}"]').count() == 1
    # Esc leaves link mode without linking anything.
    select_in_list(page, ids[key(SIX, "CASUALTY")])
    page.keyboard.press("r")
    page.keyboard.press("Escape")
    assert page.locator(".link-candidate").count() == 0
    assert saved(article, editor)["version"] == 2


def test_said_by_by_mouse_with_a_choice_of_relation(open_page, article, editor, project):
    make_relation_type(project, "DENIED_BY", ["CASUALTY"], ["SOURCE"], order=1)
    ids = annotate(article, editor, [key(SEVEN, "CASUALTY"), key("The Observatory", "SOURCE")])
    page = open_page(article)
    page.click(f'#article-text mark[data-span="{ids[key(SEVEN, "CASUALTY")]}"]')
    page.click("#facts-panel .link-start")
    page.click(f'#article-text mark[data-span="{ids[key("The Observatory", "SOURCE")]}"]')
    # Two types fit a figure and a source: the page asks which.
    chooser = page.locator("dialog.link-chooser")
    assert chooser.locator("button").count() == 2
    chooser.locator("button", has_text="said by").click()
    wait_for_version(page, 2)
    assert saved(article, editor)["relations"] == [(SEVEN, "SAID_BY", "The Observatory")]
    # The relation is removed from the panel with the mouse too.
    page.click("#facts-panel .relation-remove")
    wait_for_version(page, 3)
    assert saved(article, editor)["relations"] == []


def test_a_relation_type_chosen_by_digit(open_page, article, editor, project):
    make_relation_type(project, "DENIED_BY", ["CASUALTY"], ["SOURCE"], order=1)
    ids = annotate(article, editor, [key(SEVEN, "CASUALTY"), key("The Observatory", "SOURCE")])
    page = open_page(article)
    select_in_list(page, ids[key(SEVEN, "CASUALTY")])
    page.keyboard.press("r")
    page.keyboard.press("Enter")  # the only candidate
    page.wait_for_selector("dialog.link-chooser[open]")
    page.keyboard.press("2")
    wait_for_version(page, 2)
    assert saved(article, editor)["relations"] == [(SEVEN, "DENIED_BY", "The Observatory")]


def test_a_figure_marked_by_keyboard_is_prefilled_and_confirmed_with_enter(
    open_page, article, editor
):
    page = open_page(article)
    assert select_range(page, article, SIX) == SIX
    page.keyboard.press("3")  # CASUALTY
    wait_for_version(page, 1)
    # The page proposes values from the words; nothing is saved until the editor confirms.
    panel = page.locator("#facts-panel")
    panel.locator(".proposed-note").wait_for()
    assert panel.locator(".figure.is-proposed").text_content() == "≥6 wounded"
    assert saved(article, editor)["attributes"] == {SIX: {}}
    page.keyboard.press("a")
    assert page.evaluate("document.activeElement.name") == "attr-kind"
    assert page.evaluate("document.activeElement.value") == "wounded"
    page.keyboard.press("Enter")
    wait_for_version(page, 2)
    wounded = {"kind": "wounded", "low": 6, "qualifier": "at_least"}
    assert saved(article, editor)["attributes"] == {SIX: wounded}
    # Corrected by keyboard: to the low figure, a new number, Enter; Esc back to the text.
    page.keyboard.press("a")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "attr-low"
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    wait_for_version(page, 3)
    assert saved(article, editor)["attributes"] == {SIX: {**wounded, "low": 7}}
    page.keyboard.press("a")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "article-text"
    item = page.locator(".span-list .figure").first
    assert item.text_content() == "≥7 wounded"


def test_a_figures_attributes_edited_with_the_mouse(open_page, article, editor):
    ids = annotate(article, editor, [key(SEVEN, "CASUALTY")])
    page = open_page(article)
    page.click(f'#article-text mark[data-span="{ids[key(SEVEN, "CASUALTY")]}"]')
    form = page.locator("#facts-panel .attributes-form")
    form.wait_for()
    form.locator("select[name=attr-qualifier]").select_option("about")
    form.locator("input[name=attr-high]").fill("9")
    form.locator("select[name=attr-qualifier]").select_option("range")
    form.locator("button[type=submit]").click()
    wait_for_version(page, 2)
    assert saved(article, editor)["attributes"] == {
        SEVEN: {"kind": "killed", "low": 7, "high": 9, "qualifier": "range"}
    }
    assert page.locator(".span-list .figure").first.text_content() == "7–9 killed"


def test_deleting_a_span_says_its_relations_went_with_it(open_page, article, editor):
    ids = annotate(article, editor, [key(SIX, "CASUALTY"), key("The Observatory", "SOURCE")])
    page = open_page(article)
    select_in_list(page, ids[key(SIX, "CASUALTY")])
    page.keyboard.press("r")
    page.keyboard.press("Enter")
    wait_for_version(page, 2)
    select_in_list(page, ids[key("The Observatory", "SOURCE")])
    page.keyboard.press("Delete")
    wait_for_version(page, 3)
    assert (
        "Its relation (SAID_BY) was removed with it." in page.locator("#statusbar").text_content()
    )
    assert saved(article, editor)["relations"] == []


def test_link_mode_crosses_a_long_article_and_scrolls_to_the_candidate(open_page, schema, editor):
    # About 20,000 characters: the source in the first paragraph, the figure in the last.
    filler = TEXT.split("\n\n")[2]
    text = TEXT + ("\n\n" + filler) * 170 + "\n\nNo one was hurt, the Observatory said."
    assert len(text) > 20_000
    article = make_article(schema, text, editors=[editor])
    late = text.rindex("No one was hurt")
    figure = (late, late + len("No one was hurt"), "CASUALTY")
    source = key("The Observatory", "SOURCE", text)
    ids = annotate(article, editor, [figure, source])
    page = open_page(article)
    select_in_list(page, ids[figure])
    page.keyboard.press("r")
    current = page.locator("#article-text mark.link-current")
    assert current.text_content() == "The Observatory"
    box = current.bounding_box()
    assert box is not None and 0 <= box["y"] <= 900  # scrolled into view
    page.keyboard.press("Enter")
    wait_for_version(page, 2)
    assert saved(article, editor)["relations"] == [
        ("No one was hurt", "SAID_BY", "The Observatory")
    ]
