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

from ..facts.schema import (
    FactError,
    check_attributes,
    missing_required,
    relation_fits,
    relation_problems,
)
from ..inputs import INT64_MAX, InputError, parse_id, parse_offset, parse_text
from ..models import (
    Annotation,
    AnnotationVersion,
    Article,
    Assignment,
    AttributeDefinition,
    Label,
    Role,
    Span,
)
from ..models.facts import RELATION_KEY_FIELDS, ProjectFacts, Relation, load_facts, relation_key
from ..versioning import (
    MergeConflict,
    RelationKey,
    SpanKey,
    State,
    StateChange,
    describe,
    diff_states,
    merge_states,
)

MAX_SPANS_PER_ANNOTATION = 10_000
MAX_NOTE_CHARS = 2_000
ORIGINS = frozenset({"", "gold", "model"})  # Span.origin
MAX_RELATIONS_PER_ANNOTATION = 10_000


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
    # The label's attribute values; None (not {}) keeps those the same span has now.
    attributes: Mapping[str, object] | None = field(default=None, hash=False)
    # Where the span started ("", "gold", "model": Span.origin); None keeps the same span's.
    origin: str | None = field(default=None, compare=False)

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
    relations: list[RelationKey] = field(default_factory=list)  # ... and current relations
    facts: ProjectFacts | None = None  # the project's fact schema, as far as the write read it


def validate_spans(article: Article, spans: Iterable[SpanInput]) -> dict[str, Label]:
    """Check every span against the article; raise InvalidSpans listing each problem by index.

    Returns the project's labels by key.
    """
    # has_required: whether submitting needs the label's attribute specs (read only then).
    required = AttributeDefinition.objects.filter(label=OuterRef("pk"), required=True)
    rows = Label.objects.filter(project_id=article.project_id).annotate(
        has_required=Exists(required)
    )
    labels = {label.key: label for label in rows}
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


def full_state_of(annotation: Annotation, version: int | None = None) -> State:
    """Spans, attributes and relations as of `version` (default: the current one); two
    queries."""
    if annotation.pk is None:
        return State()
    number = annotation.version if version is None else version
    rows = annotation.spans_at(number).values_list("start", "end", "label__key", "attributes")
    spans = {SpanKey(s, e, label): attributes for s, e, label, attributes in rows}
    relations = Relation.objects.filter(annotation=annotation).at(number)
    return State(
        frozenset(spans),
        {k: v for k, v in spans.items() if v},
        frozenset(relation_key(row) for row in relations.values_list(*RELATION_KEY_FIELDS)),
    )


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
    attributes: Mapping[str, object]
    origin: str = ""

    @property
    def key(self) -> SpanKey:
        return SpanKey(self.start, self.end, self.label)

    @property
    def text_order(self) -> tuple:
        """The order of ``Annotation.current_spans``."""
        return (self.start, self.end, self.label_order, self.label)


def current_rows(annotation: Annotation) -> list[SpanRow]:
    fields = ("pk", "start", "end", "label__key", "label__order", "text", "source_id")
    rows = annotation.current_spans().values_list(*fields, "attributes", "origin")
    return [SpanRow(*row) for row in rows]


def origins_at(annotation: Annotation, version: int) -> dict[SpanKey, str]:
    """The spans of version `version` that started as suggestions, and where from."""
    rows = (
        annotation.spans_at(version)
        .exclude(origin="")
        .values_list("start", "end", "label__key", "origin")
    )
    return {SpanKey(s, e, label): origin for s, e, label, origin in rows}


def current_relations(annotation: Annotation) -> dict[RelationKey, int]:
    """The annotation's current relations and their row ids, in one query."""
    rows = Relation.objects.filter(annotation=annotation).current()
    return {relation_key(row[1:]): row[0] for row in rows.values_list("pk", *RELATION_KEY_FIELDS)}


@dataclass
class _Write:
    """A write, checked: what the caller asked for, before the annotation is locked."""

    spans: list[SpanInput]
    labels: dict[str, Label]
    facts: ProjectFacts
    sources: dict[SpanKey, int]
    attributes: dict[SpanKey, dict[str, object]]  # given explicitly (validated)
    relations: frozenset[RelationKey] | None  # None: keep those whose ends stay
    request_key: uuid.UUID | None
    origins: dict[SpanKey, str] = field(default_factory=dict)  # given explicitly

    def state(self, reference: State) -> State:
        """The state this write asks for. What it leaves out (a span's attributes, the
        relations) is taken from `reference`: the state the writer saw."""
        keys = frozenset(s.key for s in self.spans)
        attributes = {
            k: self.attributes[k] if k in self.attributes else reference.attributes_of(k)
            for k in keys
        }
        relations = self.relations
        if relations is None:
            types = self.facts.relations if reference.relations else {}
            relations = frozenset(
                r
                for r in reference.relations
                if r.from_span in keys and r.to_span in keys and relation_fits(r, types)
            )
        return State(keys, attributes, relations)


