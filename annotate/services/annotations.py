"""Writing annotations: the one path by which the labelling page, the review page and the API
change spans, status and gold finality. Every call is atomic and makes at most one version.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ..inputs import INT64_MAX, InputError, parse_id, parse_offset, parse_text
from ..models import Annotation, AnnotationVersion, Article, Assignment, Label, Role, Span
from ..versioning import MergeConflict, SpanKey, describe, diff, merge

MAX_SPANS_PER_ANNOTATION = 10_000
MAX_NOTE_CHARS = 2_000


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


class RequestKeyReused(InvalidSpans):
    """The request key names an earlier request that asked for a different change."""


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
    def from_dict(cls, data: object, *, gold: bool = False) -> SpanInput:
        """A span from JSON-like input, its types checked here (so that no list or object
        reaches a set or the database): InvalidSpans when it is not an object with integer
        start and end, a string label, an optional string text and, for `gold`, an optional
        source span id. Offsets against the text are checked by validate_spans."""
        if not isinstance(data, Mapping):
            raise InvalidSpans("Each span must be an object with start, end and label.")
        missing = [k for k in ("start", "end", "label") if k not in data]
        if missing:
            raise InvalidSpans(f"A span is missing {', '.join(missing)}.")
        try:
            start, end = (_json_offset(data[name], name) for name in ("start", "end"))
            label = parse_text(data["label"], name="label", max_length=32)  # Label.key
            text = data.get("text")
            if text is not None:
                text = parse_text(text, name="text")
            source = data.get("source") if gold else None
            if source is not None:
                source = _json_id(source, "source")
        except InputError as exc:
            raise InvalidSpans(str(exc)) from None
        # Attributes are checked against the label's schema by save_annotation.
        attributes = data.get("attributes")
        return cls(start, end, label, text, source, attributes)  # type: ignore[arg-type]


def _json_offset(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be an integer, not {type(value).__name__}.")
    return parse_offset(value, name=name)


def _json_id(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"A span's {name} must be the id of an editor span.")
    return parse_id(value, name=name)


class RelationInput(NamedTuple):
    """A relation of a write, its ends given as indexes into the write's span list."""

    from_index: int
    to_index: int
    type: str


@dataclass
class SaveResult:
    annotation: Annotation
    version: AnnotationVersion | None
    created: bool
    merged: bool = False
    spans: list[SpanRow] = field(default_factory=list)  # after a new version: current spans


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
    if not isinstance(span.label, str):
        return "label must be a label key (a string)"
    if span.text is not None and not isinstance(span.text, str):
        return "text must be a string"
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
    assigned, closed = (
        Article.objects.filter(pk=article.pk)
        .annotate(
            assigned=Exists(Assignment.objects.filter(article=OuterRef("pk"), editor=author)),
            closed=Exists(
                Annotation.objects.filter(
                    article=OuterRef("pk"), kind=Annotation.Kind.GOLD, final=True
                )
            ),
        )
        .values_list("assigned", "closed")
        .get()
    )
    if not assigned:
        raise NotAllowed("This article is not assigned to you.")
    if closed:
        raise Locked(
            "The gold annotation of this article is final; editors can no longer change it."
        )


def state_of(annotation: Annotation, version: int | None = None) -> frozenset[SpanKey]:
    rows = annotation.spans_at(version).values_list("start", "end", "label__key")
    return frozenset(SpanKey(*row) for row in rows)


class SpanRow(NamedTuple):
    """A current span as a write reads and answers it: plain values, no model instance
    (an annotation may hold thousands)."""

    id: int
    start: int
    end: int
    label: str
    label_order: int
    text: str
    source: int | None

    @property
    def key(self) -> SpanKey:
        return SpanKey(self.start, self.end, self.label)

    @property
    def text_order(self) -> tuple:
        """The order of ``Annotation.current_spans``."""
        return (self.start, self.end, self.label_order, self.label)


