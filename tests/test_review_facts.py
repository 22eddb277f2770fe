"""Adjudicating facts: the gold takes attribute values and relations from one editor or
from the majority, the reviewer edits them, and each gold fact records where it came from."""

from __future__ import annotations

import pytest

from annotate.facts.adjudication import (
    MAJORITY,
    EditorFacts,
    pending_relations,
    span_facts,
    values_for,
)
from annotate.models import Annotation, Relation, Role, Span
from annotate.services.annotations import (
    InvalidSpans,
    RelationInput,
    SpanInput,
    annotation_for,
    full_state_of,
    gold_for,
    save_annotation,
)
from annotate.services.review import (
    accept_spans,
    add_gold_relation,
    fact_sources,
    remove_gold_relation,
    set_final,
    set_gold_attributes,
)
from annotate.versioning import RelationKey, SpanKey

from .factories import make_article, make_attribute, make_member, make_relation_type, make_user

# From the sample article's kind of reporting: one figure, two sources.
TEXT = "SANA said 6 people were wounded, The Observatory said in a statement on Monday."


def key_of(text: str, label: str) -> SpanKey:
    start = TEXT.index(text)
    return SpanKey(start, start + len(text), label)


FIGURE = key_of("6 people were wounded", "CASUALTY")
SANA = key_of("SANA", "SOURCE")
OBSERVATORY = key_of("The Observatory", "SOURCE")
SAID_BY_SANA = RelationKey(FIGURE, SANA, "SAID_BY")
SAID_BY_OBSERVATORY = RelationKey(FIGURE, OBSERVATORY, "SAID_BY")


@pytest.fixture
def schema(project):
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_attribute(project, "CASUALTY", "bound", "choice", choices=["exact", "at_least"])
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    return project


@pytest.fixture
def third_editor(project):
    return make_member(project, make_user("cleo"), Role.EDITOR)


@pytest.fixture
def article(schema, editor, other_editor, third_editor):
    return make_article(schema, TEXT, editors=[editor, other_editor, third_editor])


def submit(article, editor, values: dict, source: SpanKey | None) -> None:
    """The editor marks the figure with `values`, both sources, and relates the figure to
    `source` (none when None)."""
    annotation = annotation_for(article, editor)
    spans = [SpanInput(*FIGURE, attributes=values), SpanInput(*SANA), SpanInput(*OBSERVATORY)]
    relations = [] if source is None else [RelationInput(0, 1 if source == SANA else 2, "SAID_BY")]
    save_annotation(
        annotation=annotation,
        author=editor,
        role=Role.EDITOR,
        base_version=annotation.version,
        spans=spans,
        relations=relations,
        status=Annotation.Status.SUBMITTED,
    )


def editor_span_id(article, editor, key: SpanKey) -> int:
    return Span.objects.get(
        annotation__article=article,
        annotation__annotator=editor,
        removed_in__isnull=True,
        start=key.start,
        end=key.end,
        label__key=key.label,
    ).pk


def accept(article, reviewer, editor, keys, facts=MAJORITY):
    gold = gold_for(article)
    return accept_spans(
        article,
        reviewer,
        role=Role.REVIEWER,
        span_ids=[editor_span_id(article, editor, k) for k in keys],
        base_version=gold.version,
        facts=facts,
    )


def gold_state(article):
    return full_state_of(gold_for(article))


@pytest.fixture
def disputed(article, editor, other_editor, third_editor):
    """edith and otto: 6, exact, said by SANA; cleo: at least 6, said by the Observatory."""
    submit(article, editor, {"low": 6, "bound": "exact"}, SANA)
    submit(article, other_editor, {"low": 6, "bound": "exact"}, SANA)
    submit(article, third_editor, {"low": 6, "bound": "at_least"}, OBSERVATORY)
    return article


def test_majority_takes_the_value_most_editors_gave(disputed, reviewer, editor):
    accept(disputed, reviewer, editor, [FIGURE])
    assert gold_state(disputed).attributes_of(FIGURE) == {"low": 6, "bound": "exact"}


def test_majority_relation_enters_the_gold_only_with_both_ends(disputed, reviewer, editor):
    accept(disputed, reviewer, editor, [FIGURE])
    assert gold_state(disputed).relations == frozenset()
    accept(disputed, reviewer, editor, [SANA, OBSERVATORY])
    assert gold_state(disputed).relations == {SAID_BY_SANA}


def test_one_editors_values_and_relations(disputed, reviewer, third_editor):
    accept(disputed, reviewer, third_editor, [FIGURE, SANA, OBSERVATORY], facts="cleo")
    state = gold_state(disputed)
    assert state.attributes_of(FIGURE) == {"low": 6, "bound": "at_least"}
    assert state.relations == {SAID_BY_OBSERVATORY}


def test_a_tie_gives_no_value(article, reviewer, editor, other_editor):
    submit(article, editor, {"low": 6, "bound": "exact"}, SANA)
    submit(article, other_editor, {"low": 6, "bound": "at_least"}, OBSERVATORY)
    accept(article, reviewer, editor, [FIGURE, SANA, OBSERVATORY])
    state = gold_state(article)
    assert state.attributes_of(FIGURE) == {"low": 6}
    # One of two editors is no majority: neither relation goes in.
    assert state.relations == frozenset()


