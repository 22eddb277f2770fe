"""Facts through the one write path: attributes and relations are part of an annotation's
versioned state (version, staleness, restore, undo, lossless version-1 writes)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate.models import AnnotationVersion, Relation, Role, Span
from annotate.services import labelling
from annotate.services.annotations import (
    InvalidSpans,
    RelationInput,
    SpanInput,
    StaleVersion,
    annotation_for,
    full_state_of,
    gold_for,
    restore_version,
    save_annotation,
)
from annotate.versioning import RelationKey, SpanKey, describe

from .factories import make_article, make_attribute, make_relation_type

# From the sample article: a casualty figure and the source that gives it.
TEXT = (
    "The ministry said at least six more were wounded in the attack on Tuesday, "
    "according to a statement."
)
FIGURE = SpanKey(18, 48, "CASUALTY")  # "at least six more were wounded"
MINISTRY = SpanKey(4, 12, "SOURCE")  # "ministry"
TUESDAY = SpanKey(66, 73, "LOCATION")  # a LOCATION span, for labels SAID_BY does not allow
SAID_BY = RelationKey(FIGURE, MINISTRY, "SAID_BY")


@pytest.fixture
def schema(project):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed", "wounded"])
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_attribute(project, "CASUALTY", "certain", "boolean")
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    make_relation_type(project, "NEAR")
    return project


@pytest.fixture
def article(schema, editor):
    return make_article(schema, TEXT, editors=[editor])


def span(key: SpanKey, attributes=None) -> SpanInput:
    return SpanInput(key.start, key.end, key.label, attributes=attributes)


def save(annotation, author, spans, relations=None, base=None, **kwargs):
    return save_annotation(
        annotation=annotation,
        author=author,
        role=kwargs.pop("role", Role.EDITOR),
        base_version=annotation.version if base is None else base,
        spans=spans,
        relations=relations,
        **kwargs,
    )


def first_version(article, editor):
    annotation = annotation_for(article, editor)
    save(
        annotation,
        editor,
        [span(FIGURE, {"kind": "wounded", "low": 6}), span(MINISTRY), span(TUESDAY)],
        [RelationInput(0, 1, "SAID_BY")],
    )
    return annotation


def test_attributes_and_relations_are_stored_with_the_version(article, editor):
    annotation = first_version(article, editor)
    state = full_state_of(annotation)
    assert state.attributes == {FIGURE: {"kind": "wounded", "low": 6}}
    assert state.relations == {SAID_BY}
    assert annotation.version == 1


def test_a_version_that_changes_only_an_attribute_is_a_version(article, editor):
    annotation = first_version(article, editor)
    result = save(annotation, editor, [span(FIGURE, {"kind": "wounded", "low": 7}), span(MINISTRY),
                                       span(TUESDAY)])  # fmt: skip
    assert result.created and result.version.number == 2
    assert describe(result.version.summary) == "CASUALTY.low 6\u21927"
    assert full_state_of(annotation, 1).attributes[FIGURE]["low"] == 6
    assert full_state_of(annotation, 2).attributes[FIGURE]["low"] == 7
    # The old row is closed and a new one added under the same key; the relation stays.
    rows = Span.objects.filter(annotation=annotation, start=FIGURE.start)
    assert sorted((r.added_in, r.removed_in) for r in rows) == [(1, 2), (2, None)]
    assert Relation.objects.get().removed_in is None


def test_a_version_that_changes_only_a_relation_is_a_version(article, editor):
    annotation = first_version(article, editor)
    spans = [span(FIGURE), span(MINISTRY), span(TUESDAY)]
    result = save(annotation, editor, spans, [RelationInput(0, 2, "NEAR")])
    assert result.version.number == 2
    assert describe(result.version.summary) == "+NEAR \u00d71, \u2212SAID_BY \u00d71"
    assert full_state_of(annotation, 1).relations == {SAID_BY}
    assert full_state_of(annotation, 2).relations == {RelationKey(FIGURE, TUESDAY, "NEAR")}
    assert full_state_of(annotation, 2).attributes[FIGURE] == {"kind": "wounded", "low": 6}


def test_the_same_facts_again_make_no_version(article, editor):
    annotation = first_version(article, editor)
    spans = [span(FIGURE, {"low": 6, "kind": "wounded"}), span(MINISTRY), span(TUESDAY)]
    result = save(annotation, editor, spans, [RelationInput(0, 1, "SAID_BY")])
    assert not result.created and annotation.version == 1


def test_a_version_one_write_keeps_attributes_and_relations(article, editor):
    annotation = first_version(article, editor)
    plain = [
        SpanInput(*FIGURE),
        SpanInput(*MINISTRY),
        SpanInput(*TUESDAY),
        SpanInput(0, 3, "ACTOR"),
    ]
    result = save(annotation, editor, plain)
    state = full_state_of(annotation)
    assert result.version.number == 2 and describe(result.version.summary) == "+1 ACTOR"
    assert state.attributes == {FIGURE: {"kind": "wounded", "low": 6}}
    assert state.relations == {SAID_BY}


def test_explicit_empty_attributes_and_relations_replace(article, editor):
    annotation = first_version(article, editor)
    save(annotation, editor, [span(FIGURE, {}), span(MINISTRY), span(TUESDAY)], [])
    state = full_state_of(annotation)
    assert state.attributes == {} and state.relations == frozenset()


def test_deleting_a_span_deletes_its_relations_in_the_same_version(article, editor):
    annotation = first_version(article, editor)
    result = save(annotation, editor, [SpanInput(*FIGURE), SpanInput(*TUESDAY)])
    assert result.version.number == 2
    assert full_state_of(annotation).relations == frozenset()
    assert result.version.summary["relations"] == {"added": {}, "removed": {"SAID_BY": 1}}
    assert Relation.objects.get().removed_in == 2


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"kind": "missing"}, "Span 0: attribute kind must be one of killed, wounded"),
        ({"low": True}, "Span 0: attribute low must be an integer, not true"),
        ({"low": -2}, "Span 0: attribute low must be at least 0"),
        ({"casualties": 3}, "Span 0: attribute 'casualties' is not an attribute of CASUALTY"),
        ("six", "Span 0: attributes must be an object"),
    ],
)
def test_attributes_that_do_not_fit_are_refused_and_nothing_is_written(
    article, editor, attributes, message
):
    with pytest.raises(InvalidSpans, match=message) as caught:
        save(annotation_for(article, editor), editor, [span(FIGURE, attributes), span(MINISTRY)])
    assert caught.value.errors[0]["index"] == 0
    assert not Span.objects.exists() and not AnnotationVersion.objects.exists()


@pytest.mark.parametrize(
    ("relation", "message"),
    [
        (RelationInput(0, 5, "SAID_BY"), "to must be the index of a span"),
        (RelationInput(1, 0, "SAID_BY"), "SAID_BY cannot start from a SOURCE span"),
        (RelationInput(0, 2, "SAID_BY"), "SAID_BY cannot end at a LOCATION span"),
        (RelationInput(0, 1, "QUOTES"), "'QUOTES' is not a relation type of this project"),
        (RelationInput(0, 0, "NEAR"), "from a span to itself"),
        (RelationInput(0, 1, "SAID_BY"), "appears twice"),
    ],
)
def test_bad_relations_are_refused_by_index_and_nothing_is_written(
    article, editor, relation, message
):
    spans = [span(FIGURE), span(MINISTRY), span(TUESDAY)]
    with pytest.raises(InvalidSpans, match=message) as caught:
        save(annotation_for(article, editor), editor, spans, [RelationInput(0, 1, "SAID_BY"),
                                                              relation])  # fmt: skip
    assert caught.value.errors == [{"relation": 1, "detail": caught.value.errors[0]["detail"]}]
    assert not Relation.objects.exists() and not AnnotationVersion.objects.exists()


def test_a_stale_attribute_change_is_refused(article, editor):
    annotation = first_version(article, editor)
    save(annotation, editor, [span(FIGURE, {"low": 7}), span(MINISTRY), span(TUESDAY)])
    with pytest.raises(StaleVersion) as caught:
        save(annotation, editor, [span(FIGURE, {"low": 8}), span(MINISTRY), span(TUESDAY)], base=1)
    assert caught.value.current_version == 2
    assert full_state_of(annotation).attributes[FIGURE] == {"low": 7}


def test_a_stale_relation_change_is_refused(article, editor):
    annotation = first_version(article, editor)
    spans = [span(FIGURE), span(MINISTRY), span(TUESDAY)]
    save(annotation, editor, spans, [])
    with pytest.raises(StaleVersion):
        save(annotation, editor, spans, [RelationInput(0, 2, "NEAR")], base=1)
    assert full_state_of(annotation).relations == frozenset()


def test_restore_brings_back_attributes_and_relations(article, editor):
    annotation = first_version(article, editor)
    save(annotation, editor, [span(FIGURE, {"low": 9}), span(MINISTRY), span(TUESDAY)], [])
    result = restore_version(
        annotation=annotation, author=editor, role=Role.EDITOR, number=1, base_version=2
    )
    assert result.version.number == 3 and result.version.restored_from == 1
    assert full_state_of(annotation, 3) == full_state_of(annotation, 1)


def test_required_attributes_are_enforced_only_when_submitting(article, editor, project):
    make_attribute(project, "CASUALTY", "qualifier", "text", required=True)
    annotation = annotation_for(article, editor)
    save(annotation, editor, [span(FIGURE, {"low": 6})])  # in progress: fine
    with pytest.raises(InvalidSpans, match="Span 0: CASUALTY 18:48 needs attribute qualifier"):
        save(annotation, editor, [span(FIGURE)], status="submitted")
    assert annotation.version == 1
    save(annotation, editor, [span(FIGURE, {"low": 6, "qualifier": "at least"})],
         status="submitted")  # fmt: skip
    assert annotation.status == "submitted"


def test_required_attributes_are_enforced_when_making_the_gold_final(article, reviewer, project):
    make_attribute(project, "CASUALTY", "qualifier", "text", required=True)
    gold = gold_for(article)
    save(gold, reviewer, [span(FIGURE)], role=Role.REVIEWER)
    with pytest.raises(InvalidSpans, match="before making the gold final"):
        save(gold, reviewer, [span(FIGURE)], role=Role.REVIEWER, final=True)
    assert not gold.final


def test_a_removed_attribute_definition_leaves_stored_values(article, editor, project):
    annotation = first_version(article, editor)
    project.labels.get(key="CASUALTY").attributes.filter(key="low").delete()
    assert full_state_of(annotation).attributes[FIGURE] == {"kind": "wounded", "low": 6}
    # A version-1 write keeps them as they are; only a new value is checked.
    save(annotation, editor, [SpanInput(*FIGURE), SpanInput(*MINISTRY)])
    assert full_state_of(annotation).attributes[FIGURE] == {"kind": "wounded", "low": 6}


def test_save_query_count_does_not_grow_with_spans_and_relations(project, editor, schema):
    text = "word " * 400

    def queries(n: int) -> int:
        article = make_article(project, text, editors=[editor])
        annotation = annotation_for(article, editor)
        keys = [SpanKey(i * 10, i * 10 + 4, "CASUALTY" if i % 2 else "SOURCE") for i in range(n)]
        spans = [span(k, {"low": i} if k.label == "CASUALTY" else None) for i, k in enumerate(keys)]
        relations = [RelationInput(i, i - 1, "SAID_BY") for i in range(1, n, 2)]
        save(annotation, editor, spans, relations)
        spans = [span(k, {"low": i + 1} if k.label == "CASUALTY" else None)
                 for i, k in enumerate(keys)]  # fmt: skip
        relations = [RelationInput(i - 1, i, "NEAR") for i in range(1, n, 2)]
        with CaptureQueriesContext(connection) as captured:
            save(annotation, editor, spans, relations)
        return len(captured)

    assert queries(4) == queries(40)


# The labelling page's single changes


def ids(annotation) -> dict[SpanKey, int]:
    return {SpanKey(s.start, s.end, s.label.key): s.pk for s in annotation.current_spans()}


def test_set_span_attributes_makes_one_version_and_keeps_relations(article, editor):
    annotation = first_version(article, editor)
    result = labelling.set_span_attributes(
        article=article, author=editor, role=Role.EDITOR, base_version=1,
        span_id=ids(annotation)[FIGURE], attributes={"kind": "killed", "low": None},
    )  # fmt: skip
    assert result.version.number == 2
    state = full_state_of(annotation_for(article, editor))
    assert state.attributes == {FIGURE: {"kind": "killed"}} and state.relations == {SAID_BY}


def test_set_span_attributes_names_a_value_that_does_not_fit(article, editor):
    annotation = first_version(article, editor)
    with pytest.raises(InvalidSpans, match="low must be at least 0"):
        labelling.set_span_attributes(
            article=article, author=editor, role=Role.EDITOR, base_version=1,
            span_id=ids(annotation)[FIGURE], attributes={"low": -1},
        )  # fmt: skip


def test_add_and_remove_relation_make_one_version_each(article, editor):
    annotation = first_version(article, editor)
    spans = ids(annotation)
    labelling.add_relation(
        article=article, author=editor, role=Role.EDITOR, base_version=1,
        from_span_id=spans[FIGURE], to_span_id=spans[TUESDAY], type="NEAR",
    )  # fmt: skip
    near = RelationKey(FIGURE, TUESDAY, "NEAR")
    annotation = annotation_for(article, editor)
    assert full_state_of(annotation).relations == {SAID_BY, near}
    rows = {row.pk: row for row in labelling.current_relation_rows(annotation)}
    said_by = next(pk for pk, row in rows.items() if row.type == "SAID_BY")
    result = labelling.remove_relation(
        article=article, author=editor, role=Role.EDITOR, base_version=2, relation_id=said_by
    )
    assert result.version.number == 3
    assert full_state_of(annotation_for(article, editor)).relations == {near}


def test_add_relation_refuses_labels_the_type_does_not_allow(article, editor):
    annotation = first_version(article, editor)
    spans = ids(annotation)
    with pytest.raises(InvalidSpans, match="SAID_BY cannot end at a LOCATION span"):
        labelling.add_relation(
            article=article, author=editor, role=Role.EDITOR, base_version=1,
            from_span_id=spans[FIGURE], to_span_id=spans[TUESDAY], type="SAID_BY",
        )  # fmt: skip


def test_a_fact_change_from_a_stale_page_is_merged_when_it_touches_other_spans(article, editor):
    annotation = first_version(article, editor)
    spans = ids(annotation)
    labelling.add_span(
        article=article, author=editor, role=Role.EDITOR, base_version=1,
        span=SpanInput(0, 3, "ACTOR"),
    )  # fmt: skip
    result = labelling.set_span_attributes(
        article=article, author=editor, role=Role.EDITOR, base_version=1,
        span_id=spans[FIGURE], attributes={"kind": "killed"},
    )  # fmt: skip
    assert result.merged and annotation_for(article, editor).version == 3
    state = full_state_of(annotation_for(article, editor))
    assert SpanKey(0, 3, "ACTOR") in state.spans and state.attributes[FIGURE] == {"kind": "killed"}


def test_undo_undoes_an_attribute_change_and_a_relation_change(article, editor):
    annotation = first_version(article, editor)
    spans = ids(annotation)
    labelling.set_span_attributes(
        article=article, author=editor, role=Role.EDITOR, base_version=1,
        span_id=spans[FIGURE], attributes={"kind": "killed"},
    )  # fmt: skip
    labelling.undo(article=article, author=editor, role=Role.EDITOR, base_version=2)
    assert full_state_of(annotation_for(article, editor)) == full_state_of(annotation, 1)
    rows = labelling.current_relation_rows(annotation_for(article, editor))
    labelling.remove_relation(
        article=article, author=editor, role=Role.EDITOR, base_version=3, relation_id=rows[0].pk
    )
    labelling.undo(article=article, author=editor, role=Role.EDITOR, base_version=4)
    assert full_state_of(annotation_for(article, editor)).relations == {SAID_BY}


def test_deleting_a_span_on_the_page_drops_its_relations(article, editor):
    annotation = first_version(article, editor)
    labelling.remove_span(
        article=article, author=editor, role=Role.EDITOR, base_version=1,
        span_id=ids(annotation)[MINISTRY],
    )  # fmt: skip
    assert full_state_of(annotation_for(article, editor)).relations == frozenset()


def test_deleting_the_article_takes_its_relations_along(article, editor):
    first_version(article, editor)
    article.delete()
    assert not Relation.objects.exists() and not Span.objects.exists()


def test_restore_and_undo_reproduce_facts_the_schema_no_longer_fits(article, editor, project):
    from annotate.models import RelationType

    annotation = first_version(article, editor)
    save(annotation, editor, [span(FIGURE, {}), span(MINISTRY), span(TUESDAY)], [])
    project.labels.get(key="CASUALTY").attributes.filter(key="low").delete()
    RelationType.objects.get(key="SAID_BY").to_labels.set(project.labels.filter(key="ACTOR"))
    restore_version(
        annotation=annotation, author=editor, role=Role.EDITOR, number=1, base_version=2
    )
    assert full_state_of(annotation) == full_state_of(annotation, 1)
    save(annotation, editor, [span(FIGURE, {}), span(MINISTRY), span(TUESDAY)], [])
    labelling.undo(article=article, author=editor, role=Role.EDITOR, base_version=4)
    assert full_state_of(annotation_for(article, editor)) == full_state_of(annotation, 1)
