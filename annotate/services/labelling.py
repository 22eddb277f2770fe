"""The labelling page's domain: an editor's queue and progress, single-span changes and undo.

Every change goes through ``save_annotation``: a single-span change is sent as the span set
of the version the page showed plus or minus that span, with ``allow_merge`` so that a
change made meanwhile in another tab at other offsets is kept, not refused. Undo is a new
version whose spans equal an earlier one's; history is never rewritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber

from ..models import Annotation, AnnotationVersion, Article, Assignment, Flag, Project, Span
from ..models.facts import Relation
from ..offsets import OffsetError, from_utf16, snap_to_words
from ..span_checks import SpanConcern, concerns, span_concerns
from ..versioning import RelationKey, SpanKey, State, has_content_change
from . import workflow
from .annotations import (
    InvalidSpans,
    SaveResult,
    SpanInput,
    StaleVersion,
    annotation_for,
    full_state_of,
    origins_at,
    save_annotation,
)

UNDO_NOTE = "Undo"


class QueueStatus:
    """Where an assigned article stands for its editor."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    CLOSED = "closed"  # the gold is final: nothing more to do or change
    FLAGGED = "flagged"  # the editor flagged it instead of labelling it

    LABELS = {
        TODO: "Not started",
        IN_PROGRESS: "In progress",
        SUBMITTED: "Submitted",
        CLOSED: "Closed",
        FLAGGED: "Flagged",
    }
    FILTERS = {
        "open": "To do",
        "done": "Done",
        "all": "All",
    }


# Queue and progress


def _own_annotation(field: str) -> Subquery:
    return Subquery(
        Annotation.objects.filter(
            article_id=OuterRef("article_id"),
            annotator_id=OuterRef("editor_id"),
            kind=Annotation.Kind.EDITOR,
        )
        # No ordering: at most one row matches, and the model's ordering would join the
        # article, its project and the user into every row's subquery.
        .order_by()
        .values(field)[:1]
    )


def _gold_final() -> Exists:
    return Exists(
        Annotation.objects.filter(
            article_id=OuterRef("article_id"), kind=Annotation.Kind.GOLD, final=True
        )
    )


def _flagged() -> Exists:
    """The editor flagged the article and no reviewer has dismissed the flag: skipped."""
    return Exists(
        Flag.objects.standing().filter(
            article_id=OuterRef("article_id"), raised_by_id=OuterRef("editor_id")
        )
    )


def _with_state(assignments: QuerySet[Assignment]) -> QuerySet[Assignment]:
    return assignments.annotate(
        # Coalesced: a NULL would make exclude() drop the articles nobody has started.
        ann_status=Coalesce(_own_annotation("status"), Value(""), output_field=CharField()),
        ann_version=Coalesce(_own_annotation("version"), Value(0), output_field=IntegerField()),
        closed=_gold_final(),
        flagged=_flagged(),
    )


def with_editor_state(assignments: QuerySet[Assignment]) -> QuerySet[Assignment]:
    """Assignments with ``ann_status``, ``ann_version``, ``closed`` and ``flagged``."""
    return _with_state(assignments)


def _done() -> Q:
    return Q(ann_status=Annotation.Status.SUBMITTED) | Q(closed=True) | Q(flagged=True)


def queue(user, project: Project, which: str = "all") -> QuerySet[Assignment]:
    """The editor's assignments in the project, in article order, each annotated with
    ``ann_status``, ``ann_version``, ``closed`` and ``span_count`` (one query)."""
    span_count = Subquery(
        Span.objects.filter(
            annotation__article_id=OuterRef("article_id"),
            annotation__annotator_id=OuterRef("editor_id"),
            annotation__kind=Annotation.Kind.EDITOR,
            removed_in__isnull=True,
        )
        .order_by()
        .values("annotation_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    rows = _with_state(
        Assignment.objects.filter(editor=user, article__project=project).select_related("article")
    ).annotate(span_count=Coalesce(span_count, Value(0), output_field=IntegerField()))
    if which == "open":
        rows = rows.exclude(_done())
    elif which == "done":
        rows = rows.filter(_done())
    return rows.order_by("article_id")


def queue_status(row: Assignment) -> str:
    """The QueueStatus of a row from :func:`queue`."""
    if row.closed:  # type: ignore[attr-defined]
        return QueueStatus.CLOSED
    if row.ann_status == Annotation.Status.SUBMITTED:  # type: ignore[attr-defined]
        return QueueStatus.SUBMITTED
    if row.flagged:  # type: ignore[attr-defined]
        return QueueStatus.FLAGGED
    if row.ann_version:  # type: ignore[attr-defined]
        return QueueStatus.IN_PROGRESS
    return QueueStatus.TODO


@dataclass(frozen=True)
class Progress:
    assigned: int = 0
    submitted: int = 0
    in_progress: int = 0
    closed: int = 0
    flagged: int = 0

    @property
    def done(self) -> int:
        return self.submitted + self.closed + self.flagged

    @property
    def todo(self) -> int:
        return self.assigned - self.done - self.in_progress

    @property
    def open(self) -> int:
        return self.assigned - self.done

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.assigned) if self.assigned else 0