@dataclass
class _Plan:
    """What the write will store, once compared with the locked head."""

    current: State
    wanted: State
    change: StateChange
    rows: dict[SpanKey, SpanRow]
    relation_ids: dict[RelationKey, int]
    status: str
    final: bool
    merged: bool


def save_annotation(
    *,
    annotation: Annotation,
    author,
    role: str | None,
    base_version: int,
    spans: Iterable[SpanInput],
    relations: Iterable[RelationInput | RelationKey] | None = None,
    status: str | None = None,
    final: bool | None = None,
    note: str = "",
    request_key: uuid.UUID | str | None = None,
    restored_from: int | None = None,
    allow_merge: bool = False,
    extra_summary: Mapping[str, object] | None = None,
    stored_facts: bool = False,
) -> SaveResult:
    """Replace the annotation's content (spans, their attributes, relations), making version
    ``base_version + 1``.

    - A span whose ``attributes`` is None keeps the attributes the same span (offsets and
      label) has; ``relations`` None keeps the relations whose two ends are still there and
      still fit their type. An explicit ``{}`` or ``[]`` replaces. Relations are given as
      indexes into `spans` (``RelationInput``) or by their ends (``RelationKey``).
    - Required attributes are enforced when submitting (``status`` submitted) and when
      making the gold final.
    - ``stored_facts``: the attributes and relations (``RelationKey``) come from a stored
      version (restore, undo) and are reproduced as they are, not checked again against a
      schema that may have changed since.
    - A stale ``base_version`` raises StaleVersion (nothing written), unless ``allow_merge``
      and nothing the concurrent versions changed overlaps anything we changed: then our
      change is applied on top of theirs (``versioning.merge_states``) and ``merged`` is set.
    - A request already seen (same ``request_key`` on this annotation) makes no version and
      returns the version it made then; the same key with a different change is refused.
    - A write that changes nothing, or a retry whose change is already the current state,
      makes no version and returns the current state.
    """
    write = _check_write(
        annotation, author, role, base_version, spans, relations, status, note, request_key,
        stored_facts,
    )  # fmt: skip
    with transaction.atomic():
        # Lock the head row: concurrent writers to one annotation queue here (PostgreSQL
        # row lock; SQLite's IMMEDIATE transactions serialise all writers anyway). The
        # request-key lookup comes after the lock so that a duplicate sent while the first
        # request was still running sees the version the first one made.
        head, created = _lock_head(annotation)
        replay = _replayed(head, created, write, status, final)
        if replay is not None:
            _copy_head(head, annotation)
            return SaveResult(annotation=head, version=replay, created=False)
        plan = _compare(head, created, write, base_version, status, final, allow_merge)
        if plan is None:
            _copy_head(head, annotation)
            return SaveResult(annotation=head, version=None, created=False)
        if plan.change.is_empty() and plan.status == head.status and plan.final == head.final:
            _copy_head(head, annotation)
            return SaveResult(annotation=head, version=None, created=False, merged=plan.merged)
        _check_complete(write, plan, status, final, head)
        summary = _summary(plan, head, restored_from, base_version, extra_summary)
        version, added = _write_version(
            head, created, write, plan, base_version, author, note, summary, restored_from
        )
        previous_status, was_final = head.status, head.final
        _move_head(head, version.number, plan.status, plan.final)
        _copy_head(head, annotation)
        _after_save(head, previous_status)
        if head.is_gold and (was_final or plan.final):
            from .suggestions import final_gold_changed  # suggestions reads this module

            final_gold_changed(
                head,
                before=plan.current.spans if was_final else frozenset(),
                after=plan.wanted.spans if plan.final else frozenset(),
            )
    return _result(head, version, write, plan, added)


