"""Properties of versioned annotations: replaying the versions reproduces every state,
restoring gives exactly the old span set, and the automatic merge is safe."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from annotate.models import Role, Span
from annotate.services.annotations import (
    SpanInput,
    annotation_for,
    restore_version,
    save_annotation,
    state_of,
)
from annotate.versioning import (
    Change,
    MergeConflict,
    SpanKey,
    apply,
    compare,
    describe,
    diff,
    merge,
)

from .factories import make_article

TEXT = "Rebels shelled Aleppo on Monday; four people died, the ministry said."
LABELS = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]
N = len(TEXT)

offsets = st.integers(0, N - 1).flatmap(lambda s: st.tuples(st.just(s), st.integers(s + 1, N)))
span_keys = st.builds(
    lambda se, label: SpanKey(se[0], se[1], label), offsets, st.sampled_from(LABELS)
)
states = st.frozensets(span_keys, max_size=12)

# One edit: add a span, remove the i-th span, or relabel the i-th span.
ops = st.one_of(
    st.tuples(st.just("add"), span_keys),
    st.tuples(st.just("remove"), st.integers(0, 50)),
    st.tuples(st.just("relabel"), st.integers(0, 50), st.sampled_from(LABELS)),
)
edits = st.lists(st.lists(ops, min_size=1, max_size=3), min_size=1, max_size=12)


def step(state: frozenset[SpanKey], op: tuple) -> frozenset[SpanKey]:
    spans = sorted(state)
    if op[0] == "add":
        return state | {op[1]}
    if not spans:
        return state
    old = spans[op[1] % len(spans)]
    if op[0] == "remove":
        return state - {old}
    return (state - {old}) | {SpanKey(old.start, old.end, op[2])}


# Pure: summaries, diffs and merges.


@given(states, states)
def test_applying_a_diff_gives_the_new_state(old, new):
    assert apply(old, diff(old, new)) == new


@given(states, states)
def test_summary_counts_every_added_and_removed_span(old, new):
    change = diff(old, new)
    summary = change.summary()
    assert sum(summary["added"].values()) == len(change.added)
    assert sum(summary["removed"].values()) == len(change.removed)
    relabels = sum(n for news in summary.get("relabelled", {}).values() for n in news.values())
    assert relabels == len(change.relabelled) <= min(len(change.added), len(change.removed))


@given(states, states)
def test_each_span_is_in_at_most_one_relabel(old, new):
    pairs = diff(old, new).relabelled
    assert len({o for o, _ in pairs}) == len({n for _, n in pairs}) == len(pairs)
    assert all((o.start, o.end) == (n.start, n.end) and o.label != n.label for o, n in pairs)


@given(states, states)
def test_compare_accounts_for_every_span_once(old, new):
    rows = compare(old, new)
    shown_new = {r.span for r in rows if r.kind in ("same", "added", "relabelled")}
    shown_old = {r.span for r in rows if r.kind in ("same", "removed")}
    shown_old |= {SpanKey(r.span.start, r.span.end, r.was) for r in rows if r.kind == "relabelled"}
    assert shown_new == new and shown_old == old
    assert len(rows) == len(old | new) - len(diff(old, new).relabelled)


def test_a_relabel_is_described_once():
    change = diff({SpanKey(0, 4, "LOCATION"), SpanKey(5, 9, "SOURCE")}, {SpanKey(0, 4, "ACTOR")})
    assert describe(change.summary()) == "\u22121 SOURCE, LOCATION\u2192ACTOR \u00d71"
    two = diff(set(), {SpanKey(0, 4, "ACTOR"), SpanKey(5, 9, "ACTOR")})
    assert describe(two.summary()) == "+2 ACTOR"


def test_describe_names_status_restore_and_merge():
    summary = {"added": {}, "removed": {}, "status": "submitted", "restored_from": 2}
    assert describe(summary) == "submitted, restored v2"
    assert describe({"final": True}) == "made final"
    assert describe({"merged_from_base": 4, "added": {"ACTOR": 1}}).startswith("+1 ACTOR, merged")
    assert describe({}) == "no change"
    assert describe({"added": "garbage"}) == "no change"


def _touched(change: Change) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in change.added | change.removed]


@st.composite
def disjoint_edits(draw):
    """A base and two edits of it that change spans in separate stretches of the text:
    the text is cut into zones that alternate between our side and theirs."""
    base = draw(states)
    cuts = sorted(draw(st.sets(st.integers(1, N - 1), min_size=1, max_size=4)))
    bounds = list(zip([0, *cuts], [*cuts, N], strict=True))
    sides: list[frozenset[SpanKey]] = []
    for parity in (0, 1):
        zones = [z for i, z in enumerate(bounds) if i % 2 == parity]
        inside = [k for k in base if any(z[0] <= k.start and k.end <= z[1] for z in zones)]
        removed = draw(st.sets(st.sampled_from(inside))) if inside else set()
        added = set()
        for start, end in zones:
            if end - start >= 1:
                for _ in range(draw(st.integers(0, 2))):
                    s = draw(st.integers(start, end - 1))
                    e = draw(st.integers(s + 1, end))
                    added.add(SpanKey(s, e, draw(st.sampled_from(LABELS))))
        sides.append(frozenset((base - removed) | added))
    return base, sides[0], sides[1]


@given(disjoint_edits())
def test_merge_keeps_both_sides_and_is_commutative_when_edits_do_not_overlap(edits):
    base, ours, theirs = edits
    mine, others = diff(base, ours), diff(base, theirs)
    merged = merge(base, ours, theirs)
    assert merged == merge(base, theirs, ours)
    assert mine.added <= merged and others.added <= merged
    assert not (mine.removed & merged) and not (others.removed & merged)
    assert merged - (mine.added | others.added) == base - (mine.removed | others.removed)


@given(states, states, states)
def test_merge_refuses_edits_that_overlap_in_the_text(base, ours, theirs):
    mine, others = diff(base, ours), diff(base, theirs)
    overlap = any(a[0] < b[1] and b[0] < a[1] for a in _touched(mine) for b in _touched(others))
    assume(overlap)
    with pytest.raises(MergeConflict):
        merge(base, ours, theirs)


def test_merge_refuses_overlapping_spans_with_different_offsets():
    base = frozenset()
    with pytest.raises(MergeConflict) as caught:
        merge(base, frozenset({SpanKey(0, 10, "ACTOR")}), frozenset({SpanKey(0, 11, "ACTOR")}))
    assert caught.value.positions == [(0, 10)]


def test_merge_of_disjoint_edits_applies_both():
    base = frozenset({SpanKey(0, 6, "ACTOR")})
    ours = base | {SpanKey(15, 21, "LOCATION")}
    theirs = frozenset({SpanKey(0, 6, "SOURCE")})
    assert merge(base, ours, theirs) == {SpanKey(0, 6, "SOURCE"), SpanKey(15, 21, "LOCATION")}


# Through the database: every version is kept and reproducible.

DB_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def save(annotation, editor, state):
    return save_annotation(
        annotation=annotation,
        author=editor,
        role=Role.EDITOR,
        base_version=annotation.version,
        spans=[SpanInput(*k) for k in sorted(state)],
    )


def replay(annotation) -> list[frozenset[SpanKey]]:
    """Every state rebuilt from the versions' deltas only: spans added and removed in each."""
    rows = list(Span.objects.filter(annotation=annotation).select_related("label"))
    states, state = [frozenset()], frozenset()
    for number in range(1, annotation.version + 1):
        added = {SpanKey(s.start, s.end, s.label.key) for s in rows if s.added_in == number}
        removed = {SpanKey(s.start, s.end, s.label.key) for s in rows if s.removed_in == number}
        state = (state - removed) | added
        states.append(state)
    return states


