"""Reviewers' writes to the gold, and the review queue."""

from __future__ import annotations

import uuid

import pytest

from annotate.models import Annotation, AnnotationVersion, ArticleAgreement, Role, Span
from annotate.services.annotations import (
    InvalidSpans,
    Locked,
    NotAllowed,
    SpanInput,
    StaleVersion,
    annotation_for,
    gold_for,
    save_annotation,
)
from annotate.services.review import (
    SpanGone,
    accept_agreed,
    accept_spans,
    add_gold_span,
    relabel_gold_span,
    remove_gold_span,
    review_queue,
    review_state,
    set_final,
)

from .factories import make_annotation, make_article, make_member, make_user

TEXT = "Rebels shelled Aleppo on Monday, the ministry said."
#       0     6       14     21 24    31   36       45
REBELS, ALEPPO, MONDAY, MINISTRY = (0, 6), (15, 21), (25, 31), (33, 45)


@pytest.fixture
def third_editor(project):
    return make_member(project, make_user("cleo"), Role.EDITOR)


@pytest.fixture
def article(project, editor, other_editor):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(
        article,
        editor,
        [(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION"), (*MINISTRY, "SOURCE")],
        submit=True,
    )
    make_annotation(article, other_editor, [(*REBELS, "ACTOR"), (*ALEPPO, "ACTOR")], submit=True)
    return article


def editor_span(article, editor, start, end, label):
    return Span.objects.get(
        annotation__article=article,
        annotation__annotator=editor,
        start=start,
        end=end,
        label__key=label,
        removed_in__isnull=True,
    )


def gold_keys(article):
    return {(s.start, s.end, s.label.key) for s in gold_for(article).current_spans()}


def accept(article, reviewer, *spans, base=0, **kwargs):
    return accept_spans(
        article,
        reviewer,
        role=Role.REVIEWER,
        span_ids=[s.pk for s in spans],
        base_version=base,
        **kwargs,
    )


def test_accepting_a_span_records_its_source(article, editor, reviewer):
    chosen = editor_span(article, editor, *MINISTRY, "SOURCE")
    result = accept(article, reviewer, chosen, note="the ministry is the source")
    assert result.created and result.version.number == 1
    (gold_span,) = gold_for(article).current_spans()
    assert (gold_span.start, gold_span.end, gold_span.label.key) == (*MINISTRY, "SOURCE")
    assert gold_span.source_id == chosen.pk and gold_span.text == "the ministry"
    assert result.version.note == "the ministry is the source"


def test_gold_version_names_the_editor_versions_it_was_built_from(
    article, editor, other_editor, reviewer
):
    result = accept(article, reviewer, editor_span(article, editor, *REBELS, "ACTOR"))
    assert result.version.summary["from"] == {"edith": 1, "otto": 1}
    assert result.version.summary["action"] == "accept"
    assert result.version.summary["added"] == {"ACTOR": 1}


def test_accept_agreed_takes_spans_every_editor_marked(article, reviewer):
    result, selection = accept_agreed(
        article, reviewer, role=Role.REVIEWER, min_editors=2, base_version=0
    )
    assert gold_keys(article) == {(*REBELS, "ACTOR")}
    assert result.version.summary["min_editors"] == 2
    # ALEPPO is LOCATION for one editor and ACTOR for the other: neither has two editors.
    assert selection.held_back == []
    assert len(selection.accepted) == 1


def test_accept_agreed_with_a_majority_of_three(article, project, third_editor, reviewer):
    from annotate.models import Assignment

    Assignment.objects.create(article=article, editor=third_editor)
    make_annotation(
        article, third_editor, [(*ALEPPO, "LOCATION"), (*MONDAY, "SOURCE")], submit=True
    )
    _, selection = accept_agreed(
        article, reviewer, role=Role.REVIEWER, min_editors=2, base_version=0
    )
    assert gold_keys(article) == {(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION")}
    assert selection.held_back == []
    source = gold_for(article).current_spans().get(label__key="LOCATION").source
    assert source.annotation.annotator.username == "cleo"  # first supporter by name


def test_accept_agreed_holds_back_a_tie(article, reviewer):
    _, selection = accept_agreed(
        article, reviewer, role=Role.REVIEWER, min_editors=1, base_version=0
    )
    assert gold_keys(article) == {(*REBELS, "ACTOR"), (*MINISTRY, "SOURCE")}
    assert {(c.key.start, c.key.label) for c, _ in selection.held_back} == {
        (ALEPPO[0], "LOCATION"),
        (ALEPPO[0], "ACTOR"),
    }


@pytest.mark.parametrize("k", [0, 3, -1])
def test_accept_agreed_refuses_an_impossible_number_of_editors(article, reviewer, k):
    with pytest.raises(InvalidSpans, match="between 1 and 2"):
        accept_agreed(article, reviewer, role=Role.REVIEWER, min_editors=k, base_version=0)
    assert not AnnotationVersion.objects.filter(annotation__kind="gold").exists()


def test_final_gold_locks_editors(article, editor, reviewer):
    accept(article, reviewer, editor_span(article, editor, *REBELS, "ACTOR"))
    set_final(article, reviewer, role=Role.REVIEWER, final=True, base_version=1)
    own = annotation_for(article, editor)
    with pytest.raises(Locked, match="final"):
        save_annotation(
            annotation=own,
            author=editor,
            role=Role.EDITOR,
            base_version=own.version,
            spans=[SpanInput(*REBELS, "ACTOR")],
        )


def test_final_gold_refuses_changes_until_reopened(article, editor, reviewer):
    set_final(article, reviewer, role=Role.REVIEWER, final=True, base_version=0)
    with pytest.raises(Locked, match="reopen"):
        accept(article, reviewer, editor_span(article, editor, *REBELS, "ACTOR"), base=1)
    assert gold_keys(article) == set()


def test_reopening_makes_a_new_version_and_keeps_history(article, editor, reviewer):
    accept(article, reviewer, editor_span(article, editor, *REBELS, "ACTOR"))
    set_final(article, reviewer, role=Role.REVIEWER, final=True, base_version=1, note="done")
    result = set_final(
        article, reviewer, role=Role.REVIEWER, final=False, base_version=2, note="missed a source"
    )
    gold = gold_for(article)
    assert result.version.number == 3 and not gold.final
    assert [(v.number, v.final, v.summary["action"]) for v in gold.versions.all()] == [
        (1, False, "accept"),
        (2, True, "final"),
        (3, False, "reopen"),
    ]
    assert gold_keys(article) == {(*REBELS, "ACTOR")}
    accept(article, reviewer, editor_span(article, editor, *MINISTRY, "SOURCE"), base=3)
    assert gold_for(article).version == 4


def test_stale_base_version_is_rejected_and_nothing_is_written(article, editor, reviewer, manager):
    accept(article, manager, editor_span(article, editor, *REBELS, "ACTOR"))
    with pytest.raises(StaleVersion) as caught:
        accept(article, reviewer, editor_span(article, editor, *MINISTRY, "SOURCE"), base=0)
    assert caught.value.current_version == 1 and "Reload" in caught.value.detail
    assert gold_keys(article) == {(*REBELS, "ACTOR")}


def test_double_click_is_idempotent(article, editor, reviewer):
    key = uuid.uuid4()
    chosen = editor_span(article, editor, *MINISTRY, "SOURCE")
    first = accept(article, reviewer, chosen, request_key=key)
    second = accept(article, reviewer, chosen, request_key=key)  # same stale base 0
    assert first.created and not second.created
    assert second.version.pk == first.version.pk
    assert gold_for(article).versions.count() == 1


def test_accepting_a_span_already_in_the_gold_changes_nothing(
    article, editor, other_editor, reviewer
):
    accept(article, reviewer, editor_span(article, editor, *REBELS, "ACTOR"))
    again = accept(article, reviewer, editor_span(article, other_editor, *REBELS, "ACTOR"), base=1)
    assert not again.created and gold_for(article).version == 1


def test_a_span_its_editor_removed_cannot_be_accepted(article, editor, reviewer):
    chosen = editor_span(article, editor, *MINISTRY, "SOURCE")
    own = annotation_for(article, editor)
    save_annotation(
        annotation=own,
        author=editor,
        role=Role.EDITOR,
        base_version=own.version,
        spans=[SpanInput(*REBELS, "ACTOR")],
    )
    with pytest.raises(SpanGone, match="edith changed"):
        accept(article, reviewer, chosen)
    assert gold_keys(article) == set()


def test_a_span_of_another_article_cannot_be_accepted(article, project, editor, reviewer):
    other = make_article(project, TEXT, editors=[editor])
    make_annotation(other, editor, [(*REBELS, "ACTOR")], submit=True)
    foreign = editor_span(other, editor, *REBELS, "ACTOR")
    with pytest.raises(InvalidSpans, match="no editor span"):
        accept(article, reviewer, foreign)


def test_editors_cannot_write_the_gold(article, editor):
    with pytest.raises(NotAllowed):
        accept_spans(
            article,
            editor,
            role=Role.EDITOR,
            span_ids=[editor_span(article, editor, *REBELS, "ACTOR").pk],
            base_version=0,
        )


def test_reviewer_adds_removes_and_relabels_gold_spans(article, other_editor, reviewer):
    add_gold_span(
        article,
        reviewer,
        role=Role.REVIEWER,
        start=ALEPPO[0],
        end=ALEPPO[1],
        label="ACTOR",
        base_version=0,
    )
    added = gold_for(article).current_spans().get()
    # otto marked exactly this span, so it is recorded as the source.
    assert added.source_id == editor_span(article, other_editor, *ALEPPO, "ACTOR").pk

    relabel_gold_span(
        article, reviewer, role=Role.REVIEWER, span_id=added.pk, label="LOCATION", base_version=1
    )
    relabelled = gold_for(article).current_spans().get()
    assert relabelled.label.key == "LOCATION"
    assert relabelled.source.annotation.annotator.username == "edith"

    add_gold_span(
        article, reviewer, role=Role.REVIEWER, start=25, end=31, label="SOURCE", base_version=2
    )
    assert gold_for(article).current_spans().get(start=25).source_id is None

    remove_gold_span(article, reviewer, role=Role.REVIEWER, span_id=relabelled.pk, base_version=3)
    assert gold_keys(article) == {(*MONDAY, "SOURCE")}
    assert [v.summary["action"] for v in gold_for(article).versions.all()] == [
        "add",
        "relabel",
        "add",
        "remove",
    ]


def test_relabel_to_an_unknown_label_is_refused(article, editor, reviewer):
    accept(article, reviewer, editor_span(article, editor, *REBELS, "ACTOR"))
    span = gold_for(article).current_spans().get()
    with pytest.raises(InvalidSpans, match="not a label"):
        relabel_gold_span(
            article, reviewer, role=Role.REVIEWER, span_id=span.pk, label="WEAPON", base_version=1
        )


def test_removing_a_span_someone_else_already_removed_is_stale(article, editor, reviewer, manager):
    accept(article, reviewer, editor_span(article, editor, *REBELS, "ACTOR"))
    span = gold_for(article).current_spans().get()
    remove_gold_span(article, manager, role=Role.MANAGER, span_id=span.pk, base_version=1)
    with pytest.raises(StaleVersion):
        remove_gold_span(article, reviewer, role=Role.REVIEWER, span_id=span.pk, base_version=1)


def test_review_state_groups_candidates_and_names_sources(article, editor, reviewer):
    accept(article, reviewer, editor_span(article, editor, *REBELS, "ACTOR"))
    state = review_state(article)
    assert [w.username for w in state.editors] == ["edith", "otto"]
    assert state.editor_versions == {"edith": 1, "otto": 1}
    assert [(c.key.label, c.agreement, c.in_gold) for c in state.candidates] == [
        ("ACTOR", "all", True),
        ("ACTOR", "single", False),
        ("LOCATION", "single", False),
        ("SOURCE", "single", False),
    ]
    assert state.gold_spans[0].source_editor == "edith"


def test_review_state_of_an_unreviewed_article_writes_nothing(article):
    review_state(article)
    assert not Annotation.objects.gold().exists()


def test_review_state_lists_editors_who_have_not_submitted(project, editor, other_editor):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(article, editor, [(*REBELS, "ACTOR")])
    state = review_state(article)
    assert state.editors == []
    assert state.waiting == [("edith", "in progress"), ("otto", "not started")]


# --- the queue ---


def make_reviewed(project, editors, spans_each, **kwargs):
    article = make_article(project, TEXT, editors=editors, **kwargs)
    for editor, spans in zip(editors, spans_each, strict=True):
        make_annotation(article, editor, spans, submit=True)
    return article


def test_queue_has_only_articles_every_assigned_editor_submitted(project, editor, other_editor):
    ready = make_reviewed(project, [editor, other_editor], [[], []])
    half = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(half, editor, [(*REBELS, "ACTOR")], submit=True)
    make_article(project, TEXT)  # nobody assigned
    assert [r.article for r in review_queue(project)] == [ready]


def test_queue_puts_lowest_agreement_first(project, editor, other_editor):
    same = [(*REBELS, "ACTOR")]
    agreed = make_reviewed(project, [editor, other_editor], [same, same])
    disputed = make_reviewed(project, [editor, other_editor], [same, [(*ALEPPO, "ACTOR")]])
    halfway = make_reviewed(project, [editor, other_editor], [same, [*same, (*ALEPPO, "ACTOR")]])
    empty = make_reviewed(project, [editor, other_editor], [[], []])
    rows = review_queue(project)
    assert [r.article for r in rows] == [disputed, halfway, agreed, empty]
    # The score is the agreement statistics' own: Krippendorff's alpha over tokens.
    stored = dict(ArticleAgreement.objects.filter(unit="token").values_list("article_id", "score"))
    assert [r.score for r in rows] == [stored[r.article.pk] for r in rows]
    assert rows[0].score < rows[1].score < rows[2].score == 1.0 and rows[3].score is None
    assert rows[0].editors == [("edith", 1), ("otto", 1)]


def test_queue_filters_by_label_editor_and_status(project, editor, other_editor, reviewer):
    third = make_member(project, make_user("cleo"), Role.EDITOR)
    located = make_reviewed(project, [editor, other_editor], [[(*ALEPPO, "LOCATION")], []])
    with_cleo = make_reviewed(project, [editor, third], [[(*REBELS, "ACTOR")], []])
    assert [r.article for r in review_queue(project, label="LOCATION")] == [located]
    assert [r.article for r in review_queue(project, editor=third)] == [with_cleo]

    set_final(located, reviewer, role=Role.REVIEWER, final=True, base_version=0)
    accept_agreed(with_cleo, reviewer, role=Role.REVIEWER, min_editors=1, base_version=0)
    assert [r.article for r in review_queue(project)] == [with_cleo]
    assert [r.article for r in review_queue(project, status="final")] == [located]
    assert [r.article for r in review_queue(project, status="in_review")] == [with_cleo]
    assert review_queue(project, status="pending") == []
    assert {r.article for r in review_queue(project, status="all")} == {located, with_cleo}
    assert [r.status for r in review_queue(project, status="final")] == ["final"]


def test_queue_refuses_an_unknown_status(project):
    with pytest.raises(InvalidSpans, match="Unknown status"):
        review_queue(project, status="done")


def test_review_state_says_which_editors_changed_since_the_last_decision(
    project, editor, other_editor, reviewer
):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(article, editor, [(*REBELS, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(*REBELS, "ACTOR")], submit=True)
    accept_agreed(article, reviewer, role=Role.REVIEWER, min_editors=2, base_version=0)
    assert review_state(article).decided_on == {"edith": 1, "otto": 1}
    assert review_state(article).changed_since == []
    own = annotation_for(article, other_editor)
    save_annotation(
        annotation=own,
        author=other_editor,
        role=Role.EDITOR,
        base_version=own.version,
        spans=[SpanInput(*REBELS, "ACTOR"), SpanInput(*MINISTRY, "SOURCE")],
    )
    assert review_state(article).changed_since == ["otto"]