def current_rows(annotation: Annotation) -> list[SpanRow]:
    fields = ("pk", "start", "end", "label__key", "label__order", "text", "source_id")
    return [SpanRow(*row) for row in annotation.current_spans().values_list(*fields)]


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
    request_key: uuid.UUID | str | None = None,
    restored_from: int | None = None,
    allow_merge: bool = False,
    extra_summary: Mapping[str, object] | None = None,
) -> SaveResult:
    """Replace the annotation's span set, making version ``base_version + 1``.

    - A stale ``base_version`` raises StaleVersion (nothing written), unless ``allow_merge``
      and no span the concurrent versions changed overlaps a span we changed: then our
      change is applied on top of theirs (``versioning.merge``) and ``merged`` is set.
    - A request already seen (same ``request_key`` on this annotation) makes no version and
      returns the version it made then; the same key with a different change is refused.
    - A write that changes nothing, or a retry whose change is already the current state,
      makes no version and returns the current state.
    """
    spans = list(spans)
    _check_arguments(base_version, status, note)
    request_key = _as_uuid(request_key)
    labels = validate_spans(annotation.article, spans)
    check_may_write(annotation, author, role)
    wanted = frozenset(s.key for s in spans)
    sources = {s.key: s.source for s in spans if s.source is not None}
    _check_sources(annotation, sources)

    with transaction.atomic():
        # Lock the head row: concurrent writers to one annotation queue here (PostgreSQL
        # row lock; SQLite's IMMEDIATE transactions serialise all writers anyway). The
        # request-key lookup comes after the lock so that a duplicate sent while the first
        # request was still running sees the version the first one made.
        head, created = _lock_head(annotation)
        if request_key is not None and not created:
            replay = AnnotationVersion.objects.filter(
                annotation=head, request_key=request_key
            ).first()
            if replay is not None:
                if _replay_differs(head, replay, wanted, status, final):
                    raise RequestKeyReused(
                        f"This request key was already used for another change (version "
                        f"{replay.number}). Send a new key with a new change."
                    )
                _copy_head(head, annotation)
                return SaveResult(annotation=head, version=replay, created=False)

        merged = False
        if head.version != base_version:
            current = state_of(head)
            if current == wanted and _same_flags(head, status, final):
                _copy_head(head, annotation)
                return SaveResult(annotation=head, version=None, created=False)
            if not allow_merge or base_version > head.version:
                raise _stale(head, base_version)
            try:
                wanted = merge(state_of(head, base_version), wanted, current)
            except MergeConflict:
                raise _stale(head, base_version) from None
            merged = True

        reopening = final is False
        if head.is_gold and head.final and not reopening and state_of(head) != wanted:
            raise Locked("The gold annotation is final; reopen it before changing it.")

        current_spans = {} if created else {row.key: row for row in current_rows(head)}
        change = diff(frozenset(current_spans), wanted)
        new_status = status or head.status
        new_final = head.final if final is None else final
        if change.is_empty() and new_status == head.status and new_final == head.final:
            _copy_head(head, annotation)
            return SaveResult(annotation=head, version=None, created=False, merged=merged)
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
        for key, value in (extra_summary or {}).items():
            summary.setdefault(key, value)  # e.g. the editor versions a gold write used

        text = annotation.article.text if change.added else ""
        try:
            # The version row goes first: in a race the row lock did not cover (the head
            # changed outside this function), the unique (annotation, number) constraint
            # stops the second writer before it touches a span. A savepoint, so that the
            # transaction is still usable for _stale() below; none for an annotation this
            # transaction created, which nobody else can have written to.
            with transaction.atomic(savepoint=not created):
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
                if change.removed:
                    Span.objects.filter(
                        pk__in=[current_spans[k].id for k in change.removed]
                    ).update(removed_in=number)
                added = Span.objects.bulk_create(
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
        except IntegrityError:
            seen = head.version
            head.refresh_from_db(fields=["version", "status", "final"])
            if head.version != seen:
                raise _stale(head, base_version) from None
            raise
        now = timezone.now()
        Annotation.objects.filter(pk=head.pk).update(
            version=number, status=new_status, final=new_final, updated_at=now
        )
        previous_status = head.status
        head.version, head.status, head.final, head.updated_at = number, new_status, new_final, now
        _copy_head(head, annotation)
        _after_save(head, previous_status)
    kept = [row for key, row in current_spans.items() if key not in change.removed]
    new = [
        SpanRow(s.pk, s.start, s.end, s.label.key, s.label.order, s.text, s.source_id)
        for s in added
    ]
    return SaveResult(
        annotation=head,
        version=version,
        created=True,
        merged=merged,
        spans=sorted(kept + new, key=lambda row: row.text_order),
    )


def _lock_head(annotation: Annotation) -> tuple[Annotation, bool]:
    """The annotation's row, locked until the transaction ends, and whether this call created
    it: an annotation not saved yet (``pk`` None) is created at version 0 by its first write,
    in the same transaction, so a refused first write leaves no row."""
    rows = Annotation.objects.select_for_update().order_by("pk")  # no join to the user table
    article = annotation.article
    if annotation.pk is not None:
        head = rows.get(pk=annotation.pk)
    else:
        same = {"article": article, "kind": annotation.kind, "annotator": annotation.annotator}
        head = rows.filter(**same).first()
        if head is None:
            try:
                with transaction.atomic():  # a savepoint: the transaction survives a race
                    return Annotation.objects.create(**same), True
            except IntegrityError:
                head = rows.get(**same)  # a concurrent first write made it since the read
    head.article = article  # loaded already: spare the query
    return head, False


def _check_arguments(base_version: object, status: str | None, note: object) -> None:
    if not isinstance(base_version, int) or isinstance(base_version, bool) or base_version < 0:
        raise InvalidSpans("base_version must be a version number (0 or more).")
    if status is not None and status not in Annotation.Status.values:
        choices = ", ".join(Annotation.Status.values)
        raise InvalidSpans(f"status must be one of {choices}, not {status!r}.")
    if not isinstance(note, str):
        raise InvalidSpans("note must be text.")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidSpans(f"The note is too long: at most {MAX_NOTE_CHARS} characters.")


def _as_uuid(request_key: uuid.UUID | str | None) -> uuid.UUID | None:
    if request_key is None or isinstance(request_key, uuid.UUID):
        return request_key
    try:
        return uuid.UUID(str(request_key))
    except ValueError:
        raise InvalidSpans("The request key must be a UUID.") from None


def _check_sources(annotation: Annotation, sources: dict[SpanKey, object]) -> None:
    """A gold span may name the editor span it was accepted from, in the same article."""
    if not sources:
        return
    if not annotation.is_gold:
        raise InvalidSpans("Only gold spans can name a source span.")
    # Types first: a list or an object cannot go into a set, an id past 64 bits not into
    # SQLite's integers.
    if not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 < i <= INT64_MAX
        for i in sources.values()
    ):
        raise InvalidSpans("A span's source must be the id of an editor span.")
    wanted = set(sources.values())
    found = set(
        Span.objects.filter(
            pk__in=wanted,
            annotation__article_id=annotation.article_id,
            annotation__kind=Annotation.Kind.EDITOR,
        ).values_list("pk", flat=True)
    )
    missing = sorted(wanted - found)  # type: ignore[type-var]
    if missing:
        raise InvalidSpans(f"Source span {missing[0]} is not an editor span of this article.")


