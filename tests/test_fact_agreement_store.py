"""Stored agreement on facts: kept up to date on submit, equal to a full recompute."""

from __future__ import annotations

import io
import random

import pytest
from django.core.management import call_command

from annotate.models import (
    Annotation,
    Article,
    ArticleFactAgreement,
    FactAgreementTotal,
    Role,
)
from annotate.services import agreement as service
from annotate.services.annotations import (
    RelationInput,
    SpanInput,
    annotation_for,
    save_annotation,
)

from .factories import (
    make_article,
    make_attribute,
    make_member,
    make_relation_type,
    make_user,
)

# "Rebels shelled Aleppo on Monday, killing 12 people, officials in Damascus said."
TEXT = "Rebels shelled Aleppo on Monday, killing 12 people, officials in Damascus said."
FIGURE = (41, 50, "CASUALTY")  # "12 people"
OFFICIALS = (52, 61, "SOURCE")  # "officials"
ALEPPO = (15, 21, "LOCATION")
DAMASCUS = (65, 73, "LOCATION")


@pytest.fixture
def facts_project(project):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed", "wounded"])
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    make_relation_type(project, "LOCATED_IN", ["CASUALTY"], ["LOCATION"])
    return project


def annotate(article, editor, spans, relations=(), *, submit=True, status=None):
    """Save spans ``(start, end, LABEL)`` or ``(start, end, LABEL, {attributes})`` and
    relations ``(from index, to index, TYPE)`` as the editor's annotation."""
    annotation = annotation_for(article, editor)
    save_annotation(
        annotation=annotation,
        author=editor,
        role=Role.EDITOR,
        base_version=annotation.version,
        spans=[SpanInput(s[0], s[1], s[2], attributes=s[3] if len(s) > 3 else {}) for s in spans],
        relations=[RelationInput(*r) for r in relations],
        status=status or (Annotation.Status.SUBMITTED if submit else None),
    )
    annotation.refresh_from_db()
    return annotation


def snapshot(project) -> tuple[dict, dict]:
    rows = {
        row.article_id: (row.editors, row.versions, row.stats, row.score)
        for row in ArticleFactAgreement.objects.filter(project=project)
    }
    totals = {
        total.group: (total.articles, total.stats)
        for total in FactAgreementTotal.objects.filter(project=project)
    }
    return rows, totals


def test_the_second_submit_stores_the_articles_facts(facts_project, editor, other_editor):
    article = make_article(facts_project, TEXT, editors=[editor, other_editor])
    figure = (*FIGURE, {"kind": "killed", "low": 12})
    annotate(article, editor, [figure, OFFICIALS], [(0, 1, "SAID_BY")])
    assert not ArticleFactAgreement.objects.exists()
    annotate(
        article,
        other_editor,
        [(*FIGURE, {"kind": "wounded", "low": 12}), OFFICIALS],
        [(0, 1, "SAID_BY")],
    )
    row = ArticleFactAgreement.objects.get(article=article)
    assert row.editors == sorted([editor.pk, other_editor.pk])
    (relations,) = row.stats["relations"]
    assert list(relations.values()) == [[1, 1, 1, 1, 1]]
    (attributes,) = row.stats["attributes"]
    label = facts_project.labels.get(key="CASUALTY").pk
    assert attributes[f"{label}:kind"][:3] == [1, 0, 0]
    assert attributes[f"{label}:low"][:3] == [1, 1, 0]
    # Facts: 2 relations matched, 2 of 4 attribute values equal: (2 + 2) / (2 + 4).
    assert row.score == pytest.approx(4 / 6)
    total = FactAgreementTotal.objects.get(project=facts_project)
    assert total.articles == 1 and total.stats["relations"] == row.stats["relations"]


def test_going_back_to_in_progress_takes_the_facts_out(facts_project, editor, other_editor):
    article = make_article(facts_project, TEXT, editors=[editor, other_editor])
    annotate(article, editor, [FIGURE, OFFICIALS], [(0, 1, "SAID_BY")])
    annotation = annotate(article, other_editor, [FIGURE, OFFICIALS], [(0, 1, "SAID_BY")])
    assert FactAgreementTotal.objects.filter(project=facts_project).exists()
    annotate(
        article,
        other_editor,
        [FIGURE, OFFICIALS],
        [(0, 1, "SAID_BY")],
        status=Annotation.Status.IN_PROGRESS,
    )
    annotation.refresh_from_db()
    assert annotation.status == Annotation.Status.IN_PROGRESS
    assert not ArticleFactAgreement.objects.exists()
    assert not FactAgreementTotal.objects.exists()