def progress_by_project(user, project_ids: Iterable[int] | None = None) -> dict[int, Progress]:
    """The editor's progress in each project, in one query."""
    rows = _with_state(Assignment.objects.filter(editor=user))
    if project_ids is not None:
        rows = rows.filter(article__project_id__in=list(project_ids))
    totals = (
        rows.order_by()
        .values(project_id=F("article__project_id"))
        .annotate(
            assigned=Count("pk"),
            closed_n=Count("pk", filter=Q(closed=True)),
            submitted_n=Count(
                "pk", filter=Q(ann_status=Annotation.Status.SUBMITTED) & Q(closed=False)
            ),
            in_progress_n=Count(
                "pk",
                filter=Q(ann_status=Annotation.Status.IN_PROGRESS, ann_version__gt=0)
                & Q(closed=False, flagged=False),
            ),
            flagged_n=Count(
                "pk",
                filter=Q(flagged=True, closed=False) & ~Q(ann_status=Annotation.Status.SUBMITTED),
            ),
        )
    )
    return {
        row["project_id"]: Progress(
            assigned=row["assigned"],
            submitted=row["submitted_n"],
            in_progress=row["in_progress_n"],
            closed=row["closed_n"],
            flagged=row["flagged_n"],
        )
        for row in totals
    }


def open_previews(user, per_project: int = 5) -> dict[int, list[Assignment]]:
    """The first few articles the editor still has to do, per project, in one query."""
    rows = (
        _with_state(Assignment.objects.filter(editor=user))
        .exclude(_done())
        .annotate(
            rank=Window(
                RowNumber(), partition_by=F("article__project_id"), order_by=F("article_id").asc()
            )
        )
        .filter(rank__lte=per_project)
        .select_related("article")
        .order_by("article__project_id", "article_id")
    )
    result: dict[int, list[Assignment]] = {}
    for row in rows:
        row.queue_status = queue_status(row)
        result.setdefault(row.article.project_id, []).append(row)
    return result


def next_article_for(user, project: Project, after: int | None = None) -> Article | None:
    """The editor's next article that is not done: the first one after `after` in the queue,
    wrapping around to the start; `after` itself only if it is the last one left. Articles
    nobody started within the project's timeout go to other editors first."""
    workflow.release_stale_assignments(project)
    # Each step reads one row in article order (the editor's assignments by article id,
    # assignment_editor_article_idx), never the whole queue: an editor may have 10,000.
    open_ids = queue(user, project, "open").values_list("article_id", flat=True)
    if after is None:
        chosen = open_ids.first()
    else:
        chosen = open_ids.filter(article_id__gt=after).first()
        if chosen is None:
            chosen = open_ids.exclude(article_id=after).first()
        if chosen is None and open_ids.filter(article_id=after).exists():
            chosen = after
    if chosen is None:
        return None
    return Article.objects.filter(pk=chosen).first()


def queue_position(user, article: Article) -> tuple[int, int]:
    """(position of the article among the editor's articles still to do, 1-based; how many
    are still to do), as the project page counts them; (0, n) for an article that is done."""
    rows = queue(user, article.project, "open").order_by()
    counts = rows.aggregate(
        total=Count("pk"),
        upto=Count("pk", filter=Q(article_id__lte=article.pk)),
        here=Count("pk", filter=Q(article_id=article.pk)),
    )
    return (counts["upto"] if counts["here"] else 0), counts["total"]


