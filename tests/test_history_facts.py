"""History, version, diff and restore pages show attributes and relations; a version the
schema no longer fits is shown with a warning, never an error page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotate.models import RelationType, Role
from annotate.services.annotations import (
    RelationInput,
    SpanInput,
    annotation_for,
    full_state_of,
    save_annotation,
)

from .factories import make_article, make_attribute, make_relation_type

TEXT = "The ministry said four people were killed in Aleppo."
FIGURE = SpanInput(18, 41, "CASUALTY")  # "four people were killed"
MINISTRY = SpanInput(4, 12, "SOURCE")
ALEPPO = SpanInput(45, 51, "LOCATION")
HX = {"HX-Request": "true"}


@pytest.fixture
def article(project, editor):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed", "wounded"])
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    make_relation_type(project, "LOCATED_IN", ["CASUALTY"], ["LOCATION"])
    return make_article(project, TEXT, editors=[editor])


def figure(**attributes) -> SpanInput:
    return SpanInput(FIGURE.start, FIGURE.end, FIGURE.label, attributes=attributes)


@pytest.fixture
def annotation(article, editor):
    """v1: figure (killed, 4) SAID_BY ministry; v2: low 4→5; v3: + LOCATED_IN Aleppo."""
    annotation = annotation_for(article, editor)
    spans = [figure(kind="killed", low=4), MINISTRY, ALEPPO]
    save(annotation, editor, spans, [RelationInput(0, 1, "SAID_BY")])
    save(annotation, editor, [figure(kind="killed", low=5), MINISTRY, ALEPPO])
    relations = [RelationInput(0, 1, "SAID_BY"), RelationInput(0, 2, "LOCATED_IN")]
    save(annotation, editor, [FIGURE, MINISTRY, ALEPPO], relations)
    return annotation


def save(annotation, author, spans, relations=None):
    return save_annotation(
        annotation=annotation,
        author=author,
        role=Role.EDITOR,
        base_version=annotation.version,
        spans=spans,
        relations=relations,
    )


def page(article, name, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse(name, args=[article.pk]) + (f"?{query}" if query else "")


def test_the_version_list_describes_fact_only_versions(client_for, editor, article, annotation):
    content = client_for(editor).get(page(article, "annotation-history")).content.decode()
    assert "CASUALTY.low 4\u21925" in content
    assert "+LOCATED_IN \u00d71" in content


def test_a_version_shows_its_attributes_and_relations(client_for, editor, article, annotation):
    client = client_for(editor)
    content = client.get(page(article, "annotation-history", version=1)).content.decode()
    assert "kind: killed · low: 4" in content
    assert "“four people were killed” <strong>SAID_BY</strong>" in content
    assert "<strong>LOCATED_IN</strong>" not in content
    fragment = client.get(page(article, "annotation-history", version=3), headers=HX)
    assert "<strong>LOCATED_IN</strong>" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()


def test_the_diff_of_an_attribute_only_version(client_for, editor, article, annotation):
    client = client_for(editor)
    content = client.get(page(article, "annotation-diff", a=1, b=2)).content.decode()
    assert "1 change</h3>" in content
    assert "“four people were killed”: low 4 → 5" in content
    fragment = client.get(page(article, "annotation-diff", a=1, b=2), headers=HX).content
    assert b"low 4 \xe2\x86\x92 5" in fragment and b"<html" not in fragment


def test_the_diff_of_a_relation_only_version(client_for, editor, article, annotation):
    content = client_for(editor).get(page(article, "annotation-diff", a=2, b=3)).content.decode()
    assert "1 change</h3>" in content
    assert 'added\n      <span class="label-chip lbl-CASUALTY">CASUALTY</span>' in content
    assert '<strong>LOCATED_IN</strong> → <span class="label-chip lbl-LOCATION">' in content


def test_restoring_from_the_page_brings_back_facts(client_for, editor, article, annotation):
    response = client_for(editor).post(
        page(article, "annotation-restore"), {"number": 1, "base_version": 3}
    )
    assert response.status_code == 302
    annotation.refresh_from_db()
    assert annotation.version == 4
    assert full_state_of(annotation) == full_state_of(annotation, 1)


def test_a_version_the_schema_no_longer_fits_shows_a_warning(
    client_for, editor, project, article, annotation
):
    project.labels.get(key="CASUALTY").attributes.filter(key="low").delete()
    RelationType.objects.get(key="SAID_BY").to_labels.set(project.labels.filter(key="ACTOR"))
    response = client_for(editor).get(page(article, "annotation-history", version=1))
    assert response.status_code == 200
    content = response.content.decode()
    assert "no longer fits the project’s schema" in content
    assert "attribute low is no longer in the schema of CASUALTY" in content
    assert "SAID_BY cannot end at a SOURCE span (only ACTOR)" in content
    assert "kind: killed · low: 4" in content  # shown as stored