def _replay_differs(
    head: Annotation,
    replay: AnnotationVersion,
    wanted: frozenset[SpanKey],
    status: str | None,
    final: bool | None,
) -> bool:
    if status is not None and replay.status != status:
        return True
    if final is not None and replay.final != final:
        return True
    if "merged_from_base" in replay.summary:
        return False  # the stored state also holds the changes it was merged with
    return state_of(head, replay.number) != wanted


def _copy_head(head: Annotation, annotation: Annotation) -> None:
    """Keep the caller's object in step with the database."""
    if annotation is not head:
        annotation.version, annotation.status, annotation.final = (
            head.version,
            head.status,
            head.final,
        )


def _same_flags(head: Annotation, status: str | None, final: bool | None) -> bool:
    return (status is None or status == head.status) and (final is None or final == head.final)


def _stale(head: Annotation, base_version: int) -> StaleVersion:
    """What a writer based on `base_version` missed: the 409 body says what changed since."""
    since = list(
        AnnotationVersion.objects.filter(annotation=head, number__gt=base_version)
        .select_related("author")
        .order_by("number")[:50]
    )
    changes = [
        {
            "version": v.number,
            "author": v.author.username,
            "created_at": v.created_at.isoformat(),
            "summary": v.summary,
            "description": describe(v.summary),
            "note": v.note,
        }
        for v in since
    ]
    shown = "; ".join(f"v{c['version']} by {c['author']}: {c['description']}" for c in changes[:3])
    if len(changes) > 3:
        shown += f"; and {head.version - base_version - 3} more"
    what = f" ({shown})" if shown else ""
    if base_version > head.version:
        detail = f"There is no version {base_version} yet: this annotation is at version "
    else:
        detail = f"This annotation changed since version {base_version}: it is now at version "
    return StaleVersion(
        f"{detail}{head.version}{what}. Reload it and apply your change again.",
        current_version=head.version,
        changes=changes,
    )


def _after_save(annotation: Annotation, previous_status: str) -> None:
    """Hook for derived data that must stay in step with the annotation (same transaction)."""
    from .agreement import annotation_saved  # here: agreement imports nothing from this module

    annotation_saved(annotation, previous_status=previous_status)


def restore_version(
    *,
    annotation: Annotation,
    author,
    role: str | None,
    number: int,
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | str | None = None,
) -> SaveResult:
    """Make a new version whose spans equal version `number`; history is never rewritten.

    Status and finality stay as they are. Restoring a version equal to the current state
    makes no version (``created`` is False).
    """
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise InvalidSpans("The version to restore must be a number from 1.")
    if not AnnotationVersion.objects.filter(annotation=annotation, number=number).exists():
        raise InvalidSpans(f"Version {number} of this annotation does not exist.")
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
    return [SpanInput(r.start, r.end, r.label, r.text, r.source) for r in current_rows(annotation)]


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
