"""Writing annotations: the one path by which the labelling page, the review page and the API
change spans, status and gold finality. Every call is atomic and makes at most one version.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Annotation, AnnotationVersion, Article, Assignment, Label, Role, Span
from ..versioning import MergeConflict, SpanKey, diff, merge

MAX_SPANS_PER_ANNOTATION = 10_000


class AnnotationError(Exception):
    """A write that cannot be done; `status` is the HTTP status that describes it."""

    status = 400

    def __init__(self, detail: str, errors: object = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class InvalidSpans(AnnotationError):
    status = 400


class NotAllowed(AnnotationError):
    status = 403


class Locked(AnnotationError):
    """The gold of the article is final, or the gold itself is final and not being reopened."""

    status = 409


class StaleVersion(AnnotationError):
    status = 409

    def __init__(self, detail: str, *, current_version: int, changes: list[dict]):
        super().__init__(detail)
        self.current_version = current_version
        self.changes = changes


@dataclass(frozen=True)
class SpanInput:
    start: int
    end: int
    label: str
    text: str | None = None
    source: int | None = None  # gold only: id of the editor span it was accepted from

    @property
    def key(self) -> SpanKey:
        return SpanKey(self.start, self.end, self.label)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SpanInput:
        return cls(
            start=data["start"],  # type: ignore[arg-type]
            end=data["end"],  # type: ignore[arg-type]
            label=data["label"],  # type: ignore[arg-type]
            text=data.get("text"),  # type: ignore[arg-type]
            source=data.get("source"),  # type: ignore[arg-type]
        )


@dataclass
class SaveResult:
    annotation: Annotation
    version: AnnotationVersion | None
    created: bool
    merged: bool = False
    spans: list[Span] = field(default_factory=list)


def validate_spans(article: Article, spans: Iterable[SpanInput]) -> dict[str, Label]:
    """Check every span against the article; raise InvalidSpans listing each problem by index.

    Returns the project's labels by key.
    """
    labels = {label.key: label for label in Label.objects.filter(project_id=article.project_id)}
    text = article.text
    errors: list[dict[str, object]] = []
    seen: set[SpanKey] = set()
    spans = list(spans)
    if len(spans) > MAX_SPANS_PER_ANNOTATION:
        raise InvalidSpans(f"Too many spans: at most {MAX_SPANS_PER_ANNOTATION} per annotation.")
    for index, span in enumerate(spans):
        problem = _span_problem(span, text, labels)
        if problem is None and span.key in seen:
            problem = "the same span (offsets and label) appears twice"
        if problem:
            errors.append({"index": index, "detail": problem})
        seen.add(span.key)
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InvalidSpans(f"Span {first['index']}: {first['detail']}{more}.", errors=errors)
    return labels


def _span_problem(span: SpanInput, text: str, labels: dict[str, Label]) -> str | None:
    if not isinstance(span.start, int) or isinstance(span.start, bool):
        return "start must be an integer"
    if not isinstance(span.end, int) or isinstance(span.end, bool):
        return "end must be an integer"
    if span.start < 0:
        return f"start {span.start} is negative"
    if span.end <= span.start:
        return f"end {span.end} must be greater than start {span.start}"
    if span.end > len(text):
        return f"end {span.end} is past the end of the text ({len(text)} characters)"
    if not isinstance(span.label, str) or span.label not in labels:
        return f"label {span.label!r} is not a label of this project"
    if span.text is not None and span.text != text[span.start : span.end]:
        return (
            f"text {span.text!r} does not match the article at {span.start}:{span.end} "
            f"({text[span.start : span.end]!r})"
        )
    return None


def annotation_for(article: Article, annotator) -> Annotation:
    """The editor's annotation of the article, created (at version 0) on first use."""
    annotation, _ = Annotation.objects.get_or_create(
        article=article, annotator=annotator, kind=Annotation.Kind.EDITOR
    )
    return annotation


def gold_for(article: Article) -> Annotation:
    annotation, _ = Annotation.objects.get_or_create(
        article=article, kind=Annotation.Kind.GOLD, annotator=None
    )
    return annotation


def check_may_write(annotation: Annotation, author, role: str | None) -> None:
    """Domain rules on who may change an annotation (views check visibility before)."""
    article = annotation.article
    if annotation.is_gold:
        if not (author.is_superuser or role in (Role.REVIEWER, Role.MANAGER)):
            raise NotAllowed("Only reviewers and managers may edit the gold annotation.")
        return
    if annotation.annotator_id != author.pk:
        raise NotAllowed("You can only change your own annotation.")
    if not Assignment.objects.filter(article=article, editor=author).exists():
        raise NotAllowed("This article is not assigned to you.")
    if Annotation.objects.filter(article=article, kind=Annotation.Kind.GOLD, final=True).exists():
        raise Locked(
            "The gold annotation of this article is final; editors can no longer change it."
        )


def state_of(annotation: Annotation, version: int | None = None) -> frozenset[SpanKey]:
    return frozenset(SpanKey(s.start, s.end, s.label.key) for s in annotation.spans_at(version))


