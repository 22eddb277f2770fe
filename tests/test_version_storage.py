"""Storage of versions: compact as histories grow, any state cheap to load, rows immutable,
and versions addressable for reports that must be reproducible."""

from __future__ import annotations

import random

import pytest
from django.core.exceptions import ValidationError

from annotate.models import Annotation, AnnotationVersion, Role, Span
from annotate.services.annotations import SpanInput, annotation_for, gold_for, save_annotation
from annotate.services.versions import spans_at_versions, spans_for_versions, versions_used
from annotate.versioning import SpanKey

from .factories import make_annotation, make_article

WORDS = 120
TEXT = " ".join(f"word{i:03d}" for i in range(WORDS))  # "word000 word001 ...", 8 chars apart
LABELS = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]


def word(i: int, label: str) -> SpanKey:
    return SpanKey(i * 8, i * 8 + 7, label)


def save(annotation, author, state, role=Role.EDITOR, **kwargs):
    return save_annotation(
        annotation=annotation,
        author=author,
        role=role,
        base_version=annotation.version,
        spans=[SpanInput(*k) for k in sorted(state)],
        **kwargs,
    )


def random_edit(rng: random.Random, state: frozenset[SpanKey]) -> frozenset[SpanKey]:
    spans = sorted(state)
    op = rng.choice(["add", "remove", "relabel"]) if spans else "add"
    if op == "add":
        free = [i for i in range(WORDS) if all(s.start != i * 8 for s in spans)]
        return state | {word(rng.choice(free), rng.choice(LABELS))}
    old = rng.choice(spans)
    if op == "remove":
        return state - {old}
    label = rng.choice([x for x in LABELS if x != old.label])
    return (state - {old}) | {SpanKey(old.start, old.end, label)}


@pytest.fixture
def long_history(project, editor):
    """An annotation with 1,000 versions: 40 spans, then 999 random one-span edits."""
    rng = random.Random(20240601)
    article = make_article(project, TEXT, editors=[editor])
    annotation = annotation_for(article, editor)
    state = frozenset(word(i * 3, LABELS[i % 4]) for i in range(40))
    states = [frozenset(), state]
    save(annotation, editor, state)
    while annotation.version < 1000:
        state = random_edit(rng, state)
        save(annotation, editor, state)
        states.append(state)
    assert annotation.version == 1000 and len(states) == 1001
    return annotation, states


def keys(spans) -> frozenset[SpanKey]:
    return frozenset(SpanKey(s.start, s.end, s.label.key) for s in spans)


def test_a_thousand_versions_stay_cheap_to_load_and_store(
    long_history, django_assert_max_num_queries, django_assert_num_queries
):
    annotation, states = long_history
    # The current state: the head row and one indexed query for its spans.
    with django_assert_max_num_queries(2):
        loaded = Annotation.objects.get(pk=annotation.pk)
        spans = list(loaded.current_spans())
    assert keys(spans) == states[-1]
    assert [s.text for s in spans] == [TEXT[s.start : s.end] for s in spans]
    # Any old state: one query.
    for number in (1, 2, 333, 500, 999, 1000):
        with django_assert_num_queries(1):
            old = list(annotation.spans_at(number))
        assert keys(old) == states[number]
    # Storage: one version row per version, one span row per span added (a relabel closes
    # one row and adds one); nothing is copied forward.
    added = sum(len(states[n] - states[n - 1]) for n in range(1, len(states)))
    assert AnnotationVersion.objects.filter(annotation=annotation).count() == 1000
    assert Span.objects.filter(annotation=annotation).count() == added < 40 + 1000


def test_rows_written_by_one_save(project, editor):
    article = make_article(project, TEXT, editors=[editor])
    annotation = make_annotation(article, editor, [(*word(i, "ACTOR"),) for i in range(5)])
    before = AnnotationVersion.objects.count(), Span.objects.count()
    # Remove 2, relabel 1, add 2: one version row and 3 span rows (2 added + the relabel).
    state = {word(0, "ACTOR"), word(1, "ACTOR"), word(2, "SOURCE"), word(7, "CASUALTY")}
    save(annotation, editor, state | {word(8, "LOCATION")})
    assert (AnnotationVersion.objects.count(), Span.objects.count()) == (
        before[0] + 1,
        before[1] + 3,
    )
    assert Span.objects.filter(annotation=annotation, removed_in=2).count() == 3


def test_span_rows_cannot_be_rewritten(project, editor):
    article = make_article(project, TEXT, editors=[editor])
    annotation = make_annotation(article, editor, [(*word(0, "ACTOR"),)])
    span = annotation.current_spans().get()
    with pytest.raises(ValidationError, match="immutable"):
        Span.objects.filter(pk=span.pk).update(start=1)
    with pytest.raises(ValidationError, match="immutable"):
        Span.objects.filter(pk=span.pk).delete()
    with pytest.raises(ValidationError, match="immutable"):
        span.save()
    with pytest.raises(ValidationError, match="immutable"):
        span.delete()
    with pytest.raises(ValidationError, match="immutable"):
        AnnotationVersion.objects.filter(annotation=annotation).delete()
    assert annotation.current_spans().get().start == 0


def test_a_version_is_addressed_by_annotation_and_number(project, editor):
    article = make_article(project, TEXT, editors=[editor])
    annotation = make_annotation(article, editor, [(*word(0, "ACTOR"),)])
    save(annotation, editor, {word(1, "SOURCE")})
    v1 = AnnotationVersion.objects.get(annotation_id=annotation.pk, number=1)
    assert keys(v1.spans()) == {word(0, "ACTOR")}


def test_versions_used_records_and_reproduces_what_a_report_read(
    project, editor, other_editor, reviewer, django_assert_max_num_queries
):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    mine = make_annotation(article, editor, [(*word(0, "ACTOR"),)])
    theirs = make_annotation(article, other_editor, [(*word(1, "SOURCE"),)])
    save(theirs, other_editor, {word(1, "SOURCE"), word(2, "LOCATION")})
    gold = gold_for(article)
    save(gold, reviewer, {word(0, "ACTOR")}, role=Role.REVIEWER)

    with django_assert_max_num_queries(2):  # the annotations, then their annotators' names
        used = versions_used(Annotation.objects.filter(article=article))
    assert used == {str(article.pk): {"edith": 1, "gold": 1, "otto": 2}}
    loaded = list(Annotation.objects.filter(article=article).select_related("annotator"))
    with django_assert_max_num_queries(0):
        assert versions_used(loaded) == used

    # Later edits do not change what the record reproduces.
    save(mine, editor, set())
    save(theirs, other_editor, {word(9, "CASUALTY")})
    again = spans_for_versions(used)
    assert keys(again[str(article.pk)]["edith"]) == {word(0, "ACTOR")}
    assert keys(again[str(article.pk)]["otto"]) == {word(1, "SOURCE"), word(2, "LOCATION")}
    assert keys(again[str(article.pk)]["gold"]) == {word(0, "ACTOR")}


def test_spans_at_versions_loads_many_states_in_one_query(
    project, editor, other_editor, django_assert_num_queries
):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    a = make_annotation(article, editor, [(*word(0, "ACTOR"),)])
    save(a, editor, {word(0, "SOURCE")})
    b = make_annotation(article, other_editor, [(*word(3, "LOCATION"),)])
    with django_assert_num_queries(1):
        states = spans_at_versions({a.pk: 1, b.pk: 1})
    assert keys(states[a.pk]) == {word(0, "ACTOR")} and keys(states[b.pk]) == {word(3, "LOCATION")}