def _check_write(
    annotation: Annotation,
    author,
    role: str | None,
    base_version: int,
    spans: Iterable[SpanInput],
    relations: Iterable[RelationInput | RelationKey] | None,
    status: str | None,
    note: str,
    request_key: uuid.UUID | str | None,
    stored_facts: bool,
) -> _Write:
    """Every check that needs no lock: arguments, spans, facts, the caller's rights."""
    spans = list(spans)
    _check_arguments(base_version, status, note)
    key = _as_uuid(request_key)
    labels = validate_spans(annotation.article, spans)
    facts = load_facts(annotation.article.project_id)
    if stored_facts:
        attributes, checked = _stored_facts(spans, relations)
    else:
        attributes = _check_attributes(spans, facts)
        checked = None if relations is None else _check_relations(spans, relations, facts)
    check_may_write(annotation, author, role)
    sources = {s.key: s.source for s in spans if s.source is not None}
    _check_sources(annotation, sources)
    origins = {s.key: s.origin for s in spans if s.origin is not None}
    if not set(origins.values()) <= ORIGINS:
        raise InvalidSpans(f"A span's origin must be one of {', '.join(sorted(ORIGINS))}.")
    return _Write(spans, labels, facts, sources, attributes, checked, key, origins)  # type: ignore[arg-type]


def _stored_facts(
    spans: list[SpanInput], relations: Iterable[RelationInput | RelationKey] | None
) -> tuple[dict[SpanKey, dict], frozenset[RelationKey] | None]:
    """Attributes and relations of a stored version, as they were (relations whose ends are
    among the spans)."""
    attributes = {
        s.key: {k: v for k, v in s.attributes.items() if v is not None}
        for s in spans
        if isinstance(s.attributes, Mapping)
    }
    if relations is None:
        return attributes, None
    keys = {s.key for s in spans}
    kept = frozenset(
        r for r in relations if isinstance(r, RelationKey) and {r.from_span, r.to_span} <= keys
    )
    return attributes, kept


def _check_attributes(spans: list[SpanInput], schema: ProjectFacts) -> dict[SpanKey, dict]:
    """The attributes given explicitly, normalised; InvalidSpans naming each span by index."""
    result: dict[SpanKey, dict] = {}
    errors: list[dict[str, object]] = []
    for index, span in enumerate(spans):
        if span.attributes is None:
            continue
        try:
            result[span.key] = check_attributes(
                span.label, span.attributes, schema.specs_for(span.label)
            )
        except FactError as error:
            errors.append({"index": index, "detail": str(error)})
    if errors:
        raise _invalid("Span", "index", errors)
    return result


def _check_relations(
    spans: list[SpanInput],
    relations: Iterable[RelationInput | RelationKey],
    schema: ProjectFacts,
) -> frozenset[RelationKey]:
    """The relations as keys; InvalidSpans naming each bad relation by index: an end that is
    not a span of the write, a type the project lacks, labels the type does not allow, a
    self-loop, a relation given twice."""
    relations = list(relations)
    if len(relations) > MAX_RELATIONS_PER_ANNOTATION:
        raise InvalidSpans(
            f"Too many relations: at most {MAX_RELATIONS_PER_ANNOTATION} per annotation."
        )
    keys = [s.key for s in spans]
    index_of = {k: i for i, k in enumerate(keys)}
    refs: list[tuple[object, object, object]] = []
    missing: dict[int, str] = {}
    for index, relation in enumerate(relations):
        if isinstance(relation, RelationKey):
            ends = (index_of.get(relation.from_span, -1), index_of.get(relation.to_span, -1))
            refs.append((*ends, relation.type))
            gone = [k for k, i in zip(relation[:2], ends, strict=True) if i < 0]
            if gone:
                missing[index] = (
                    f"its end {gone[0].label} {gone[0].start}:{gone[0].end} is not a span"
                )
        else:
            refs.append(tuple(relation))  # type: ignore[arg-type]
    problems = [(i, missing.get(i, d)) for i, d in relation_problems(refs, keys, schema.relations)]
    if problems:
        raise _invalid("Relation", "relation", [{"relation": i, "detail": d} for i, d in problems])
    return frozenset(RelationKey(keys[f], keys[t], kind) for f, t, kind in refs)  # type: ignore[index]


def _invalid(what: str, field_name: str, errors: list[dict[str, object]]) -> InvalidSpans:
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidSpans(f"{what} {first[field_name]}: {first['detail']}{more}.", errors=errors)


