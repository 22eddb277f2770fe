"""The single write path for annotations: validation, versions, staleness, idempotency."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, transaction

from annotate.models import Annotation, AnnotationVersion, Role, Span
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

from .factories import make_annotation, make_article, make_project

TEXT = "Iraq's Prime Minister Mustafa al-Kadhemi said four fighters died."


@pytest.fixture
def article(project, editor):
    return make_article(project, TEXT, editors=[editor])


def save(annotation, author, spans, base=None, **kwargs):
    return save_annotation(
        annotation=annotation,
        author=author,
        role=Role.EDITOR,
        base_version=annotation.version if base is None else base,
        spans=[SpanInput(*s) for s in spans],
        **kwargs,
    )


def test_first_save_makes_version_one(article, editor):
    result = save(annotation_for(article, editor), editor, [(0, 4, "LOCATION")])
    assert result.created and result.version.number == 1
    assert [s.text for s in result.annotation.current_spans()] == ["Iraq"]


def test_nested_spans_are_kept(article, editor):
    annotation = annotation_for(article, editor)
    save(annotation, editor, [(0, 4, "LOCATION"), (0, 41, "ACTOR")])
    assert annotation.current_spans().count() == 2


@pytest.mark.parametrize(
    "span, message",
    [
        ((-1, 3, "ACTOR"), "negative"),
        ((5, 5, "ACTOR"), "greater than start"),
        ((0, 999, "ACTOR"), "past the end"),
        ((0, 4, "WEAPON"), "not a label of this project"),
        ((0, 4, "ACTOR", "Syria"), "does not match"),
    ],
)
def test_invalid_spans_are_refused_and_nothing_is_written(article, editor, span, message):
    annotation = annotation_for(article, editor)
    with pytest.raises(InvalidSpans, match=message):
        save(annotation, editor, [(0, 4, "LOCATION"), span])
    assert not Span.objects.exists() and not AnnotationVersion.objects.exists()


def test_label_of_another_project_is_refused(article, editor):
    make_project("other")  # has its own ACTOR label
    with pytest.raises(InvalidSpans):
        save(annotation_for(article, editor), editor, [(0, 4, "ACTOR", "Syria")])


def test_stale_version_is_rejected(article, editor):
    annotation = annotation_for(article, editor)
    save(annotation, editor, [(0, 4, "LOCATION")])
    save(annotation, editor, [(0, 4, "LOCATION"), (22, 41, "ACTOR")], base=1)
    with pytest.raises(StaleVersion) as caught:
        save(annotation, editor, [(48, 60, "CASUALTY")], base=1)
    assert caught.value.current_version == 2
    assert AnnotationVersion.objects.count() == 2


def test_same_request_key_makes_one_version(article, editor):
    annotation = annotation_for(article, editor)
    key = uuid.uuid4()
    first = save(annotation, editor, [(0, 4, "LOCATION")], base=0, request_key=key)
    again = save(annotation, editor, [(0, 4, "LOCATION")], base=0, request_key=key)
    assert first.created and not again.created
    assert again.version.number == 1 and AnnotationVersion.objects.count() == 1


def test_retry_of_an_applied_write_makes_no_version(article, editor):
    annotation = annotation_for(article, editor)
    save(annotation, editor, [(0, 4, "LOCATION")], base=0)
    retry = save(annotation, editor, [(0, 4, "LOCATION")], base=0)
    assert not retry.created and AnnotationVersion.objects.count() == 1


def test_an_unchanged_write_makes_no_version(article, editor):
    annotation = make_annotation(article, editor, [(0, 4, "LOCATION")])
    result = save(annotation, editor, [(0, 4, "LOCATION")])
    assert not result.created and annotation.versions.count() == 1


def test_state_at_every_version_is_kept(article, editor):
    annotation = annotation_for(article, editor)
    save(annotation, editor, [(0, 4, "LOCATION")])
    save(annotation, editor, [(0, 4, "ACTOR")])
    save(annotation, editor, [])
    assert [s.label.key for s in annotation.spans_at(1)] == ["LOCATION"]
    assert [s.label.key for s in annotation.spans_at(2)] == ["ACTOR"]
    assert list(annotation.spans_at(3)) == []
    assert annotation.versions.get(number=2).summary == {
        "added": {"ACTOR": 1},
        "removed": {"LOCATION": 1},
        "relabelled": {"LOCATION": {"ACTOR": 1}},
    }


def test_only_assigned_editors_write(project, article, other_editor):
    with pytest.raises(NotAllowed):
        save(annotation_for(article, other_editor), other_editor, [(0, 4, "LOCATION")])


def test_final_gold_locks_editors(article, editor, reviewer):
    gold = gold_for(article)
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(0, 4, "LOCATION")],
        final=True,
    )
    with pytest.raises(Locked):
        save(annotation_for(article, editor), editor, [(0, 4, "LOCATION")])


def test_database_rejects_an_inverted_span(article, editor):
    annotation = make_annotation(article, editor, [(0, 4, "LOCATION")])
    label = annotation.current_spans().first().label
    with pytest.raises(IntegrityError), transaction.atomic():
        Span.objects.create(annotation=annotation, start=5, end=5, label=label, text="", added_in=1)


def test_database_rejects_a_negative_start(article, editor):
    annotation = make_annotation(article, editor, [(0, 4, "LOCATION")])
    label = annotation.current_spans().first().label
    with pytest.raises(IntegrityError), transaction.atomic():
        Span.objects.bulk_create(
            [Span(annotation=annotation, start=-2, end=3, label=label, text="x", added_in=1)]
        )


def test_versions_cannot_be_changed(article, editor):
    annotation = make_annotation(article, editor, [(0, 4, "LOCATION")])
    version = annotation.versions.get()
    with pytest.raises(Exception, match="immutable"):
        version.save()
    with pytest.raises(Exception, match="immutable"):
        AnnotationVersion.objects.filter(pk=version.pk).update(note="x")
    assert Annotation.objects.get().version == 1


def test_database_refuses_a_gap_in_version_numbers(article, editor):
    annotation = make_annotation(article, editor, [(0, 4, "LOCATION")])
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnotationVersion.objects.create(
            annotation=annotation, number=3, author=editor, status="in_progress"
        )
    assert annotation.versions.count() == 1


def test_database_refuses_to_update_a_version(article, editor):
    from django.db import DatabaseError, connection

    annotation = make_annotation(article, editor, [(0, 4, "LOCATION")])
    table = AnnotationVersion._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET note = 'rewritten' WHERE annotation_id = %s", [annotation.pk]
        )
    assert annotation.versions.get().note == ""