def test_deleting_an_article_takes_its_facts_out_of_the_total(facts_project, editor, other_editor):
    articles = [make_article(facts_project, TEXT, editors=[editor, other_editor]) for _ in "ab"]
    for article in articles:
        annotate(article, editor, [FIGURE, OFFICIALS], [(0, 1, "SAID_BY")])
        annotate(article, other_editor, [FIGURE, OFFICIALS])
    assert FactAgreementTotal.objects.get(project=facts_project).articles == 2
    Article.objects.filter(pk=articles[0].pk).delete()
    total = FactAgreementTotal.objects.get(project=facts_project)
    assert total.articles == 1
    assert total.stats["relations"] == ArticleFactAgreement.objects.get().stats["relations"]


def _random_work(rng: random.Random) -> tuple[list, list]:
    choices = [FIGURE, OFFICIALS, ALEPPO, DAMASCUS, (42, 50, "CASUALTY"), (0, 6, "ACTOR")]
    spans = []
    for start, end, label in rng.sample(choices, rng.randint(0, len(choices))):
        if label == "CASUALTY":
            values = {
                "kind": rng.choice(["killed", "wounded", None]),
                "low": rng.choice([12, 10, None]),
            }
            spans.append((start, end, label, {k: v for k, v in values.items() if v is not None}))
        else:
            spans.append((start, end, label))
    relations = set()
    for i, a in enumerate(spans):
        for j, b in enumerate(spans):
            if a[2] == "CASUALTY" and b[2] == "SOURCE" and rng.random() < 0.7:
                relations.add((i, j, "SAID_BY"))
            if a[2] == "CASUALTY" and b[2] == "LOCATION" and rng.random() < 0.5:
                relations.add((i, j, "LOCATED_IN"))
    return spans, sorted(relations)


@pytest.mark.parametrize("seed", range(3))
def test_incremental_statistics_equal_a_full_recompute(facts_project, seed):
    rng = random.Random(seed)
    editors = [make_member(facts_project, make_user()) for _ in range(3)]
    articles = [make_article(facts_project, TEXT, editors=editors) for _ in range(5)]
    for _ in range(20):
        article, editor = rng.choice(articles), rng.choice(editors)
        spans, relations = _random_work(rng)
        annotate(article, editor, spans, relations, submit=rng.random() < 0.75)
    incremental = snapshot(facts_project)
    assert incremental[0], "the random work compared at least one article"
    service.recompute_project(facts_project)
    assert snapshot(facts_project) == incremental


def test_the_recompute_command_rebuilds_lost_fact_statistics(facts_project, editor, other_editor):
    article = make_article(facts_project, TEXT, editors=[editor, other_editor])
    annotate(article, editor, [(*FIGURE, {"low": 12}), OFFICIALS], [(0, 1, "SAID_BY")])
    annotate(article, other_editor, [(*FIGURE, {"low": 10}), OFFICIALS], [(0, 1, "SAID_BY")])
    before = snapshot(facts_project)
    ArticleFactAgreement.objects.all()._raw_delete(ArticleFactAgreement.objects.db)
    FactAgreementTotal.objects.all().delete()
    call_command("recompute_agreement", project=facts_project.slug, stdout=io.StringIO())
    assert snapshot(facts_project) == before


def test_a_value_against_none_given_on_the_same_span_is_one_given(
    facts_project, editor, other_editor
):
    article = make_article(facts_project, TEXT, editors=[editor, other_editor])
    annotate(article, editor, [(*FIGURE, {"low": 12}), OFFICIALS])
    annotate(article, other_editor, [FIGURE, OFFICIALS])
    (attributes,) = ArticleFactAgreement.objects.get(article=article).stats["attributes"]
    label = facts_project.labels.get(key="CASUALTY").pk
    assert attributes == {f"{label}:low": [0, 0, 1, 0, 0, 0, 0, {}]}