def _replayed(
    head: Annotation, created: bool, write: _Write, status: str | None, final: bool | None
) -> AnnotationVersion | None:
    """The version an earlier request with the same key made (None: a new request)."""
    if write.request_key is None or created:
        return None
    replay = AnnotationVersion.objects.filter(annotation=head, request_key=write.request_key)
    replay = replay.first()
    if replay is not None and _replay_differs(head, replay, write, status, final):
        raise RequestKeyReused(
            f"This request key was already used for another change (version "
            f"{replay.number}). Send a new key with a new change."
        )
    return replay


def _compare(
    head: Annotation,
    created: bool,
    write: _Write,
    base_version: int,
    status: str | None,
    final: bool | None,
    allow_merge: bool,
) -> _Plan | None:
    """The current and the wanted state, merged onto newer versions when allowed; None when
    a stale write asks for exactly the current state (nothing to do)."""
    rows = {} if created else {row.key: row for row in current_rows(head)}
    relation_ids = {} if created else current_relations(head)
    current = State(
        frozenset(rows),
        {k: r.attributes for k, r in rows.items() if r.attributes},
        frozenset(relation_ids),
    )
    wanted = write.state(current)
    merged = False
    if head.version != base_version:
        if wanted == current and _same_flags(head, status, final):
            return None
        if not allow_merge or base_version > head.version:
            raise _stale(head, base_version)
        base = full_state_of(head, base_version)
        try:
            wanted = merge_states(base, write.state(base), current)
        except MergeConflict:
            raise _stale(head, base_version) from None
        merged = True
    reopening = final is False
    if head.is_gold and head.final and not reopening and wanted != current:
        raise Locked("The gold annotation is final; reopen it before changing it.")
    new_final = head.final if final is None else final
    if new_final and not head.is_gold:
        raise InvalidSpans("Only the gold annotation can be final.")
    return _Plan(
        current=current,
        wanted=wanted,
        change=diff_states(current, wanted),
        rows=rows,
        relation_ids=relation_ids,
        status=status or head.status,
        final=new_final,
        merged=merged,
    )


def _check_complete(
    write: _Write, plan: _Plan, status: str | None, final: bool | None, head: Annotation
) -> None:
    """Required attributes, when submitting or making the gold final: 400 naming each span
    (by its index in the write) and attribute."""
    submitting = status == Annotation.Status.SUBMITTED and not head.is_gold
    if not (submitting or final is True):
        return
    if not any(getattr(write.labels.get(s.label), "has_required", True) for s in write.spans):
        return
    schema = write.facts
    errors: list[dict[str, object]] = []
    for index, span in enumerate(write.spans):
        missing = missing_required(
            plan.wanted.attributes_of(span.key), schema.specs_for(span.label)
        )
        if missing:
            what = "submitting" if submitting else "making the gold final"
            detail = (
                f"{span.label} {span.start}:{span.end} needs attribute "
                f"{', '.join(missing)} before {what}"
            )
            errors.append({"index": index, "detail": detail})
    if errors:
        raise _invalid("Span", "index", errors)


def _summary(
    plan: _Plan,
    head: Annotation,
    restored_from: int | None,
    base_version: int,
    extra_summary: Mapping[str, object] | None,
) -> dict[str, object]:
    summary: dict[str, object] = plan.change.summary()
    if plan.status != head.status:
        summary["status"] = plan.status
    if plan.final != head.final:
        summary["final"] = plan.final
    if restored_from is not None:
        summary["restored_from"] = restored_from
    if plan.merged:
        summary["merged_from_base"] = base_version
    for key, value in (extra_summary or {}).items():
        summary.setdefault(key, value)  # e.g. the editor versions a gold write used
    return summary


def _write_version(
    head: Annotation,
    created: bool,
    write: _Write,
    plan: _Plan,
    base_version: int,
    author,
    note: str,
    summary: dict[str, object],
    restored_from: int | None,
) -> tuple[AnnotationVersion, list[Span]]:
    """The version row, then the span and relation rows it closes and adds: one insert or
    update per table, however many spans and relations."""
    number = head.version + 1
    change = plan.change
    # A span whose attributes changed is closed and added again under the same key.
    reattributed = set(change.attributes)
    closing = [plan.rows[k].id for k in change.spans.removed | reattributed]
    adding = sorted(change.spans.added | reattributed)
    text = head.article.text if change.spans.added else ""
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
                status=plan.status,
                final=plan.final,
                note=note,
                summary=summary,
                span_count=len(plan.wanted.spans),
                restored_from=restored_from,
                request_key=write.request_key,
            )
            if closing:
                Span.objects.filter(pk__in=closing).update(removed_in=number)
            added = Span.objects.bulk_create(
                _span_row(head, write, plan, k, number, text) for k in adding
            )
            _write_relations(head, write, plan, number)
    except IntegrityError:
        seen = head.version
        head.refresh_from_db(fields=["version", "status", "final"])
        if head.version != seen:
            raise _stale(head, base_version) from None
        raise
    return version, added


