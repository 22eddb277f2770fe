"""GET /api/articles/<id>/suggestions/: who may read it and what it answers."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from drf_spectacular.generators import SchemaGenerator

from annotate.models import Role
from annotate.models.assistance import ModelVersion, PredictedSpan
from annotate.services.annotations import SpanInput, gold_for, save_annotation

from .api_support import api, assert_error
from .factories import make_annotation, make_article, make_member, make_user

DONE = "Kataeb Hezbollah fighters shelled Aleppo."
OPEN = "In Aleppo, Kataeb Hezbollah said Hezbollah would stay."


@pytest.fixture
def article(project, editor, other_editor, reviewer):
    done = make_article(project, DONE, editors=[editor])
    gold = gold_for(done)
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(0, 16, "ACTOR"), SpanInput(34, 40, "LOCATION")],
        final=True,
    )
    article = make_article(project, OPEN, editors=[editor, other_editor])
    model = ModelVersion.objects.create(project=project, name="ner@3")
    PredictedSpan.objects.create(
        model_version=model,
        article=article,
        start=33,
        end=42,
        label=project.labels.get(key="ACTOR"),
        text="Hezbollah",
        score=0.75,
    )
    return article


def url(article, **query) -> str:
    return f"/api/articles/{article.pk}/suggestions/" + (f"?{urlencode(query)}" if query else "")


def test_an_assigned_editor_gets_gold_and_model_suggestions(article, editor):
    make_annotation(article, editor, [(3, 9, "LOCATION")])
    response = api(editor).get(url(article))
    assert response.status_code == 200
    assert response.json() == {
        "suggestions": [
            {
                "start": 11,
                "end": 27,
                "label": "ACTOR",
                "text": "Kataeb Hezbollah",
                "origin": "gold",
            },
            {
                "start": 33,
                "end": 42,
                "label": "ACTOR",
                "text": "Hezbollah",
                "origin": "model",
                "model": "ner@3",
                "score": 0.75,
            },
        ]
    }


def test_the_score_threshold_and_the_model_filter(article, editor):
    found = api(editor).get(url(article, min_score="0.8")).json()["suggestions"]
    assert [s["origin"] for s in found] == ["gold", "gold"]
    found = api(editor).get(url(article, model="ner@3", min_score="0.75")).json()["suggestions"]
    assert [s["origin"] for s in found] == ["gold", "gold", "model"]


def test_reviewers_and_managers_read_them_too(article, reviewer, manager):
    for user in (reviewer, manager):
        assert len(api(user).get(url(article)).json()["suggestions"]) == 3


def test_editors_not_assigned_and_outsiders_get_404(project, article, outsider):
    stranger = make_member(project, make_user("stray"), Role.EDITOR)
    for user in (stranger, outsider):
        assert_error(api(user).get(url(article)), 404)


def test_anonymous_callers_get_401(article):
    assert_error(api().get(url(article)), 401)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"min_score": "1.5"}, "min_score"),
        ({"min_score": "nan"}, "min_score"),
        ({"min_score": "-0"}, "min_score"),
        ({"model": "ner@9"}, "model"),
        ({"model": ""}, "model"),
        ({"label": "ACTOR"}, "label"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(article, editor, query, field):
    data = assert_error(api(editor).get(url(article, **query)), 400)
    assert field in data["errors"]


def test_the_schema_describes_the_endpoint():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/articles/{article_id}/suggestions/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"article_id", "model", "min_score"}
    assert set(operation["responses"]) >= {"200", "400", "404"}


def test_managers_turn_gold_suggestions_off_and_on_through_the_api(project, manager, editor):
    client = api(manager)
    response = client.patch(
        f"/api/projects/{project.slug}/", {"suggest_from_gold": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["suggest_from_gold"] is False
    project.refresh_from_db()
    assert project.suggest_from_gold is False
    refused = api(editor).patch(
        f"/api/projects/{project.slug}/", {"suggest_from_gold": True}, format="json"
    )
    assert_error(refused, 403)
    assert_error(
        client.patch(f"/api/projects/{project.slug}/", {"suggest_from_gold": "no"}, format="json"),
        400,
    )


def test_a_dataset_imported_as_final_gold_feeds_the_suggestions(project, manager, editor):
    article = make_article(project, "Talks in Mosul went on.", editors=[editor])
    dataset = [
        {
            "id": "ds-1",
            "text": "Fighting near Mosul.",
            "final": True,
            "spans": [{"start": 14, "end": 19, "label": "LOCATION"}],
        }
    ]
    response = api(manager).post(f"/api/projects/{project.slug}/import/", dataset, format="json")
    assert response.status_code == 201, response.content
    found = api(editor).get(url(article)).json()["suggestions"]
    assert found == [
        {"start": 9, "end": 14, "label": "LOCATION", "text": "Mosul", "origin": "gold"}
    ]
