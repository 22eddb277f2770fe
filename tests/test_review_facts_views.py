"""The adjudication page's facts: each editor's values and relations with disagreements
marked, accepting with one editor's or the majority's facts, the reviewer's own edits."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from annotate.models import Annotation, Relation, Role
from annotate.services.annotations import full_state_of, gold_for

from .factories import make_article, make_attribute, make_member, make_relation_type, make_user
from .test_review_facts import (
    FIGURE,
    OBSERVATORY,
    SAID_BY_OBSERVATORY,
    SAID_BY_SANA,
    SANA,
    TEXT,
    editor_span_id,
    submit,
)

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def schema(project):
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_attribute(project, "CASUALTY", "bound", "choice", choices=["exact", "at_least"])
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    return project


@pytest.fixture
def article(schema, editor, other_editor):
    article = make_article(schema, TEXT, editors=[editor, other_editor])
    submit(article, editor, {"low": 6, "bound": "exact"}, SANA)
    submit(article, other_editor, {"low": 6, "bound": "at_least"}, OBSERVATORY)
    return article


@pytest.fixture
def rita(client_for, reviewer):
    return client_for(reviewer)


def post(client, name, article, data, *args, hx=True):
    gold = Annotation.objects.gold().filter(article=article).first()
    fields = {"base_version": gold.version if gold else 0, "request_key": str(uuid.uuid4())}
    fields.update(data)
    return client.post(reverse(name, args=[article.pk, *args]), fields, **(HX if hx else {}))


def accept_all(client, article, editor, facts="majority"):
    for key in (FIGURE, SANA, OBSERVATORY):
        span = editor_span_id(article, editor, key)
        response = post(client, "review-accept", article, {"span": span, "facts": facts})
        assert response.status_code == 200, response.content.decode()


def test_page_shows_each_editors_values_and_relations_with_differences_marked(article, rita):
    body = rita.get(reverse("adjudicate", args=[article.pk])).content.decode()
    assert "bound exact" in body and "bound at_least" in body
    assert "SAID_BY → <q>SANA</q>" in body and "SAID_BY → <q>The Observatory</q>" in body
    # Marked in words, not by colour only.
    assert body.count("(differs)") == 4  # two values, two relations
    assert "low 6 <span" not in body  # both gave 6: no mark


def test_fragment_has_the_facts_too(article, rita):
    response = rita.get(reverse("adjudicate", args=[article.pk]), **HX)
    body = response.content.decode()
    assert "<html" not in body and 'id="facts-from"' in body and "(differs)" in body


def test_accepting_with_one_editors_facts(article, rita, other_editor):
    accept_all(rita, article, other_editor, facts="otto")
    state = full_state_of(gold_for(article))
    assert state.attributes_of(FIGURE) == {"low": 6, "bound": "at_least"}
    assert state.relations == {SAID_BY_OBSERVATORY}
    body = rita.get(reverse("adjudicate", args=[article.pk])).content.decode()
    assert "(from otto)" in body
    # edith's relation is offered, now that both its ends are in the gold.
    assert "Accept relation SAID_BY" in body


def test_anonymous_review_takes_facts_by_the_alias(schema, article, rita, other_editor):
    schema.anonymous_review = True
    schema.save()
    accept_all(rita, article, other_editor, facts="Editor B")  # otto
    assert full_state_of(gold_for(article)).relations == {SAID_BY_OBSERVATORY}
    body = rita.get(reverse("adjudicate", args=[article.pk])).content.decode()
    assert "otto" not in body and "(from Editor B)" in body


def test_majority_tie_leaves_the_value_out(article, rita, editor):
    accept_all(rita, article, editor)
    state = full_state_of(gold_for(article))
    assert state.attributes_of(FIGURE) == {"low": 6}
    assert state.relations == frozenset()


def test_an_unknown_facts_source_is_a_400(article, rita, editor):
    span = editor_span_id(article, editor, FIGURE)
    response = post(rita, "review-accept", article, {"span": span, "facts": "mallory"})
    assert response.status_code == 400
    assert "majority or from an editor" in response.content.decode()


def test_reviewer_edits_values_and_relations_on_the_page(article, rita, editor):
    accept_all(rita, article, editor)
    gold = gold_for(article)
    figure = gold.current_spans().get(label__key="CASUALTY")
    response = post(
        rita,
        "review-attributes",
        article,
        {f"g{figure.pk}-attr-low": "7", f"g{figure.pk}-attr-bound": "at_least"},
        figure.pk,
    )
    assert response.status_code == 200, response.content.decode()
    assert full_state_of(gold_for(article)).attributes_of(FIGURE) == {"low": 7, "bound": "at_least"}
    figure = gold.current_spans().get(label__key="CASUALTY")
    sana = gold.current_spans().get(start=SANA.start)
    response = post(
        rita,
        "review-relate",
        article,
        {"rel_from": figure.pk, "rel_to": sana.pk, "rel_type": "SAID_BY"},
    )
    assert response.status_code == 200
    assert full_state_of(gold_for(article)).relations == {SAID_BY_SANA}
    assert "edited by reviewer" in response.content.decode()
    row = Relation.objects.filter(annotation=gold).current().get()
    response = post(rita, "review-unrelate", article, {}, row.pk)
    assert response.status_code == 200
    assert full_state_of(gold_for(article)).relations == frozenset()


def test_accepting_an_offered_relation(article, rita, editor):
    accept_all(rita, article, editor)
    value = "10:31:CASUALTY:33:48:SOURCE:SAID_BY"
    assert SAID_BY_OBSERVATORY.from_span == (10, 31, "CASUALTY")
    assert SAID_BY_OBSERVATORY.to_span == (33, 48, "SOURCE")
    response = post(rita, "review-accept-relation", article, {"relation": value})
    assert response.status_code == 200
    assert full_state_of(gold_for(article)).relations == {SAID_BY_OBSERVATORY}
    assert "(from otto)" in response.content.decode()


def test_mark_final_shows_the_missing_required_attribute(schema, article, rita, editor):
    accept_all(rita, article, editor)
    make_attribute(schema, "CASUALTY", "kind", "choice", choices=["wounded"], required=True)
    response = post(rita, "review-final", article, {})
    assert response.status_code == 400
    assert "needs attribute kind before making the gold final" in response.content.decode()
    assert not gold_for(article).final


def test_editors_cannot_use_the_facts_routes(article, client_for, editor):
    client = client_for(editor)
    response = post(client, "review-relate", article, {"rel_from": 1, "rel_to": 2})
    assert response.status_code == 403


def test_outsiders_do_not_see_the_page(article, client_for, project):
    stranger = make_member(project, make_user("sam"), Role.EDITOR)
    assert client_for(stranger).get(reverse("adjudicate", args=[article.pk])).status_code == 403


def test_admin_shows_the_gold_figures_with_values_and_linked_spans(
    article, rita, editor, admin_user, client_for
):
    accept_all(rita, article, editor, facts="edith")
    gold = gold_for(article)
    body = client_for(admin_user).get(reverse("admin:annotate_annotation_change", args=[gold.pk]))
    html = body.content.decode()
    assert '<table class="figures">' in html
    assert "<td>6 people were wounded</td><td>bound: exact · low: 6</td>" in html
    assert "<td>SAID_BY → SANA</td>" in html


def test_admin_article_page_shows_every_annotations_figures_gold_first(
    article, rita, editor, admin_user, client_for
):
    accept_all(rita, article, editor, facts="edith")
    body = client_for(admin_user).get(reverse("admin:annotate_article_change", args=[article.pk]))
    html = body.content.decode()
    gold_at = html.index('<h3 class="figures-of">')
    assert '>Gold</a> <span class="muted">open for review · v' in html[gold_at:]
    assert html.count('<table class="figures">') >= 2  # the gold's and the editors'
    assert "<td>6 people were wounded</td><td>bound: exact · low: 6</td>" in html
    facts = html[gold_at:]
    assert facts.index(">Gold</a>") < facts.index(">edith</a>")


# --- The gold's API, history, diff and restore cover the adjudicated facts ------------------


def test_the_api_reads_the_adjudicated_gold_facts(article, rita, editor, reviewer):
    from .api_support import api

    accept_all(rita, article, editor, facts="edith")
    client = api(reviewer)
    data = client.get(f"/api/articles/{article.pk}/gold/").json()
    spans = data["spans"]
    by_start = {s["start"]: i for i, s in enumerate(spans)}
    assert spans[by_start[FIGURE.start]]["attributes"] == {"low": 6, "bound": "exact"}
    assert data["relations"] == [
        {"from": by_start[FIGURE.start], "to": by_start[SANA.start], "type": "SAID_BY"}
    ]
    # A later PUT that leaves relations out keeps them (a version-1 client).
    payload = {"base_version": data["version"], "spans": spans}
    response = client.put(f"/api/articles/{article.pk}/gold/", payload, format="json")
    assert response.status_code == 200, response.content
    assert full_state_of(gold_for(article)).relations == {SAID_BY_SANA}


def test_gold_diff_and_restore_cover_facts(article, rita, editor):
    accept_all(rita, article, editor, facts="edith")  # versions 1-3; SAID_BY in version 2
    gold = gold_for(article)
    row = Relation.objects.filter(annotation=gold).current().get()
    post(rita, "review-unrelate", article, {}, row.pk)  # version 4
    diff = rita.get(reverse("annotation-diff", args=[article.pk]) + "?gold=1&a=3&b=4")
    assert diff.status_code == 200 and "SAID_BY" in diff.content.decode()
    response = rita.post(
        reverse("annotation-restore", args=[article.pk]) + "?gold=1",
        {"number": 3, "base_version": 4, "request_key": str(uuid.uuid4())},
    )
    assert response.status_code == 302, response.content.decode()
    state = full_state_of(gold_for(article))
    assert state.relations == {SAID_BY_SANA}
    assert state.attributes_of(FIGURE) == {"low": 6, "bound": "exact"}