def gold_is_final(article: Article) -> bool:
    return Annotation.objects.filter(
        article=article, kind=Annotation.Kind.GOLD, final=True
    ).exists()


@dataclass(frozen=True, slots=True)
class PageSpan:
    """A current span as the page shows it; lighter than a model instance (pages hold
    hundreds)."""

    pk: int
    start: int
    end: int
    label: str
    label_id: int
    text: str
    # Its attribute values (facts), as stored; {} when it has none.
    attributes: Mapping[str, object] = field(default_factory=dict, hash=False, compare=False)

    @property
    def id(self) -> int:
        return self.pk

    @property
    def quote(self) -> str:
        """The text, shortened for the span list."""
        return self.text if len(self.text) <= 80 else self.text[:79] + "…"


def current_span_rows(annotation: Annotation, labels: Iterable) -> list[PageSpan]:
    """The annotation's current spans in text order, in one query."""
    if not annotation.pk:
        return []
    keys = {label.pk: label.key for label in labels}
    rows = (
        Span.objects.filter(annotation=annotation, removed_in__isnull=True)
        .order_by("start", "-end", "label__order", "label__key")
        .values_list("pk", "start", "end", "label_id", "text", "attributes")
    )
    return [
        PageSpan(pk, s, e, keys[label], label, text, values if isinstance(values, dict) else {})
        for pk, s, e, label, text, values in rows
    ]


# Single-span changes


class NeedsConfirmation(InvalidSpans):
    """A span that looks like a slip (Ctrl+A, a stray drag): saved only when confirmed."""

    def __init__(self, detail: str, *, span: SpanInput, reasons: tuple[str, ...]):
        super().__init__(detail, errors={"confirm": list(reasons)})
        self.span = span
        self.reasons = reasons


def span_from_selection(
    article: Article,
    *,
    start: int,
    end: int,
    quote: str,
    label: str,
    snap: bool = True,
) -> SpanInput:
    """The span an editor meant by a browser selection given in UTF-16 offsets.

    `quote` is the selected text as the browser saw it: it must equal the article text at
    those offsets, so a page whose text differs from the stored one cannot save a span at
    the wrong place. With `snap`, the selection grows to whole words and loses the space
    and punctuation around it.
    """
    text = article.text
    try:
        s, e = from_utf16(text, start), from_utf16(text, end)
    except OffsetError as exc:
        raise InvalidSpans(f"The selection is not inside the text: {exc}.") from None
    if e <= s:
        raise InvalidSpans("The selection is empty: select some words first.")
    if quote.replace("\r\n", "\n") != text[s:e]:
        raise InvalidSpans(
            "The selected text does not match the article at that place. "
            "Reload the page and select it again."
        )
    if snap:
        s, e = snap_to_words(text, s, e)
    if not text[s:e].strip():
        raise InvalidSpans("The selection holds only spaces: select some words first.")
    return SpanInput(s, e, label, text[s:e])


def check_confirmed(article: Article, span: SpanInput, *, confirmed: bool) -> None:
    """NeedsConfirmation for a span that crosses a paragraph break or is longer than the
    project's limit, unless the editor `confirmed` it (the page asks them first)."""
    reasons = concerns(article.text, span.start, span.end, article.project.long_span_chars)
    if reasons and not confirmed:
        raise NeedsConfirmation(
            f"This {span.label} span {' and '.join(reasons)}: is that what you meant? "
            "Confirm to save it.",
            span=span,
            reasons=reasons,
        )


def suspect_spans(annotation: Annotation) -> list[SpanConcern]:
    """The annotation's current spans that cross a paragraph break or are longer than the
    project's limit: what a reviewer should look at before marking a gold final."""
    if not annotation.pk:
        return []
    article = annotation.article
    rows = Span.objects.filter(annotation=annotation, removed_in__isnull=True).values_list(
        "start", "end", "label__key"
    )
    return span_concerns(article.text, rows, article.project.long_span_chars)


def _state(annotation: Annotation, version: int) -> frozenset[SpanKey]:
    """The span set at `version` (like annotations.state_of, without model instances)."""
    rows = (
        Span.objects.filter(annotation=annotation, added_in__lte=version)
        .filter(Q(removed_in__isnull=True) | Q(removed_in__gt=version))
        .values_list("start", "end", "label__key")
    )
    return frozenset(SpanKey(*row) for row in rows)


