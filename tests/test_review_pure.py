"""Grouping editors' spans into gold candidates, and choosing what a majority accepts."""

from __future__ import annotations

import itertools

import pytest

from annotate.candidates import (
    EditorSpan,
    agreement_of,
    candidates,
    conflict_between,
    majority_selection,
)
from annotate.versioning import SpanKey

_ids = itertools.count(1)


def work(**by_editor):
    """`work(ann=[(0, 4, "ACTOR")], bob=[])` -> spans by editor, with fresh span ids."""
    return {
        editor: [EditorSpan(next(_ids), editor, s, e, label) for s, e, label in spans]
        for editor, spans in by_editor.items()
    }


def by_key(found):
    return {(c.key.start, c.key.end, c.key.label): c for c in found}


@pytest.mark.parametrize(
    "support, total, expected",
    [
        (2, 2, "all"),
        (3, 3, "all"),
        (2, 3, "majority"),
        (3, 4, "majority"),
        (2, 4, "some"),
        (2, 5, "some"),
        (1, 2, "single"),
        (1, 1, "single"),
    ],
)
def test_agreement_is_named_by_share_of_editors(support, total, expected):
    assert agreement_of(support, total) == expected


def test_identical_spans_of_several_editors_are_one_candidate():
    found = candidates(
        work(
            ann=[(0, 4, "ACTOR"), (10, 16, "LOCATION")],
            bob=[(0, 4, "ACTOR")],
            cy=[(0, 4, "ACTOR"), (10, 16, "LOCATION")],
        )
    )
    assert [c.key for c in found] == [SpanKey(0, 4, "ACTOR"), SpanKey(10, 16, "LOCATION")]
    actor, location = found
    assert actor.editors == ("ann", "bob", "cy") and actor.agreement == "all"
    assert location.editors == ("ann", "cy") and location.agreement == "majority"


def test_editor_without_spans_still_counts_in_the_total():
    (only,) = candidates(work(ann=[(0, 4, "ACTOR")], bob=[]))
    assert only.support == 1 and only.total == 2 and only.agreement == "single"


def test_source_is_the_first_supporters_span():
    spans = work(zed=[(0, 4, "ACTOR")], amy=[(0, 4, "ACTOR")])
    (c,) = candidates(spans)
    assert c.source == spans["amy"][0]


def test_same_offsets_with_another_label_is_a_label_conflict():
    found = by_key(candidates(work(ann=[(0, 4, "ACTOR")], bob=[(0, 4, "LOCATION")])))
    assert found[0, 4, "ACTOR"].label_conflicts == [SpanKey(0, 4, "LOCATION")]
    assert found[0, 4, "LOCATION"].label_conflicts == [SpanKey(0, 4, "ACTOR")]
    assert all(c.conflicted for c in found.values())


def test_same_label_with_other_boundaries_is_an_overlap_conflict():
    found = by_key(candidates(work(ann=[(0, 20, "ACTOR")], bob=[(6, 20, "ACTOR")])))
    assert found[0, 20, "ACTOR"].overlap_conflicts == [SpanKey(6, 20, "ACTOR")]
    assert found[6, 20, "ACTOR"].overlap_conflicts == [SpanKey(0, 20, "ACTOR")]


def test_nested_spans_of_different_labels_do_not_conflict():
    found = candidates(
        work(ann=[(0, 30, "ACTOR"), (20, 26, "LOCATION")], bob=[(20, 26, "LOCATION")])
    )
    assert not any(c.conflicted for c in found)


def test_adjacent_spans_of_one_label_do_not_conflict():
    found = candidates(work(ann=[(0, 4, "ACTOR")], bob=[(4, 9, "ACTOR")]))
    assert not any(c.conflicted for c in found)


def test_candidates_in_the_gold_are_marked():
    found = by_key(
        candidates(work(ann=[(0, 4, "ACTOR"), (5, 9, "SOURCE")]), gold=[SpanKey(0, 4, "ACTOR")])
    )
    assert found[0, 4, "ACTOR"].in_gold and not found[5, 9, "SOURCE"].in_gold


def test_candidate_ids_are_stable_and_distinct():
    found = candidates(work(ann=[(0, 4, "ACTOR"), (0, 4, "SOURCE")]))
    assert [c.id for c in found] == ["c0-4-ACTOR", "c0-4-SOURCE"]


def test_conflict_between_names_the_kind():
    assert conflict_between(SpanKey(0, 4, "A"), SpanKey(0, 4, "B")) == "label"
    assert conflict_between(SpanKey(0, 4, "A"), SpanKey(2, 6, "A")) == "overlap"
    assert conflict_between(SpanKey(0, 4, "A"), SpanKey(2, 6, "B")) is None
    assert conflict_between(SpanKey(0, 4, "A"), SpanKey(0, 4, "A")) is None


def test_majority_selection_takes_spans_with_enough_support():
    found = candidates(
        work(
            ann=[(0, 4, "ACTOR"), (10, 16, "LOCATION"), (20, 25, "SOURCE")],
            bob=[(0, 4, "ACTOR"), (10, 16, "LOCATION")],
            cy=[(0, 4, "ACTOR")],
        )
    )
    assert [c.key for c in majority_selection(found, 3).accepted] == [SpanKey(0, 4, "ACTOR")]
    assert [c.key.label for c in majority_selection(found, 2).accepted] == ["ACTOR", "LOCATION"]
    assert len(majority_selection(found, 1).accepted) == 3


def test_majority_selection_skips_what_is_already_gold():
    found = candidates(work(ann=[(0, 4, "ACTOR")], bob=[(0, 4, "ACTOR")]))
    selection = majority_selection(found, 2, gold=[SpanKey(0, 4, "ACTOR")])
    assert selection.accepted == [] and selection.held_back == []


def test_a_stronger_rival_wins_and_a_tie_is_held_back():
    found = candidates(
        work(
            ann=[(0, 4, "ACTOR"), (10, 16, "LOCATION")],
            bob=[(0, 4, "ACTOR"), (10, 16, "ACTOR")],
            cy=[(0, 4, "SOURCE")],
            dan=[],
        )
    )
    selection = majority_selection(found, 1)
    assert [c.key for c in selection.accepted] == [SpanKey(0, 4, "ACTOR")]
    held = {c.key: reason for c, reason in selection.held_back}
    assert set(held) == {
        SpanKey(0, 4, "SOURCE"),
        SpanKey(10, 16, "ACTOR"),
        SpanKey(10, 16, "LOCATION"),
    }
    assert "as much support" in held[SpanKey(10, 16, "ACTOR")]


def test_majority_selection_respects_a_reviewer_decision_in_the_gold():
    found = candidates(work(ann=[(0, 4, "LOCATION")], bob=[(0, 4, "LOCATION")]))
    selection = majority_selection(found, 2, gold=[SpanKey(0, 4, "ACTOR")])
    assert selection.accepted == []
    assert "gold already" in selection.held_back[0][1]
