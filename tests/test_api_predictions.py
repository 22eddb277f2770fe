"""POST /api/projects/{slug}/predictions/ (managers) and GET .../models/ (reviewers and
managers): predictions stored all or nothing, replaced per article and model version, and
each model version scored against the final gold."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from django.urls import reverse

from annotate.models import ModelVersion, PredictedRelation, PredictedSpan, Role
from annotate.services.annotations import SpanInput, gold_for, save_annotation

from .api_support import api, assert_error
from .factories import make_article, make_relation_type

TEXT = "Rebels shelled Aleppo on Monday, a spokesman said."
URL = "/api/projects/demo-news/predictions/"
MODELS = "/api/projects/demo-news/models/"
REBELS = {"start": 0, "end": 6, "label": "ACTOR"}
ALEPPO = {"start": 15, "end": 21, "label": "LOCATION"}
SPOKESMAN = {"start": 35, "end": 44, "label": "SOURCE"}


@pytest.fixture
def article(project):
    return make_article(project, TEXT, external_id="a1")


def jsonl(*items) -> bytes:
    return "\n".join(item if isinstance(item, str) else json.dumps(item) for item in items).encode()


def upload(user, *items, content_type="application/x-ndjson"):
    return api(user).generic("POST", URL, jsonl(*items), content_type=content_type)


def stored() -> list[tuple]:
    return list(
        PredictedSpan.objects.order_by(
            "model_version__name", "article__external_id", "start"
        ).values_list(
            "model_version__name",
            "article__external_id",
            "start",
            "end",
            "label__key",
            "text",
            "score",
        )
    )


def test_a_manager_uploads_predictions(manager, article):
    response = upload(
        manager,
        {"id": "a1", "model": "ner@1", "spans": [{**REBELS, "score": 0.9}, ALEPPO]},
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "created": 2,
        "relations": 0,
        "articles": 1,
        "replaced": 0,
        "models": ["ner@1"],
    }
    assert stored() == [
        ("ner@1", "a1", 0, 6, "ACTOR", "Rebels", 0.9),
        ("ner@1", "a1", 15, 21, "LOCATION", "Aleppo", None),
    ]
    assert ModelVersion.objects.get().created_by == manager


def test_relations_and_attributes_are_stored(project, manager, article):
    make_relation_type(project, "SAID_BY", ["ACTOR"], ["SOURCE"])
    from .factories import make_attribute

    make_attribute(project, "ACTOR", "kind", "choice", choices=["armed", "state"])
    response = upload(
        manager,
        {
            "id": "a1",
            "model": "ner@1",
            "spans": [{**REBELS, "attributes": {"kind": "armed"}}, SPOKESMAN],
            "relations": [{"from": 0, "to": 1, "type": "SAID_BY", "score": 0.7}],
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["relations"] == 1
    assert PredictedSpan.objects.get(label__key="ACTOR").attributes == {"kind": "armed"}
    relation = PredictedRelation.objects.get()
    assert (relation.type.key, relation.from_start, relation.to_start, relation.score) == (
        "SAID_BY",
        0,
        35,
        0.7,
    )


def test_uploading_a_model_version_again_replaces_its_predictions_for_that_article(
    project, manager, article
):
    other = make_article(project, TEXT, external_id="a2")
    upload(
        manager,
        {"id": "a1", "model": "ner@1", "spans": [REBELS, ALEPPO]},
        {"id": "a2", "model": "ner@1", "spans": [REBELS]},
        {"id": "a1", "model": "ner@2", "spans": [REBELS]},
    )
    response = upload(manager, {"id": "a1", "model": "ner@1", "spans": [SPOKESMAN]})
    assert response.json()["replaced"] == 2 and response.json()["created"] == 1
    assert stored() == [
        ("ner@1", "a1", 35, 44, "SOURCE", "spokesman", None),
        ("ner@1", other.external_id, 0, 6, "ACTOR", "Rebels", None),  # untouched
        ("ner@2", "a1", 0, 6, "ACTOR", "Rebels", None),  # another version: untouched
    ]
    assert upload(manager, {"id": "a1", "model": "ner@1", "spans": []}).json()["replaced"] == 1
    assert ("ner@1", "a1") not in {row[:2] for row in stored()}


def test_one_bad_line_refuses_the_upload_and_nothing_is_written(manager, article):
    response = upload(
        manager,
        {"id": "a1", "model": "ner@1", "spans": [REBELS]},
        {"id": "nope", "model": "ner@1", "spans": [REBELS]},
        {"id": "a1", "model": "ner@2", "spans": [{"start": 0, "end": 99, "label": "ACTOR"}]},
        {"id": "a1", "model": "ner@3", "spans": [{"start": 0, "end": 6, "label": "PERSON"}]},
    )
    data = assert_error(response, 400)
    assert data["errors"] == [
        {"line": 2, "detail": "there is no article with id 'nope' in this project"},
        {
            "line": 3,
            "detail": f"span 0: end 99 is past the end of the text ({len(TEXT)} characters)",
        },
        {
            "line": 4,
            "detail": "span 0: label 'PERSON' is not a label of this project (ACTOR, CASUALTY, "
            "LOCATION, SOURCE)",
        },
    ]
    assert data["detail"].startswith("No prediction was stored: line 2: there is no article")
    assert not PredictedSpan.objects.exists() and not ModelVersion.objects.exists()


def test_a_refused_upload_leaves_earlier_predictions_as_they_were(manager, article):
    upload(manager, {"id": "a1", "model": "ner@1", "spans": [REBELS]})
    response = upload(manager, {"id": "a1", "model": "ner@1", "spans": [{**ALEPPO, "score": 7}]})
    assert "score must be a number from 0 to 1, not 7" in assert_error(response, 400)["detail"]
    assert stored() == [("ner@1", "a1", 0, 6, "ACTOR", "Rebels", None)]


def test_an_article_of_another_project_is_unknown(manager, article, outsider):
    make_article(outsider.memberships.get().project, TEXT, external_id="theirs")
    response = upload(manager, {"id": "theirs", "model": "ner@1", "spans": [REBELS]})
    assert assert_error(response, 400)["errors"][0]["detail"] == (
        "there is no article with id 'theirs' in this project"
    )


def test_json_is_not_accepted_as_the_content_type(manager, article):
    response = upload(
        manager, {"id": "a1", "model": "ner@1", "spans": []}, content_type="application/json"
    )
    assert_error(response, 415)


def test_an_empty_body_is_refused(manager, article):
    assert "The request body is empty" in assert_error(upload(manager, ""), 400)["detail"]


def test_a_body_over_the_cap_is_too_large(manager, article):
    with override_settings(MAX_UPLOAD_BYTES=100):
        response = upload(manager, {"id": "a1", "model": "ner@1", "spans": [REBELS] * 5})
    assert_error(response, 413)


def test_too_many_lines_is_too_large(project, manager, article):
    make_article(project, TEXT, external_id="a2")
    with override_settings(MAX_IMPORT_ITEMS=1):
        response = upload(
            manager,
            {"id": "a1", "model": "ner@1", "spans": []},
            {"id": "a2", "model": "ner@1", "spans": []},
        )
    assert "more than 1 lines" in assert_error(response, 413)["detail"]
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("who", ["editor", "reviewer"])
def test_only_managers_upload(who, request, article):
    response = upload(request.getfixturevalue(who), {"id": "a1", "model": "m", "spans": []})
    assert_error(response, 403)


def test_outsiders_do_not_see_the_project(outsider, article):
    assert_error(upload(outsider, {"id": "a1", "model": "m", "spans": []}), 404)
    assert_error(api(outsider).get(MODELS), 404)


def test_anonymous_callers_must_authenticate(article):
    assert upload(None, {"id": "a1", "model": "m", "spans": []}).status_code == 401


# --- the model list and its quality ----------------------------------------------------------


def final_gold(article, reviewer, spans) -> None:
    save_annotation(
        annotation=gold_for(article),
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(*span) for span in spans],
        final=True,
    )


@pytest.fixture
def scored(project, manager, reviewer, article):
    """Two articles with final gold, a third without; ner@1 predicted on all three.

    Gold a1: ACTOR 0:6, LOCATION 15:21, SOURCE 35:44.   ner@1: ACTOR 0:6, LOCATION 15:21,
    LOCATION 25:31 (wrong).  Gold a2: ACTOR 0:6.  ner@1: ACTOR 0:7 (wrong offsets).
    a3 (gold not final): anything, not counted.
    By hand: ACTOR 1 matched of 2 predicted, 2 gold -> P 0.5, R 0.5;
    LOCATION 1 of 2 predicted, 1 gold -> P 0.5, R 1; SOURCE 0 of 0 predicted, 1 gold -> R 0.
    Overall 2 matched, 4 predicted, 4 gold: P 0.5, R 0.5, F1 0.5.
    """
    second = make_article(project, TEXT, external_id="a2")
    third = make_article(project, TEXT, external_id="a3")
    final_gold(article, reviewer, [(0, 6, "ACTOR"), (15, 21, "LOCATION"), (35, 44, "SOURCE")])
    final_gold(second, reviewer, [(0, 6, "ACTOR")])
    save_annotation(
        annotation=gold_for(third),
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(0, 6, "ACTOR")],
    )
    response = upload(
        manager,
        {
            "id": "a1",
            "model": "ner@1",
            "spans": [REBELS, ALEPPO, {"start": 25, "end": 31, "label": "LOCATION"}],
        },
        {"id": "a2", "model": "ner@1", "spans": [{"start": 0, "end": 7, "label": "ACTOR"}]},
        {"id": "a3", "model": "ner@1", "spans": [SPOKESMAN]},
        {"id": "a3", "model": "ner@2", "spans": [REBELS]},
    )
    assert response.status_code == 201, response.content
    return project


def test_the_model_list_scores_each_version_against_the_final_gold(reviewer, scored):
    response = api(reviewer).get(MODELS)
    assert response.status_code == 200
    data = response.json()
    assert [m["name"] for m in data["models"]] == ["ner@1", "ner@2"]
    first, second = data["models"]
    assert (first["articles"], first["spans"], first["relations"]) == (3, 5, 0)
    quality = first["quality"]
    assert quality["articles"] == 2
    assert {
        k: quality[k] for k in ("predicted", "gold", "matched", "precision", "recall", "f1")
    } == {
        "predicted": 4,
        "gold": 4,
        "matched": 2,
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
    }
    assert quality["labels"]["ACTOR"] == {
        "predicted": 2, "gold": 2, "matched": 1, "precision": 0.5, "recall": 0.5, "f1": 0.5,
    }  # fmt: skip
    assert quality["labels"]["LOCATION"]["precision"] == 0.5
    assert quality["labels"]["LOCATION"]["recall"] == 1.0
    assert quality["labels"]["LOCATION"]["f1"] == pytest.approx(2 / 3, abs=1e-6)
    assert quality["labels"]["SOURCE"] == {
        "predicted": 0, "gold": 1, "matched": 0, "precision": None, "recall": 0.0, "f1": 0.0,
    }  # fmt: skip
    # ner@2 predicted only where the gold is not final: nothing to score it against.
    assert second["quality"] is None and second["articles"] == 1
    assert data["ml_backend"] == {"url": "", "called_at": None, "error": None}


def test_editors_cannot_list_models(editor, scored):
    assert_error(api(editor).get(MODELS), 403)


def test_the_model_list_refuses_unknown_query_parameters(reviewer, scored):
    assert_error(api(reviewer).get(MODELS + "?name=ner@1"), 400)


def test_the_agreement_page_compares_models_with_the_final_gold(client_for, reviewer, scored):
    page = client_for(reviewer).get(reverse("agreement", args=[scored.slug])).content.decode()
    import re

    table = re.search(r'<table class="numbers model-scores">(.*?)</table>', page, re.S).group(1)
    rows = [
        re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]
    ]
    assert rows[0] == ["ner@1", "ACTOR", "2", "2", "2", "1", "0.500", "0.500", "0.500"]
    assert rows[3] == ["ner@1", "All labels", "2", "4", "4", "2", "0.500", "0.500", "0.500"]
    assert rows[4][0] == "ner@2" and "No article it predicted has a final gold yet" in rows[4][1]
    assert "Models against the final gold" in page  # and its definition


def test_the_agreement_page_says_when_there_are_no_predictions(client_for, reviewer, article):
    page = client_for(reviewer).get(reverse("agreement", args=["demo-news"])).content.decode()
    assert "No model predictions yet" in page


def test_model_names_are_escaped_on_the_page(client_for, manager, reviewer, article):
    final_gold(article, reviewer, [(0, 6, "ACTOR")])
    upload(manager, {"id": "a1", "model": "<script>x</script>", "spans": [REBELS]})
    page = client_for(reviewer).get(reverse("agreement", args=["demo-news"])).content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


def test_the_schema_describes_the_endpoints(db):
    import yaml

    schema = yaml.safe_load(api().get("/api/schema/").content)
    upload_op = schema["paths"]["/api/projects/{slug}/predictions/"]["post"]
    assert upload_op["operationId"] == "upload_predictions"
    assert list(upload_op["requestBody"]["content"]) == ["application/x-ndjson"]
    assert {"201", "400", "403", "404", "413", "415"} <= set(upload_op["responses"])
    components = schema["components"]["schemas"]
    line = components["PredictionLineRequest"]["properties"]
    assert set(line) == {"id", "model", "spans", "relations"}
    assert set(components["PredictedRelationRequest"]["properties"]) == {
        "from", "to", "type", "score",
    }  # fmt: skip
    assert set(components["PredictionResult"]["properties"]) == {
        "created", "relations", "articles", "replaced", "models",
    }  # fmt: skip
    models_op = schema["paths"]["/api/projects/{slug}/models/"]["get"]
    assert models_op["operationId"] == "list_models"
    assert set(components["ModelVersion"]["properties"]) == {
        "name", "created_at", "articles", "spans", "relations", "quality",
    }  # fmt: skip
    assert "ml_backend_url" in components["Project"]["properties"]
    assert "predictions" in components["ImportResult"]["properties"]