def _inputs(keys: Iterable[SpanKey]) -> list[SpanInput]:
    return [SpanInput(k.start, k.end, k.label) for k in keys]


def _span_at_base(annotation: Annotation, span_id: int, base_version: int) -> Span:
    """The span `span_id` of this annotation, which the page (at `base_version`) showed."""
    span = Span.objects.filter(pk=span_id, annotation=annotation).select_related("label").first()
    if span is None:
        raise InvalidSpans("There is no such span in your annotation.")
    if not (
        span.added_in <= base_version
        and (span.removed_in is None or span.removed_in > base_version)
    ):
        raise StaleVersion(
            "This span is no longer where your page shows it: the annotation changed in "
            "another tab or window. Reload to see the current state.",
            current_version=annotation.version,
            changes=[],
        )
    return span


def _save_change(
    annotation: Annotation,
    author,
    role: str | None,
    base_version: int,
    spans: list[SpanInput],
    request_key: uuid.UUID | str | None,
    **kwargs,
) -> SaveResult:
    return save_annotation(
        annotation=annotation,
        author=author,
        role=role,
        base_version=base_version,
        spans=spans,
        request_key=request_key,
        **kwargs,
    )


def _edit_one_span(
    article: Article,
    author,
    role: str | None,
    base_version: int,
    request_key: uuid.UUID | str | None,
    edit: Callable[[Annotation, frozenset[SpanKey]], frozenset[SpanKey]],
) -> SaveResult:
    """Apply `edit` to the span set the page showed (version `base_version`). A single-span
    edit is rebased onto newer versions when nothing it touches changed meanwhile."""
    annotation = annotation_for(article, author)
    spans = _inputs(edit(annotation, _state(annotation, base_version)))
    return _save_change(
        annotation, author, role, base_version, spans, request_key, allow_merge=True
    )


@transaction.atomic
def add_span(
    *,
    article: Article,
    author,
    role: str | None,
    base_version: int,
    span: SpanInput,
    request_key: uuid.UUID | str | None = None,
    confirmed: bool = False,
) -> SaveResult:
    """Add one span to the editor's annotation of the article. A span that looks like a slip
    (see :func:`check_confirmed`) needs `confirmed`."""
    check_confirmed(article, span, confirmed=confirmed)
    # The span goes in as sent (not as a bare key), so its quote is checked against the text.
    annotation = annotation_for(article, author)
    base = _state(annotation, base_version)
    spans = _inputs(base) + ([span] if span.key not in base else [])
    return _save_change(
        annotation, author, role, base_version, spans, request_key, allow_merge=True
    )


@transaction.atomic
def remove_span(
    *,
    article: Article,
    author,
    role: str | None,
    base_version: int,
    span_id: int,
    request_key: uuid.UUID | str | None = None,
) -> SaveResult:
    def edit(annotation: Annotation, base: frozenset[SpanKey]) -> frozenset[SpanKey]:
        old = _span_at_base(annotation, span_id, base_version)
        return base - {SpanKey(old.start, old.end, old.label.key)}

    return _edit_one_span(article, author, role, base_version, request_key, edit)


@transaction.atomic
def relabel_span(
    *,
    article: Article,
    author,
    role: str | None,
    base_version: int,
    span_id: int,
    label: str,
    request_key: uuid.UUID | str | None = None,
) -> SaveResult:
    def edit(annotation: Annotation, base: frozenset[SpanKey]) -> frozenset[SpanKey]:
        old = _span_at_base(annotation, span_id, base_version)
        return (base - {SpanKey(old.start, old.end, old.label.key)}) | {
            SpanKey(old.start, old.end, label)
        }

    return _edit_one_span(article, author, role, base_version, request_key, edit)


@transaction.atomic
def submit(
    *,
    article: Article,
    author,
    role: str | None,
    base_version: int,
    request_key: uuid.UUID | str | None = None,
) -> SaveResult:
    """Mark the annotation submitted, exactly as the page showed it (a stale page is refused:
    the editor submits what they saw)."""
    annotation = annotation_for(article, author)
    spans = _inputs(_state(annotation, base_version))
    return _save_change(
        annotation,
        author,
        role,
        base_version,
        spans,
        request_key,
        status=Annotation.Status.SUBMITTED,
    )