def test_provenance_names_the_editors_of_each_fact(disputed, reviewer, editor):
    accept(disputed, reviewer, editor, [FIGURE, SANA, OBSERVATORY])
    sources = fact_sources(gold_for(disputed))
    assert sources[(*FIGURE, "bound")] == ("edith", "otto")
    assert sources[(*FIGURE, "low")] == ("cleo", "edith", "otto")
    assert sources[(SAID_BY_SANA,)] == ("edith", "otto")


def test_reviewer_edits_are_recorded_as_the_reviewers(disputed, reviewer, editor):
    accept(disputed, reviewer, editor, [FIGURE, SANA, OBSERVATORY])
    gold = gold_for(disputed)
    figure = gold.current_spans().get(start=FIGURE.start, label__key="CASUALTY")
    observatory = gold.current_spans().get(start=OBSERVATORY.start)
    set_gold_attributes(
        disputed,
        reviewer,
        role=Role.REVIEWER,
        span_id=figure.pk,
        attributes={"low": 6, "bound": "at_least"},
        base_version=gold.version,
    )
    gold.refresh_from_db()
    # New values are a new span row under the same key.
    figure = gold.current_spans().get(start=FIGURE.start, label__key="CASUALTY")
    add_gold_relation(
        disputed,
        reviewer,
        role=Role.REVIEWER,
        from_span_id=figure.pk,
        to_span_id=observatory.pk,
        type="SAID_BY",
        base_version=gold.version,
    )
    state = gold_state(disputed)
    assert state.attributes_of(FIGURE) == {"low": 6, "bound": "at_least"}
    assert state.relations == {SAID_BY_SANA, SAID_BY_OBSERVATORY}
    sources = fact_sources(gold)
    assert sources[(*FIGURE, "bound")] == ()
    assert sources[(SAID_BY_OBSERVATORY,)] == ()
    assert sources[(SAID_BY_SANA,)] == ("edith", "otto")


def test_reviewer_removes_a_gold_relation(disputed, reviewer, editor):
    accept(disputed, reviewer, editor, [FIGURE, SANA, OBSERVATORY])
    gold = gold_for(disputed)
    row = Relation.objects.filter(annotation=gold).current().get()
    remove_gold_relation(
        disputed, reviewer, role=Role.REVIEWER, relation_id=row.pk, base_version=gold.version
    )
    assert gold_state(disputed).relations == frozenset()


def test_facts_from_someone_who_did_not_submit_are_refused(disputed, reviewer, editor):
    with pytest.raises(InvalidSpans, match="majority or from an editor"):
        accept(disputed, reviewer, editor, [FIGURE], facts="mallory")


def test_editors_cannot_edit_gold_facts(disputed, reviewer, editor):
    from annotate.services.annotations import NotAllowed

    accept(disputed, reviewer, editor, [FIGURE])
    gold = gold_for(disputed)
    figure = gold.current_spans().get()
    with pytest.raises(NotAllowed):
        set_gold_attributes(
            disputed,
            editor,
            role=Role.EDITOR,
            span_id=figure.pk,
            attributes={"low": 7},
            base_version=gold.version,
        )


def test_marking_final_needs_required_attributes(project, article, reviewer, editor):
    submit(article, editor, {"low": 6}, SANA)
    accept(article, reviewer, editor, [FIGURE])
    # Made required after the editor submitted: the gold must still give it to be final.
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed"], required=True)
    with pytest.raises(InvalidSpans, match="(?i)kind"):
        set_final(
            article,
            reviewer,
            role=Role.REVIEWER,
            final=True,
            base_version=gold_for(article).version,
        )


# --- The pure rules ----------------------------------------------------------------------

FACTS = {
    "edith": EditorFacts(
        frozenset({FIGURE, SANA}), {FIGURE: {"low": 6}}, frozenset({SAID_BY_SANA})
    ),
    "otto": EditorFacts(frozenset({FIGURE, SANA}), {FIGURE: {"low": 7}}, frozenset()),
}


def test_majority_tie_is_reported_as_such():
    chosen = values_for(FIGURE, FACTS, MAJORITY)
    assert chosen.values == {} and chosen.ties == ("low",)


def test_span_facts_mark_what_differs():
    views = {v.editor: v for v in span_facts(FIGURE, FACTS)}
    assert views["edith"].values == (("low", 6, True),)
    assert views["edith"].relations == ((SAID_BY_SANA, True),)
    assert views["otto"].relations == ()


def test_a_relation_waits_for_its_second_end():
    assert pending_relations([FIGURE], FACTS) == [SAID_BY_SANA]
    assert pending_relations([FIGURE, SANA], FACTS) == []


def test_a_relation_the_majority_left_out_can_be_accepted(disputed, reviewer, editor):
    from annotate.services.review import accept_relation

    accept(disputed, reviewer, editor, [FIGURE, SANA, OBSERVATORY])
    accept_relation(
        disputed,
        reviewer,
        role=Role.REVIEWER,
        relation=SAID_BY_OBSERVATORY,
        base_version=gold_for(disputed).version,
    )
    assert gold_state(disputed).relations == {SAID_BY_SANA, SAID_BY_OBSERVATORY}
    assert fact_sources(gold_for(disputed))[(SAID_BY_OBSERVATORY,)] == ("cleo",)


def test_a_relation_needs_both_ends_in_the_gold(disputed, reviewer, editor):
    from annotate.services.review import accept_relation

    accept(disputed, reviewer, editor, [FIGURE])
    with pytest.raises(InvalidSpans, match="both ends"):
        accept_relation(
            disputed,
            reviewer,
            role=Role.REVIEWER,
            relation=SAID_BY_SANA,
            base_version=gold_for(disputed).version,
        )
