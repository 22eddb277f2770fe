"""Concurrent writers to one annotation: one wins from a shared base version, the others are
told (StaleVersion, HTTP 409), numbering stays gapless and nothing is silently lost.

Real threads with their own database connections, so these run with transaction=True.
PostgreSQL queues writers on the annotation's row lock (SELECT ... FOR UPDATE); SQLite
queues them on its database write lock (IMMEDIATE transactions, 20 s busy timeout).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, connections, transaction

from annotate.models import AnnotationVersion, Role
from annotate.services.annotations import (
    SpanInput,
    StaleVersion,
    annotation_for,
    save_annotation,
    state_of,
)
from annotate.versioning import SpanKey

from .factories import make_annotation, make_article

THREADS = 20
# Twenty one-word tokens, one per writer, so that the writers' spans never overlap.
WORDS = [f"w{i:02d}" for i in range(THREADS)]
TEXT = "Base. " + " ".join(WORDS)
BASE_SPAN = (0, 4, "SOURCE")


def word_span(i: int) -> SpanKey:
    start = TEXT.index(WORDS[i])
    return SpanKey(start, start + len(WORDS[i]), "ACTOR")


pytestmark = pytest.mark.django_db(transaction=True)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite variant")


def run_in_threads(work: Callable[[int], object]) -> list[object]:
    """Run work(i) in THREADS threads released together; each result or raised error."""
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - collected and asserted by the test
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return results


@pytest.fixture
def annotation(project, editor):
    article = make_article(project, TEXT, editors=[editor])
    return make_annotation(article, editor, [BASE_SPAN])  # version 1


def write(annotation, editor, base: int, spans, **kwargs):
    return save_annotation(
        annotation=annotation,
        author=editor,
        role=Role.EDITOR,
        base_version=base,
        spans=[SpanInput(*s) for s in spans],
        **kwargs,
    )


def numbers(annotation) -> list[int]:
    return list(
        AnnotationVersion.objects.filter(annotation=annotation)
        .order_by("number")
        .values_list("number", flat=True)
    )


def assert_one_wins_from_the_same_base(annotation, editor) -> None:
    def work(i: int):
        return write(annotation, editor, 1, [BASE_SPAN, word_span(i)])

    results = run_in_threads(work)
    won = [i for i, r in enumerate(results) if not isinstance(r, Exception)]
    stale = [r for r in results if isinstance(r, StaleVersion)]
    assert len(won) == 1, results
    assert len(stale) == THREADS - 1, [r for r in results if isinstance(r, Exception)]
    assert all(r.status == 409 and r.current_version == 2 for r in stale)
    assert all(r.changes and r.changes[0]["version"] == 2 for r in stale)
    annotation.refresh_from_db()
    assert annotation.version == 2 and numbers(annotation) == [1, 2]
    # Nothing lost: the winner's change is the state, every loser was told, none half-written.
    assert state_of(annotation) == {SpanKey(*BASE_SPAN), word_span(won[0])}
    assert results[won[0]].version.number == 2


@postgresql_only
def test_twenty_writers_from_one_base_on_postgresql(annotation, editor):
    assert_one_wins_from_the_same_base(annotation, editor)


@sqlite_only
def test_twenty_writers_from_one_base_on_sqlite(annotation, editor):
    assert_one_wins_from_the_same_base(annotation, editor)


def test_writers_that_reload_and_reapply_all_get_their_change_in(annotation, editor):
    """What the 409 asks a client to do: reload, re-apply, send again."""

    def work(i: int):
        for _ in range(THREADS * 3):
            current = annotation_for(annotation.article, editor)
            state = state_of(current) | {word_span(i)}
            try:
                return write(current, editor, current.version, sorted(state))
            except StaleVersion:
                continue
        raise AssertionError("never got through")

    results = run_in_threads(work)
    assert not [r for r in results if isinstance(r, Exception)]
    annotation.refresh_from_db()
    assert annotation.version == THREADS + 1
    assert numbers(annotation) == list(range(1, THREADS + 2))
    assert state_of(annotation) == {SpanKey(*BASE_SPAN)} | {word_span(i) for i in range(THREADS)}


def test_disjoint_concurrent_edits_are_merged_without_loss(annotation, editor):
    def work(i: int):
        return write(annotation, editor, 1, [BASE_SPAN, word_span(i)], allow_merge=True)

    results = run_in_threads(work)
    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(1 for r in results if r.merged) == THREADS - 1
    annotation.refresh_from_db()
    assert numbers(annotation) == list(range(1, THREADS + 2))
    assert state_of(annotation) == {SpanKey(*BASE_SPAN)} | {word_span(i) for i in range(THREADS)}


def test_conflicting_concurrent_edits_are_not_merged(annotation, editor):
    labels = ["ACTOR", "LOCATION", "CASUALTY"]

    def work(i: int):
        # Everyone relabels the same span: only one can win, the rest must be asked.
        return write(annotation, editor, 1, [(*BASE_SPAN[:2], labels[i % 3])], allow_merge=True)

    results = run_in_threads(work)
    won = [i for i, r in enumerate(results) if not isinstance(r, Exception) and r.created]
    assert len(won) == 1
    winner_label = labels[won[0] % 3]
    for i, result in enumerate(results):
        if i == won[0]:
            continue
        if labels[i % 3] == winner_label:  # asked for what is there: a retry, no version
            assert not isinstance(result, Exception) and not result.created
        else:
            assert isinstance(result, StaleVersion)
    annotation.refresh_from_db()
    assert numbers(annotation) == [1, 2]
    assert state_of(annotation) == {SpanKey(0, 4, winner_label)}


def test_the_same_request_sent_twenty_times_makes_one_version(annotation, editor):
    key = uuid.uuid4()

    def work(i: int):
        return write(annotation, editor, 1, [BASE_SPAN, word_span(0)], request_key=key)

    results = run_in_threads(work)
    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(1 for r in results if r.created) == 1
    assert {r.version.number for r in results} == {2}
    annotation.refresh_from_db()
    assert numbers(annotation) == [1, 2]


def test_database_refuses_a_duplicate_version_number(annotation, editor):
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnotationVersion.objects.create(
            annotation=annotation, number=1, author=editor, status="in_progress"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnotationVersion.objects.create(
            annotation=annotation, number=0, author=editor, status="in_progress"
        )