# Facts: a span's attributes, relations between spans


@dataclass(frozen=True, slots=True)
class RelationRow:
    """A current relation as the page shows it: its row id (what ``remove_relation``
    takes), its type and its two ends."""

    pk: int
    type: str
    from_span: SpanKey
    to_span: SpanKey


_ENDS = ("from_start", "from_end", "from_label__key", "to_start", "to_end", "to_label__key")


def current_relation_rows(annotation: Annotation) -> list[RelationRow]:
    """The annotation's current relations in text order of their first end, in one query."""
    if not annotation.pk:
        return []
    rows = (
        Relation.objects.filter(annotation=annotation)
        .current()
        .order_by("from_start", "-from_end", "to_start", "-to_end", "type__order")
        .values_list("pk", "type__key", *_ENDS)
    )
    return [
        RelationRow(pk, kind, SpanKey(fs, fe, fl), SpanKey(ts, te, tl))
        for pk, kind, fs, fe, fl, ts, te, tl in rows
    ]


def _edit_facts(
    article: Article,
    author,
    role: str | None,
    base_version: int,
    request_key: uuid.UUID | str | None,
    edit: Callable[[Annotation, State], tuple[dict[SpanKey, Mapping], frozenset[RelationKey]]],
) -> SaveResult:
    """Apply `edit` to the state the page showed (version `base_version`). `edit` returns
    the attributes it sets (by span) and the whole relation set; every other span keeps its
    attributes. Rebased onto newer versions when nothing it touches changed meanwhile."""
    annotation = annotation_for(article, author)
    base = full_state_of(annotation, base_version)
    attributes, relations = edit(annotation, base)
    spans = [
        SpanInput(k.start, k.end, k.label, attributes=attributes.get(k)) for k in sorted(base.spans)
    ]
    return _save_change(
        annotation,
        author,
        role,
        base_version,
        spans,
        request_key,
        relations=relations,
        allow_merge=True,
    )


def _key_at_base(annotation: Annotation, span_id: object, base_version: int) -> SpanKey:
    if not isinstance(span_id, int) or isinstance(span_id, bool):
        raise InvalidSpans("Say which span: its id is a number.")
    span = _span_at_base(annotation, span_id, base_version)
    return SpanKey(span.start, span.end, span.label.key)


@transaction.atomic
def set_span_attributes(
    *,
    article: Article,
    author,
    role: str | None,
    base_version: int,
    span_id: int,
    attributes: Mapping[str, object],
    request_key: uuid.UUID | str | None = None,
) -> SaveResult:
    """Give span `span_id` (as the page at `base_version` showed it) these attribute values,
    replacing the ones it had: a key left out or None means "not given". One new version;
    the span keeps its relations (they are tied to its offsets and label, not its row).
    Values that do not fit the label's schema raise InvalidSpans naming the attribute."""

    def edit(annotation: Annotation, base: State):
        key = _key_at_base(annotation, span_id, base_version)
        return {key: dict(attributes)}, base.relations

    return _edit_facts(article, author, role, base_version, request_key, edit)


@transaction.atomic
def add_relation(
    *,
    article: Article,
    author,
    role: str | None,
    base_version: int,
    from_span_id: int,
    to_span_id: int,
    type: str,
    request_key: uuid.UUID | str | None = None,
) -> SaveResult:
    """Relate span `from_span_id` to span `to_span_id` (ids as the page at `base_version`
    showed them) with relation type key `type`. One new version; InvalidSpans when the type
    does not allow those labels, the two spans are one, or the relation exists already."""

    def edit(annotation: Annotation, base: State):
        source = _key_at_base(annotation, from_span_id, base_version)
        target = _key_at_base(annotation, to_span_id, base_version)
        relation = RelationKey(source, target, type)
        if relation in base.relations:
            raise InvalidSpans(f"These two spans are already related as {type}.")
        return {}, base.relations | {relation}

    return _edit_facts(article, author, role, base_version, request_key, edit)