def save_annotation(
    *,
    annotation: Annotation,
    author,
    role: str | None,
    base_version: int,
    spans: Iterable[SpanInput],
    status: str | None = None,
    final: bool | None = None,
    note: str = "",
    request_key: uuid.UUID | None = None,
    restored_from: int | None = None,
    allow_merge: bool = False,
) -> SaveResult:
    """Replace the annotation's span set, making version ``base_version + 1``.

    - A stale ``base_version`` raises StaleVersion (nothing written), unless ``allow_merge``
      and the concurrent changes touch other offsets than ours: then ours is rebased.
    - A request already seen (same ``request_key``), or a write that changes nothing, makes
      no version and returns the current state.
    """
    spans = list(spans)
    labels = validate_spans(annotation.article, spans)
    check_may_write(annotation, author, role)
    wanted = frozenset(s.key for s in spans)
    sources = {s.key: s.source for s in spans if s.source is not None}

    with transaction.atomic():
        if request_key is not None:
            replay = AnnotationVersion.objects.filter(
                annotation=annotation, request_key=request_key
            ).first()
            if replay is not None:
                annotation.refresh_from_db()
                return SaveResult(annotation=annotation, version=replay, created=False)

        # Lock the head row: concurrent writers to one annotation queue here (PostgreSQL
        # row lock; SQLite's IMMEDIATE transactions serialise all writers anyway).
        head = Annotation.objects.select_for_update().get(pk=annotation.pk)
        merged = False
        if head.version != base_version:
            current = state_of(head)
            if current == wanted and _same_flags(head, status, final):
                return SaveResult(annotation=head, version=None, created=False)
            if not allow_merge or base_version > head.version or base_version < 0:
                raise _stale(head, base_version)
            try:
                wanted = merge(state_of(head, base_version), wanted, current)
            except MergeConflict:
                raise _stale(head, base_version) from None
            merged = True

        reopening = final is False
        if head.is_gold and head.final and not reopening and state_of(head) != wanted:
            raise Locked("The gold annotation is final; reopen it before changing it.")

        current_spans = {SpanKey(s.start, s.end, s.label.key): s for s in head.current_spans()}
        change = diff(frozenset(current_spans), wanted)
        new_status = status or head.status
        new_final = head.final if final is None else final
        if change.is_empty() and new_status == head.status and new_final == head.final:
            return SaveResult(annotation=head, version=None, created=False)
        if new_final and not head.is_gold:
            raise InvalidSpans("Only the gold annotation can be final.")

        number = head.version + 1
        summary: dict[str, object] = change.summary()
        if new_status != head.status:
            summary["status"] = new_status
        if new_final != head.final:
            summary["final"] = new_final
        if restored_from is not None:
            summary["restored_from"] = restored_from
        if merged:
            summary["merged_from_base"] = base_version

        text = head.article.text if change.added else ""
        if change.removed:
            Span.objects.filter(pk__in=[current_spans[k].pk for k in change.removed]).update(
                removed_in=number
            )
        Span.objects.bulk_create(
            Span(
                annotation=head,
                start=k.start,
                end=k.end,
                label=labels[k.label],
                text=text[k.start : k.end],
                added_in=number,
                source_id=sources.get(k),
            )
            for k in sorted(change.added)
        )
        try:
            version = AnnotationVersion.objects.create(
                annotation=head,
                number=number,
                author=author,
                status=new_status,
                final=new_final,
                note=note,
                summary=summary,
                span_count=len(wanted),
                restored_from=restored_from,
                request_key=request_key,
            )
        except IntegrityError:
            # Another writer took this number in a race the row lock did not cover.
            raise _stale(head, base_version) from None
        Annotation.objects.filter(pk=head.pk).update(
            version=number, status=new_status, final=new_final, updated_at=timezone.now()
        )
        for obj in (head, annotation):
            obj.version, obj.status, obj.final = number, new_status, new_final
        _after_save(head)
    return SaveResult(annotation=head, version=version, created=True, merged=merged)


def _same_flags(head: Annotation, status: str | None, final: bool | None) -> bool:
    return (status is None or status == head.status) and (final is None or final == head.final)


def _stale(head: Annotation, base_version: int) -> StaleVersion:
    since = (
        AnnotationVersion.objects.filter(annotation=head, number__gt=max(base_version, 0))
        .select_related("author")
        .order_by("number")
    )
    changes = [
        {"version": v.number, "author": v.author.username, "summary": v.summary} for v in since[:50]
    ]
    return StaleVersion(
        f"This annotation changed since version {base_version}: it is now at version "
        f"{head.version}. Reload it and apply your change again.",
        current_version=head.version,
        changes=changes,
    )


def _after_save(annotation: Annotation) -> None:
    """Hook for derived data that must stay in step with the annotation (same transaction)."""


def restore_version(
    *,
    annotation: Annotation,
    author,
    role: str | None,
    number: int,
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | None = None,
) -> SaveResult:
    """Make a new version whose spans equal version `number`; history is never rewritten."""
    if not 1 <= number <= annotation.version:
        raise InvalidSpans(f"Version {number} does not exist (1..{annotation.version}).")
    old = annotation.spans_at(number)
    spans = [SpanInput(s.start, s.end, s.label.key, s.text, s.source_id) for s in old]
    return save_annotation(
        annotation=annotation,
        author=author,
        role=role,
        base_version=base_version,
        spans=spans,
        note=note or f"Restored version {number}",
        request_key=request_key,
        restored_from=number,
    )


def current_span_inputs(annotation: Annotation) -> list[SpanInput]:
    return [
        SpanInput(s.start, s.end, s.label.key, s.text, s.source_id)
        for s in annotation.current_spans()
    ]


def spans_for_annotations(annotation_ids: Iterable[int]) -> dict[int, list[Span]]:
    """Current spans of many annotations in one query."""
    result: dict[int, list[Span]] = {}
    query = (
        Span.objects.filter(Q(annotation_id__in=list(annotation_ids)) & Q(removed_in__isnull=True))
        .select_related("label")
        .order_by("annotation_id", "start", "end")
    )
    for span in query:
        result.setdefault(span.annotation_id, []).append(span)
    return result
