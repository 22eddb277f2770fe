"""The labelling page's answers to the script: one added span answers with what changed,
not the workspace; spans that look like slips need a confirmation; the page's skip link,
dialog and paragraphs; "Mark final" warns about such spans; the API stores them as given."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from annotate.highlight import Mark, paragraphs, render, render_paragraph
from annotate.models import Annotation, Role
from annotate.offsets import to_utf16
from annotate.services import labelling
from annotate.services.annotations import SpanInput, annotation_for, gold_for, save_annotation
from annotate.services.labelling import NeedsConfirmation

from .factories import make_annotation, make_article, make_attribute

TEXT = (
    "Pro-Iranian militias exchanged fire with a US-led coalition in Syria 🚀 on Monday.\n\n"
    "The coalition fired at the town of Al-Mayadeen, said Iraq's Prime Minister.\n\n"
    "Nobody was hurt."
)
JSON = {"HTTP_ACCEPT": "application/json"}
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def article(project, editor):
    return make_article(project, TEXT, editors=[editor], title="Rockets")


@pytest.fixture
def client(editor, client_for):
    return client_for(editor)


def selection(article, phrase: str, label: str = "ACTOR", *, base: int = 0, **extra) -> dict:
    start = article.text.index(phrase)
    data = {
        "start": to_utf16(article.text, start),
        "end": to_utf16(article.text, start + len(phrase)),
        "quote": phrase,
        "label": label,
        "base_version": base,
        "request_key": str(uuid.uuid4()),
    }
    data.update(extra)
    return data


def add(client, article, phrase: str, label: str = "ACTOR", headers=JSON, **extra):
    return client.post(
        f"/articles/{article.pk}/spans/", selection(article, phrase, label, **extra), **headers
    )


def spans_of(article, user) -> list[tuple[str, str]]:
    annotation = Annotation.objects.filter(article=article, annotator=user).first()
    return [(s.label.key, s.text) for s in annotation.current_spans()] if annotation else []


# One added span: what changed


def test_an_added_span_answers_with_its_paragraph_list_item_and_status_bar(client, article):
    response = add(client, article, "Mayadeen", "LOCATION")
    assert response.status_code == 200
    data = response.json()
    assert "workspace" not in data
    assert data["version"] == 1 and data["created"] is True and data["count"] == 1
    assert data["span"]["text"] == "Al-Mayadeen" and data["span"]["label"] == "LOCATION"
    [paragraph] = data["paragraphs"]
    second = TEXT.index("The coalition")
    assert paragraph["index"] == 2 and paragraph["u16"] == to_utf16(TEXT, second)
    assert f'data-span="{data["span"]["id"]}"' in paragraph["html"]
    assert ">Al-Mayadeen</mark>" in paragraph["html"]
    assert data["item"]["label"] == "LOCATION" and data["item"]["after"] is None
    assert data["item"]["count"] == 1 and ">Al-Mayadeen</span>" in data["item"]["html"]
    assert data["statusbar"].lstrip().startswith('<div class="statusbar" id="statusbar">')
    assert "Version 1" in data["statusbar"] and 'id="undo-button"' in data["statusbar"]
    assert response["X-Annotation-Version"] == "1"


def test_the_list_item_says_which_item_it_follows(client, article, editor):
    iraq = TEXT.index("Iraq")
    make_annotation(article, editor, [(0, 11, "ACTOR"), (iraq, iraq + 4, "ACTOR")])
    data = add(client, article, "coalition", "ACTOR", base=1).json()
    first = Annotation.objects.get(article=article).current_spans().get(start=0)
    assert data["item"]["after"] == first.pk and data["item"]["count"] == 3


def test_the_answer_stays_small_on_an_article_with_many_spans(client, project, editor):
    text = "\n".join(f"Line {n}: fighters clashed near the river." for n in range(400))
    article = make_article(project, text, editors=[editor])
    words = [(i, i + 8) for i in range(len(text)) if text.startswith("fighters", i)]
    make_annotation(article, editor, [(s, e, "ACTOR") for s, e in words])
    workspace = client.get(f"/articles/{article.pk}/", **HX)
    response = add(client, article, "river", "LOCATION", base=1)
    assert response.status_code == 200 and "workspace" not in response.json()
    assert len(response.content) < 6_000 < len(workspace.content) / 10


def test_a_span_merged_with_a_change_from_another_tab_answers_with_the_workspace(
    client, article, editor
):
    make_annotation(article, editor, [(0, 11, "ACTOR")])  # version 1, made elsewhere
    response = add(client, article, "Mayadeen", "LOCATION", base=0)
    data = response.json()
    assert response.status_code == 200 and data["version"] == 2
    assert data["workspace"].lstrip().startswith('<div id="workspace"')
    assert "Merged with a change" in data["workspace"]


def test_a_span_already_there_answers_without_a_new_version(client, article, editor):
    add(client, article, "Mayadeen", "LOCATION")
    data = add(client, article, "Mayadeen", "LOCATION", base=1).json()
    assert data["version"] == 1 and data["created"] is False
    assert "already labelled" in data["statusbar"]


def test_a_conflict_answers_json_with_the_alert_to_show(client, article, editor):
    start = TEXT.index("coalition")
    make_annotation(article, editor, [(start, start + 9, "SOURCE")])
    response = add(client, article, "coalition", "ACTOR", base=0)
    data = response.json()
    assert response.status_code == 409 and data["current_version"] == 1
    assert "Reload" in data["alert"] and "Re-apply my change" in data["alert"]
    assert spans_of(article, editor) == [("SOURCE", "coalition")]


def test_an_invalid_selection_answers_json_with_detail(client, article):
    response = add(client, article, "coalition", quote="something else")
    assert response.status_code == 400
    assert "does not match" in response.json()["detail"]


# Slips: spans across a paragraph break or over the project's length


def test_a_span_across_a_paragraph_break_needs_a_confirmation(client, article, editor):
    phrase = "Monday.\n\nThe coalition"
    response = add(client, article, phrase, "SOURCE")
    data = response.json()
    assert response.status_code == 400
    assert data["confirm"]["reasons"] == ["spans 2 paragraphs"]
    assert data["confirm"]["text"] == phrase
    assert "Confirm to save it" in data["detail"]
    assert spans_of(article, editor) == []
    assert add(client, article, phrase, "SOURCE", confirm="1").status_code == 200
    assert spans_of(article, editor) == [("SOURCE", phrase)]


def test_a_span_longer_than_the_project_limit_needs_a_confirmation(client, article, editor):
    article.project.long_span_chars = 20
    article.project.save()
    data = add(client, article, "Pro-Iranian militias exchanged").json()
    assert data["confirm"]["reasons"] == [
        "is 30 characters long (the project asks to confirm spans over 20)"
    ]
    assert add(client, article, "Pro-Iranian militias").status_code == 200  # 20: fine


def test_without_a_length_limit_only_paragraph_breaks_ask(client, article, editor):
    article.project.long_span_chars = None
    article.project.save()
    assert add(client, article, TEXT[:-1]).status_code == 400  # three paragraphs
    first = TEXT.split("\n")[0].rstrip(".")
    assert add(client, article, first).status_code == 200
    assert spans_of(article, editor) == [("ACTOR", first)]


def test_the_htmx_form_offers_save_anyway(client, article, editor):
    phrase = "Monday.\n\nThe coalition"
    response = add(client, article, phrase, "SOURCE", headers=HX)
    html = response.content.decode()
    assert response.status_code == 400 and response["HX-Retarget"] == "#labelling-alerts"
    assert "Save anyway" in html and 'name="confirm" value="1"' in html
    assert spans_of(article, editor) == []


def test_the_service_refuses_an_unconfirmed_slip_and_saves_a_confirmed_one(article, editor):
    span = SpanInput(0, len(TEXT) - 1, "CASUALTY", TEXT[:-1])
    with pytest.raises(NeedsConfirmation) as refused:
        labelling.add_span(
            article=article, author=editor, role=Role.EDITOR, base_version=0, span=span
        )
    assert refused.value.reasons[0].startswith(f"is {len(TEXT) - 1} characters long")
    assert not Annotation.objects.filter(article=article).exists()
    result = labelling.add_span(
        article=article, author=editor, role=Role.EDITOR, base_version=0, span=span, confirmed=True
    )
    assert result.annotation.version == 1


def test_suspect_spans_lists_the_gold_spans_to_check(article, editor, reviewer):
    gold = gold_for(article)
    end = TEXT.index("The coalition") + 3
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(0, 11, "ACTOR"), SpanInput(43, end, "CASUALTY")],
    )
    [concern] = labelling.suspect_spans(gold)
    assert (concern.start, concern.end, concern.label) == (43, end, "CASUALTY")
    assert concern.sentence() == "spans 2 paragraphs"


def test_mark_final_warns_about_suspect_gold_spans(client_for, article, editor, reviewer):
    make_annotation(article, editor, [(0, 11, "ACTOR")], submit=True)
    gold = gold_for(article)
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(0, len(TEXT) - 1, "CASUALTY")],
    )
    html = client_for(reviewer).get(f"/articles/{article.pk}/review/").content.decode()
    assert 'id="suspect-spans"' in html and "1 gold span looks like a slip" in html
    assert f"characters 0–{len(TEXT) - 1}" in html and "spans 3 paragraphs" in html
    assert "hx-confirm=" in html and "Mark final anyway" in html


def test_mark_final_has_no_warning_without_suspect_spans(client_for, article, editor, reviewer):
    make_annotation(article, editor, [(0, 11, "ACTOR")], submit=True)
    save_annotation(
        annotation=gold_for(article),
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(0, 11, "ACTOR")],
    )
    html = client_for(reviewer).get(f"/articles/{article.pk}/review/").content.decode()
    assert "suspect-spans" not in html and "Mark final anyway" not in html


def test_the_api_stores_long_spans_as_given(article, editor, client_for):
    # The confirmation guards a hand on the page; scripts and pipelines send what they mean.
    client = client_for(editor)
    body = {"base_version": 0, "spans": [{"start": 0, "end": len(TEXT), "label": "CASUALTY"}]}
    response = client.put(
        f"/api/articles/{article.pk}/annotation/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert spans_of(article, editor) == [("CASUALTY", TEXT)]


# The page


def test_the_page_has_a_skip_link_to_the_text_and_the_confirmation_dialog(client, article):
    html = client.get(f"/articles/{article.pk}/").content.decode()
    assert '<a class="skip-link" href="#article-text" id="skip-to-text">' in html
    assert html.index('href="#main"') < html.index('id="skip-to-text"') < html.index("<h1>")
    assert '<dialog id="confirm-span"' in html and "Save anyway" in html
    assert "Go to the text" in html and "<kbd>/</kbd>" in html
    assert '"longSpanChars": 150' in html


def test_the_text_is_drawn_one_paragraph_at_a_time(client, article, editor):
    make_annotation(article, editor, [(43, TEXT.index("The coalition") + 3, "SOURCE")])
    html = client.get(f"/articles/{article.pk}/").content.decode()
    second = TEXT.index("\n") + 1
    assert html.count('<span class="para"') == 5
    assert f'<span class="para" data-para="1" data-u16="{to_utf16(TEXT, second)}">' in html
    assert 'class="span lbl-SOURCE cont"' in html  # the parts after the first paragraph


# Pure: paragraphs


def test_paragraphs_cut_after_each_line_break():
    assert [(p.start, p.end) for p in paragraphs("ab\n\ncd")] == [(0, 3), (3, 4), (4, 6)]
    assert [(p.start, p.end) for p in paragraphs("ab\n")] == [(0, 3)]


def test_a_paragraph_without_a_break_draws_like_the_whole_text():
    text = "Iraq's Prime Minister Mustafa al-Kadhemi"
    marks = [Mark(0, 4, "LOCATION", "2"), Mark(0, len(text), "ACTOR", "1")]
    [paragraph] = paragraphs(text)
    assert render_paragraph(text, paragraph, marks) == render(text, marks)


def test_a_span_across_paragraphs_keeps_its_offsets_in_every_part():
    text = "one two\nthree four"
    [first, second] = paragraphs(text)
    mark = Mark(4, 13, "ACTOR", "7")
    assert render_paragraph(text, first, [mark]) == (
        'one <mark class="span lbl-ACTOR" data-label="ACTOR" data-start="4" data-end="13" '
        'data-span="7" title="ACTOR">two\n</mark>'
    )
    assert render_paragraph(text, second, [mark]).startswith(
        '<mark class="span lbl-ACTOR cont" data-label="ACTOR" data-start="4" data-end="13" '
    )


def test_the_answer_shows_facts_as_the_workspace_does(client, project, article, editor):
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    start = TEXT.index("Pro-Iranian militias")
    save_annotation(
        annotation=annotation_for(article, editor),
        author=editor,
        role=Role.EDITOR,
        base_version=0,
        spans=[SpanInput(start, start + 20, "CASUALTY", attributes={"low": 4})],
    )
    data = add(client, article, "coalition", "CASUALTY", base=1).json()
    [paragraph] = data["paragraphs"]
    workspace = client.get(f"/articles/{article.pk}/", **HX).content.decode()
    old_title = re.search(r'title="(CASUALTY: Pro-Iranian militias[^"]*)"', workspace)[1]
    assert "4" in old_title and f'title="{old_title}"' in paragraph["html"]
    assert "attributes not given" in data["item"]["html"]  # the new span has none yet


def test_managers_set_the_length_limit_in_the_admin(project, admin_user, client_for):
    html = client_for(admin_user).get(f"/admin/annotate/project/{project.pk}/change/")
    assert 'name="long_span_chars"' in html.content.decode()
    assert 'value="150"' in html.content.decode()
