"""API: a project's fact schema (label attributes, relation types) on POST and PATCH of a
project and POST of a label, written through services.schema like the schema page."""

from __future__ import annotations

import pytest

from annotate.models import AttributeDefinition, Project, Relation, RelationType
from annotate.services.annotations import RelationInput, SpanInput, annotation_for, save_annotation

from .api_support import api, assert_error
from .factories import make_article, make_attribute, make_relation_type

KIND = {
    "key": "kind",
    "name": "Kind",
    "type": "choice",
    "choices": ["killed", "wounded", "missing"],
    "required": True,
}
LOW = {"key": "low", "name": "Low", "type": "integer", "min": 0}
SAID_BY = {"key": "SAID_BY", "name": "said by", "from": ["CASUALTY"], "to": ["SOURCE"]}
NEW_PROJECT = {
    "name": "Tolls",
    "slug": "tolls",
    "labels": [
        {"key": "CASUALTY", "name": "Casualty", "attributes": [KIND, LOW]},
        {"key": "SOURCE", "name": "Source"},
    ],
    "relation_types": [SAID_BY, {"key": "NEAR", "name": "near", "from": None, "to": []}],
}


def test_a_project_is_created_with_attributes_and_relation_types(manager):
    response = api(manager).post("/api/projects/", NEW_PROJECT, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    casualty, source = data["labels"]
    assert casualty["attributes"] == [
        {**KIND, "min": None},
        {**LOW, "choices": [], "required": False},
    ]
    assert source["attributes"] == []
    assert data["relation_types"] == [
        SAID_BY,
        {"key": "NEAR", "name": "near", "from": None, "to": None},
    ]


def test_a_bad_attribute_refuses_the_whole_project(manager):
    body = {
        **NEW_PROJECT,
        "labels": [
            {"key": "CASUALTY", "name": "Casualty", "attributes": [{**LOW, "choices": ["a"]}]}
        ],
    }
    response = api(manager).post("/api/projects/", body, format="json")
    assert_error(response, 400)
    assert "only a choice attribute has choices" in response.json()["detail"]
    assert "labels.CASUALTY.attributes[0].choices" in response.json()["errors"]
    assert not Project.objects.filter(slug="tolls").exists()


def test_a_relation_type_naming_a_missing_label_is_refused(manager):
    body = {**NEW_PROJECT, "relation_types": [{**SAID_BY, "to": ["WITNESS"]}]}
    response = api(manager).post("/api/projects/", body, format="json")
    assert_error(response, 400)
    assert response.json()["errors"] == {
        "relation_types[0].to": ["WITNESS is not a label of this project"]
    }
    assert not Project.objects.filter(slug="tolls").exists()


@pytest.mark.parametrize(
    ("attribute", "field"),
    [
        ({**LOW, "min": "0"}, "min"),
        ({**LOW, "required": "yes"}, "required"),
        ({**KIND, "type": "date"}, "type"),
        ({**KIND, "colour": "red"}, "colour"),
    ],
)
def test_attribute_shapes_are_checked_by_field(manager, project, attribute, field):
    body = {"labels": [{"key": "CASUALTY", "attributes": [attribute]}]}
    response = api(manager).patch(f"/api/projects/{project.slug}/", body, format="json")
    assert_error(response, 400)
    assert field in str(response.json()["errors"])
    assert not AttributeDefinition.objects.exists()


def test_patch_replaces_the_attributes_of_the_labels_it_names(manager, project):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed"])
    make_attribute(project, "CASUALTY", "old", "text")
    make_attribute(project, "SOURCE", "type", "choice", choices=["official"])
    body = {"labels": [{"key": "CASUALTY", "attributes": [LOW, KIND]}]}
    response = api(manager).patch(f"/api/projects/{project.slug}/", body, format="json")
    assert response.status_code == 200, response.content
    labels = {label["key"]: label for label in response.json()["labels"]}
    assert [a["key"] for a in labels["CASUALTY"]["attributes"]] == ["low", "kind"]
    assert labels["CASUALTY"]["attributes"][1]["choices"] == KIND["choices"]
    assert [a["key"] for a in labels["SOURCE"]["attributes"]] == ["type"]


def test_patch_replaces_relation_types_by_key(manager, project):
    kept = make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    make_relation_type(project, "UNUSED")
    body = {"relation_types": [{**SAID_BY, "name": "attributed to", "from": None}]}
    response = api(manager).patch(f"/api/projects/{project.slug}/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["relation_types"] == [
        {"key": "SAID_BY", "name": "attributed to", "from": None, "to": ["SOURCE"]}
    ]
    assert list(RelationType.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_relation_type_in_use_cannot_be_removed_and_nothing_is_written(manager, project, editor):
    said_by = make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    text = "Officials said six were killed."
    article = make_article(project, text, editors=[editor])
    save_annotation(
        annotation=annotation_for(article, editor),
        author=editor,
        role="editor",
        base_version=0,
        spans=[SpanInput(0, 9, "SOURCE"), SpanInput(15, 30, "CASUALTY")],
        relations=[RelationInput(1, 0, "SAID_BY")],
    )
    body = {"name": "Renamed", "relation_types": []}
    response = api(manager).patch(f"/api/projects/{project.slug}/", body, format="json")
    assert_error(response, 409)
    assert "SAID_BY cannot be removed: 1 relation uses it" in response.json()["detail"]
    assert RelationType.objects.get() == said_by and Relation.objects.count() == 1
    assert Project.objects.get(pk=project.pk).name == project.name


def test_patch_of_an_unknown_label_is_refused(manager, project):
    body = {"labels": [{"key": "WITNESS", "attributes": [LOW]}]}
    response = api(manager).patch(f"/api/projects/{project.slug}/", body, format="json")
    assert_error(response, 400)
    assert response.json()["errors"] == {
        "labels.WITNESS": ["WITNESS is not a label of this project"]
    }


def test_editors_cannot_change_the_schema(editor, project):
    body = {"relation_types": [SAID_BY]}
    response = api(editor).patch(f"/api/projects/{project.slug}/", body, format="json")
    assert_error(response, 403)
    assert not RelationType.objects.exists()


def test_a_label_is_added_with_its_attributes(manager, project):
    body = {"key": "WEAPON", "name": "Weapon", "attributes": [{**KIND, "key": "class"}]}
    response = api(manager).post(f"/api/projects/{project.slug}/labels/", body, format="json")
    assert response.status_code == 201, response.content
    assert [a["key"] for a in response.json()["attributes"]] == ["class"]
    assert AttributeDefinition.objects.get().label.key == "WEAPON"


def test_the_project_reads_back_its_schema(manager, project):
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_relation_type(project, "LOCATED_IN", ["CASUALTY"], ["LOCATION"])
    data = api(manager).get(f"/api/projects/{project.slug}/").json()
    casualty = next(label for label in data["labels"] if label["key"] == "CASUALTY")
    assert casualty["attributes"] == [
        {"key": "low", "name": "Low", "type": "integer", "choices": [], "min": 0, "required": False}
    ]
    assert data["relation_types"] == [
        {"key": "LOCATED_IN", "name": "located in", "from": ["CASUALTY"], "to": ["LOCATION"]}
    ]