@DB_SETTINGS
@given(edits=edits, data=st.data())
def test_every_intermediate_state_is_reproduced_from_the_versions(project, editor, edits, data):
    article = make_article(project, TEXT, editors=[editor])
    annotation = annotation_for(article, editor)
    expected, state = [frozenset()], frozenset()
    for batch in edits:
        for op in batch:
            state = step(state, op)
        result = save(annotation, editor, state)
        assert result.created == (state != expected[-1])
        if result.created:
            expected.append(state)
            summary = result.version.summary
            change = diff(expected[-2], state)
            assert summary == change.summary()
    annotation.refresh_from_db()
    assert annotation.version == len(expected) - 1
    assert list(annotation.versions.values_list("number", flat=True)) == list(
        range(1, len(expected))
    )
    for number, wanted in enumerate(expected):
        assert state_of(annotation, number) == wanted
    assert replay(annotation) == expected

    if annotation.version >= 1:
        number = data.draw(st.integers(1, annotation.version), label="restore")
        before = annotation.version
        result = restore_version(
            annotation=annotation, author=editor, role=Role.EDITOR, number=number,
            base_version=annotation.version,
        )  # fmt: skip
        annotation.refresh_from_db()
        assert state_of(annotation) == expected[number]
        assert [s.as_dict() for s in annotation.current_spans()] == [
            s.as_dict() for s in annotation.spans_at(number)
        ]
        assert annotation.version == before + (1 if result.created else 0)
        for n, wanted in enumerate(expected):  # history untouched
            assert state_of(annotation, n) == wanted


@DB_SETTINGS
@given(edits=st.one_of(disjoint_edits(), st.tuples(states, states, states)))
def test_a_merged_write_loses_nothing(project, editor, edits):
    base, ours, theirs = edits
    article = make_article(project, TEXT, editors=[editor])
    annotation = annotation_for(article, editor)
    save(annotation, editor, base)
    start = annotation.version
    save(annotation, editor, theirs)  # another tab
    try:
        expected = merge(base, ours, theirs)
    except MergeConflict:
        expected = None
    try:
        result = save_annotation(
            annotation=annotation, author=editor, role=Role.EDITOR, base_version=start,
            spans=[SpanInput(*k) for k in sorted(ours)], allow_merge=True,
        )  # fmt: skip
    except Exception as error:  # noqa: BLE001 - the type is the assertion
        assert expected is None and type(error).__name__ == "StaleVersion"
        assert state_of(annotation) == theirs
        return
    if expected is None:
        # Not mergeable, but the write asked for what is already there: a retry.
        assert ours == theirs and not result.created
        return
    assert state_of(annotation) == expected