@transaction.atomic
def remove_relation(
    *,
    article: Article,
    author,
    role: str | None,
    base_version: int,
    relation_id: int,
    request_key: uuid.UUID | str | None = None,
) -> SaveResult:
    """Remove relation `relation_id` (a ``RelationRow.pk`` the page at `base_version`
    showed). One new version. Deleting a span removes its relations by itself."""

    def edit(annotation: Annotation, base: State):
        if not isinstance(relation_id, int) or isinstance(relation_id, bool):
            raise InvalidSpans("Say which relation: its id is a number.")
        row = Relation.objects.filter(pk=relation_id, annotation=annotation).first()
        if row is None:
            raise InvalidSpans("There is no such relation in your annotation.")
        if not (
            row.added_in <= base_version
            and (row.removed_in is None or row.removed_in > base_version)
        ):
            raise StaleVersion(
                "This relation is no longer where your page shows it: the annotation changed "
                "in another tab or window. Reload to see the current state.",
                current_version=annotation.version,
                changes=[],
            )
        key = RelationKey(
            SpanKey(row.from_start, row.from_end, row.from_label.key),
            SpanKey(row.to_start, row.to_end, row.to_label.key),
            row.type.key,
        )
        return {}, base.relations - {key}

    return _edit_facts(article, author, role, base_version, request_key, edit)


# Undo


def _as_request_key(value: uuid.UUID | str | None) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidSpans("The request key must be a UUID.") from None


@dataclass(frozen=True)
class UndoStep:
    """Undoing version `undoes` brings the spans back to those of version `target`."""

    undoes: int
    target: int
    summary: Mapping


def _is_undo(note: str, restored_from: int | None) -> bool:
    return restored_from is not None and note == UNDO_NOTE


def undo_step(versions: Iterable[tuple[int, int | None, str, Mapping]]) -> UndoStep | None:
    """What "undo" does now, given the versions as (number, restored_from, note, summary).

    Undo goes back one span change at a time: an earlier undo is skipped together with the
    change it undid (so undoing twice goes two changes back, never redoes), and versions
    that changed only the status (a submit) are passed over.
    """
    by_number = {
        number: (restored, note, summary or {}) for number, restored, note, summary in versions
    }
    number = max(by_number, default=0)
    while number > 0 and number in by_number:
        restored, note, summary = by_number[number]
        if _is_undo(note, restored) and restored is not None and restored < number:
            number = restored
            continue
        if not has_content_change(summary):
            number -= 1
            continue
        return UndoStep(undoes=number, target=number - 1, summary=summary)
    return None


def undo_step_for(annotation: Annotation | None) -> UndoStep | None:
    if annotation is None or not annotation.pk or not annotation.version:
        return None
    versions = AnnotationVersion.objects.filter(annotation=annotation).values_list(
        "number", "restored_from", "note", "summary"
    )
    return undo_step(versions)


@transaction.atomic
def undo(
    *,
    article: Article,
    author,
    role: str | None,
    base_version: int,
    request_key: uuid.UUID | str | None = None,
) -> SaveResult:
    """Undo the last span change: a new version with the spans from before it.

    Refused on a stale page, which might otherwise undo a change it never showed.
    """
    annotation = annotation_for(article, author)
    key = _as_request_key(request_key)
    replay = (
        AnnotationVersion.objects.filter(annotation=annotation, request_key=key).first()
        if key
        else None
    )
    if replay is not None:
        # The same undo sent twice: the step is computed anew each time, so answer here.
        return SaveResult(annotation=annotation, version=replay, created=False)
    if base_version != annotation.version:
        raise StaleVersion(
            f"This annotation changed since your page showed it (version {base_version}; it "
            f"is now at version {annotation.version}). Reload before undoing, so that you "
            "undo the change you mean.",
            current_version=annotation.version,
            changes=[],
        )
    step = undo_step_for(annotation)
    if step is None:
        raise InvalidSpans("There is nothing to undo.")
    target = full_state_of(annotation, step.target)
    origins = origins_at(annotation, step.target)  # accepted suggestions stay so when undone
    return _save_change(
        annotation,
        author,
        role,
        base_version,
        [
            SpanInput(
                k.start,
                k.end,
                k.label,
                attributes=target.attributes_of(k),
                origin=origins.get(k, ""),
            )
            for k in sorted(target.spans)
        ],
        key,
        relations=target.relations,
        stored_facts=True,
        note=UNDO_NOTE,
        restored_from=step.target,
    )
