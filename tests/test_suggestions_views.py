"""The labelling page's suggestion routes (accept, accept all, reject) and the agreement
report's count of spans that started as suggestions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotate.models import Annotation, Role
from annotate.models.assistance import SuggestionRejection
from annotate.services.annotations import SpanInput, annotation_for, gold_for, save_annotation

from .factories import make_annotation, make_article

DONE = "Kataeb Hezbollah fighters shelled Aleppo."
OPEN = "In Aleppo, Kataeb Hezbollah said Hezbollah would stay."


@pytest.fixture
def article(project, editor, other_editor, reviewer):
    done = make_article(project, DONE, editors=[editor])
    save_annotation(
        annotation=gold_for(done),
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(0, 16, "ACTOR"), SpanInput(7, 16, "ACTOR"), SpanInput(34, 40, "LOCATION")],
        final=True,
    )
    return make_article(project, OPEN, editors=[editor, other_editor])


def post(client, name, article, **data):
    return client.post(reverse(name, args=[article.pk]), data, HTTP_HX_REQUEST="true")


def spans(article, user):
    own = annotation_for(article, user)
    return [(s.start, s.end, s.label.key, s.origin) for s in own.current_spans()]


def test_accepting_answers_with_the_workspace_and_saves_the_origin(client_for, article, editor):
    response = post(
        client_for(editor), "suggestion-accept", article, start=3, end=9, label="LOCATION",
        base_version=0,
    )  # fmt: skip
    assert response.status_code == 200
    assert response["X-Annotation-Version"] == "1"
    assert 'id="workspace"' in response.content.decode()
    assert "Accepted 1 suggestion." in response.content.decode()
    assert spans(article, editor) == [(3, 9, "LOCATION", "gold")]


def test_accepting_without_htmx_redirects_to_the_page(client_for, article, editor):
    response = client_for(editor).post(
        reverse("suggestion-accept", args=[article.pk]),
        {"start": 3, "end": 9, "label": "LOCATION", "base_version": 0},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("article", args=[article.pk])


def test_accepting_what_is_not_offered_is_a_400_and_writes_nothing(client_for, article, editor):
    response = post(
        client_for(editor), "suggestion-accept", article, start=0, end=2, label="ACTOR",
        base_version=0,
    )  # fmt: skip
    assert response.status_code == 400
    assert "no ACTOR suggestion at 0–2" in response.content.decode()
    assert not Annotation.objects.filter(article=article, kind="editor").exists()


def test_accept_all_of_a_label_is_one_version(client_for, article, editor):
    response = post(
        client_for(editor), "suggestion-accept-all", article, label="ACTOR", base_version=0
    )
    assert response.status_code == 200
    assert "Accepted 3 suggestions." in response.content.decode()
    assert annotation_for(article, editor).version == 1
    assert [s[:3] for s in spans(article, editor)] == [
        (11, 27, "ACTOR"),
        (18, 27, "ACTOR"),
        (33, 42, "ACTOR"),
    ]


def test_a_stale_page_cannot_accept(client_for, article, editor):
    make_annotation(article, editor, [(0, 2, "SOURCE")])
    response = post(
        client_for(editor), "suggestion-accept-all", article, label="ACTOR", base_version=0
    )
    assert response.status_code == 409
    assert annotation_for(article, editor).version == 1


def test_rejecting_answers_json_for_the_script(client_for, article, editor):
    client = client_for(editor)
    url = reverse("suggestion-reject", args=[article.pk])
    data = {"start": 3, "end": 9, "label": "LOCATION"}
    response = client.post(url, data, HTTP_ACCEPT="application/json")
    assert response.json() == {"rejected": True, "new": True}
    assert client.post(url, data, HTTP_ACCEPT="application/json").json()["new"] is False
    assert SuggestionRejection.objects.filter(editor=editor).count() == 1


def test_others_cannot_use_the_routes(client_for, article, reviewer, outsider):
    for user in (reviewer, outsider):
        for name in ("suggestion-accept", "suggestion-accept-all", "suggestion-reject"):
            response = post(client_for(user), name, article, start=3, end=9, label="LOCATION")
            assert response.status_code == 404


def test_the_labelling_page_offers_the_suggestions_box(client_for, article, editor):
    page = client_for(editor).get(reverse("article", args=[article.pk])).content.decode()
    assert 'id="suggestions"' in page
    assert f'data-api="/api/articles/{article.pk}/suggestions/"' in page
    assert "js/suggestions.js" in page


def test_the_agreement_report_counts_spans_from_suggestions(
    client_for, project, article, editor, other_editor, reviewer
):
    post(
        client_for(editor), "suggestion-accept", article, start=3, end=9, label="LOCATION",
        base_version=0,
    )  # fmt: skip
    own = annotation_for(article, editor)
    save_annotation(
        annotation=own,
        author=editor,
        role=Role.EDITOR,
        base_version=1,
        spans=[SpanInput(3, 9, "LOCATION"), SpanInput(0, 2, "SOURCE")],
        status=Annotation.Status.SUBMITTED,
    )
    make_annotation(article, other_editor, [(3, 9, "LOCATION")], submit=True)
    page = client_for(reviewer).get(reverse("agreement", args=[project.slug])).content.decode()
    assert (
        "1 of 3 spans in submitted annotations started as suggestions (gold: 1, model: 0)." in page
    )
    row = page[page.index('class="numbers suggested-spans"') :]
    assert '<th scope="row">edith</th><td>2</td><td>1</td><td>1</td><td>0</td>' in row
    assert '<th scope="row">otto</th><td>1</td><td>0</td><td>0</td><td>0</td>' in row
    data = client_for(reviewer).get(f"/api/projects/{project.slug}/agreement/").json()
    assert data["suggested"] == {
        "overall": {"spans": 3, "gold": 1, "model": 0},
        "editors": {
            "edith": {"spans": 2, "gold": 1, "model": 0},
            "otto": {"spans": 1, "gold": 0, "model": 0},
        },
    }