def _span_row(
    head: Annotation, write: _Write, plan: _Plan, key: SpanKey, number: int, text: str
) -> Span:
    old = plan.rows.get(key)
    return Span(
        annotation=head,
        start=key.start,
        end=key.end,
        label=write.labels[key.label],
        text=old.text if old else text[key.start : key.end],
        attributes=plan.wanted.attributes_of(key),
        added_in=number,
        source_id=write.sources.get(key, old.source if old else None),
        origin=write.origins.get(key, old.origin if old else ""),
    )


def _write_relations(head: Annotation, write: _Write, plan: _Plan, number: int) -> None:
    change = plan.change
    if change.relations_removed:
        ids = [plan.relation_ids[r] for r in change.relations_removed]
        Relation.objects.filter(pk__in=ids).update(removed_in=number)
    if change.relations_added:
        labels, types = write.labels, write.facts.type_ids
        Relation.objects.bulk_create(
            Relation(
                annotation_id=head.pk,
                type_id=types[r.type],
                from_start=r.from_span.start,
                from_end=r.from_span.end,
                from_label_id=labels[r.from_span.label].pk,
                to_start=r.to_span.start,
                to_end=r.to_span.end,
                to_label_id=labels[r.to_span.label].pk,
                added_in=number,
            )
            for r in sorted(change.relations_added)
        )


def _move_head(head: Annotation, number: int, status: str, final: bool) -> None:
    now = timezone.now()
    Annotation.objects.filter(pk=head.pk).update(
        version=number, status=status, final=final, updated_at=now
    )
    head.version, head.status, head.final, head.updated_at = number, status, final, now


def _result(
    head: Annotation, version: AnnotationVersion, write: _Write, plan: _Plan, added: list[Span]
) -> SaveResult:
    """The answer of a write that made a version, from what it holds (no second read)."""
    closed = plan.change.spans.removed | set(plan.change.attributes)
    kept = [row for key, row in plan.rows.items() if key not in closed]
    new = [
        SpanRow(
            s.pk,
            s.start,
            s.end,
            s.label.key,
            s.label.order,
            s.text,
            s.source_id,
            s.attributes,
            s.origin,
        )
        for s in added
    ]
    return SaveResult(
        annotation=head,
        version=version,
        created=True,
        merged=plan.merged,
        spans=sorted(kept + new, key=lambda row: row.text_order),
        relations=sorted(plan.wanted.relations),
        facts=write.facts,
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
    write: _Write,
    status: str | None,
    final: bool | None,
) -> bool:
    if status is not None and replay.status != status:
        return True
    if final is not None and replay.final != final:
        return True
    if "merged_from_base" in replay.summary:
        return False  # the stored state also holds the changes it was merged with
    made = full_state_of(head, replay.number)
    return write.state(made) != made


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
    """Make a new version whose spans, attributes and relations equal version `number`;
    history is never rewritten.

    Status and finality stay as they are. Restoring a version equal to the current state
    makes no version (``created`` is False).
    """
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise InvalidSpans("The version to restore must be a number from 1.")
    if not AnnotationVersion.objects.filter(annotation=annotation, number=number).exists():
        raise InvalidSpans(f"Version {number} of this annotation does not exist.")
    old = annotation.spans_at(number)
    spans = [
        SpanInput(s.start, s.end, s.label.key, s.text, s.source_id, s.attributes, s.origin)
        for s in old
    ]
    return save_annotation(
        annotation=annotation,
        author=author,
        role=role,
        base_version=base_version,
        spans=spans,
        relations=full_state_of(annotation, number).relations,
        stored_facts=True,
        note=note or f"Restored version {number}",
        request_key=request_key,
        restored_from=number,
    )


def current_span_inputs(annotation: Annotation) -> list[SpanInput]:
    return [
        SpanInput(r.start, r.end, r.label, r.text, r.source, origin=r.origin)
        for r in current_rows(annotation)
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
