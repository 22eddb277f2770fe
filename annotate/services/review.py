"""Review: the queue of articles ready for adjudication, and every write a reviewer makes to
the gold. Gold writes go through `save_annotation`, so they are versioned, checked against
their base version and idempotent by request key like any other annotation write.

Each gold version records in its summary what it was built from:
``{"action": "accept", "from": {"edith": 3, "otto": 5}}`` names the submitted editor
annotation versions on which the decision was taken. A version that sets facts records their
provenance (see `fact_sources`): ``"facts": {"attributes": [[start, end, label, key,
[editors]]], "relations": [[fs, fe, fl, ts, te, tl, type, [editors]]]}``, where no editors
means "edited by the reviewer".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import BooleanField, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from ..candidates import Candidate, EditorSpan, Selection, majority_selection
from ..candidates import candidates as find_candidates
from ..facts.adjudication import MAJORITY, EditorFacts, relations_for, values_for
from ..models import (
    AgreementUnit,
    Annotation,
    AnnotationVersion,
    Article,
    ArticleAgreement,
    Assignment,
    Flag,
    Label,
    Project,
    Relation,
    Span,
)
from ..models.facts import RELATION_KEY_FIELDS, relation_key
from ..versioning import RelationKey, SpanKey
from . import workflow
from .annotations import (
    AnnotationError,
    InvalidSpans,
    SaveResult,
    SpanInput,
    StaleVersion,
    current_span_inputs,
    full_state_of,
    gold_for,
    save_annotation,
)


class SpanGone(AnnotationError):
    """An editor span the reviewer saw is no longer part of that editor's submitted work."""

    status = 409


# --- The queue -------------------------------------------------------------------------

QUEUE_STATUSES = {
    "open": "Not final",
    "pending": "Not started",
    "in_review": "In review",
    "final": "Final",
    "waiting": "Waiting for editors",
    "flagged": "Flagged",
    "all": "All ready",
}


@dataclass
class QueueRow:
    article: Article
    score: float | None
    editors: list[tuple[str, int]]  # (username, version) of each submitted annotation
    gold_version: int
    gold_final: bool
    reviewable: bool = True
    missing: list[workflow.Missing] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    reassign_to: list[str] = field(default_factory=list)  # editors who could take it over

    @property
    def status(self) -> str:
        if self.gold_final:
            return "final"
        if not self.reviewable:
            return "waiting"
        return "in_review" if self.gold_version else "pending"

    @property
    def status_label(self) -> str:
        return QUEUE_STATUSES[self.status]

    @property
    def waiting_since(self):
        return min((m.since for m in self.missing), default=None)


def ready_articles(project: Project) -> QuerySet[Article]:
    """Articles ready for review (see services.workflow), with their gold's state."""
    return _with_gold(workflow.reviewable_articles(project))


def _with_gold(articles: QuerySet[Article]) -> QuerySet[Article]:
    # Unordered: one gold per article, and the model's ordering would join three tables into
    # the subquery of every article.
    gold = Annotation.objects.gold().filter(article=OuterRef("pk")).order_by()
    return articles.annotate(
        gold_version=Coalesce(
            Subquery(gold.values("version")[:1]), Value(0), output_field=IntegerField()
        ),
        gold_final=Coalesce(
            Subquery(gold.values("final")[:1]), Value(False), output_field=BooleanField()
        ),
    )


def review_queue(
    project: Project, *, label: str | None = None, editor=None, status: str | None = None
) -> list[QueueRow]:
    """Articles ready for review, lowest agreement first (undefined agreement last); with
    `status` "waiting", the articles still waiting for editors, longest waiting first.

    `label`: only articles where some submitted editor span has this label key; `editor`:
    only articles assigned to this user; `status`: one of QUEUE_STATUSES (default "open").
    Each row names the assigned editors who have not submitted and the open flags. Articles
    nobody started within the project's timeout go to other editors first. A constant
    number of queries, however many articles.
    """
    status = status or "open"
    if status not in QUEUE_STATUSES:
        raise InvalidSpans(f"Unknown status {status!r}; use one of {', '.join(QUEUE_STATUSES)}.")
    workflow.release_stale_assignments(project)
    if status == "waiting":
        articles = _with_gold(workflow.waiting_articles(project))
    elif status == "flagged":
        articles = _with_gold(workflow.with_readiness(workflow.flagged_articles(project), project))
    else:
        articles = ready_articles(project)
    if status == "open":
        articles = articles.filter(gold_final=False)
    elif status == "pending":
        articles = articles.filter(gold_version=0)
    elif status == "in_review":
        articles = articles.filter(gold_version__gt=0, gold_final=False)
    elif status == "final":
        articles = articles.filter(gold_final=True)
    if label:
        articles = articles.filter(
            Exists(
                Span.objects.filter(
                    annotation__article=OuterRef("pk"),
                    annotation__kind=Annotation.Kind.EDITOR,
                    annotation__status=Annotation.Status.SUBMITTED,
                    removed_in__isnull=True,
                    label__key=label,
                )
            )
        )
    if editor is not None:
        articles = articles.filter(
            Exists(Assignment.objects.filter(article=OuterRef("pk"), editor=editor))
        )
    articles = articles.order_by("pk")
    ids = articles.values("pk")

    editors: dict[int, list[tuple[str, int]]] = {}
    for article_id, username, version in (
        Annotation.objects.submitted()
        .filter(article__in=ids)
        .order_by("article_id", "annotator__username")
        .values_list("article_id", "annotator__username", "version")
    ):
        editors.setdefault(article_id, []).append((username, version))
    scores = article_scores(ids)
    missing = workflow.missing_editors(ids)
    flags = workflow.flags_by_article(ids)
    rows = [
        QueueRow(
            article=a,
            score=scores.get(a.pk),
            editors=editors.get(a.pk, []),
            gold_version=a.gold_version,
            gold_final=a.gold_final,
            reviewable=a.reviewable,
            missing=missing.get(a.pk, []),
            flags=flags.get(a.pk, []),
        )
        for a in articles
    ]
    if status == "waiting":
        rows.sort(key=lambda r: (r.waiting_since is None, r.waiting_since or 0, r.article.pk))
    else:
        rows.sort(key=lambda r: (r.score is None, r.score or 0.0, r.article.pk))
    return rows


def article_scores(article_ids: Iterable[int] | QuerySet) -> dict[int, float | None]:
    """Each article's agreement as the agreement statistics store it: Krippendorff's alpha
    over the tokens of its submitted annotations (None when undefined or not computed)."""
    return dict(
        ArticleAgreement.objects.filter(
            article_id__in=workflow.id_list(article_ids), unit=AgreementUnit.TOKEN
        ).values_list("article_id", "score")
    )


# --- The adjudication page's data --------------------------------------------------------


@dataclass
class EditorWork:
    annotation: Annotation
    spans: list[Span]
    name: str = ""  # as the page shows it: the username, or "Editor A" in anonymous review

    @property
    def username(self) -> str:
        return self.annotation.annotator.username


@dataclass
class GoldSpan:
    span: Span
    source_editor: str | None  # whose span it was accepted from; None: added by a reviewer
    source_label: str | None
    marked_by: list[str] = field(default_factory=list)  # every editor with this exact span

    @property
    def relabelled(self) -> bool:
        return self.source_label is not None and self.source_label != self.span.label.key


@dataclass
class ReviewState:
    article: Article
    gold: Annotation
    gold_spans: list[GoldSpan]
    last_version: AnnotationVersion | None
    editors: list[EditorWork]
    waiting: list[tuple[str, str]]  # assigned editors who have not submitted: (name, status)
    candidates: list[Candidate]

    names: dict[str, str] = field(default_factory=dict)  # username -> name shown

    @property
    def editor_versions(self) -> dict[str, int]:
        return {work.name: work.annotation.version for work in self.editors}

    @property
    def decided_on(self) -> dict[str, int]:
        """The editor versions the latest gold version was adjudicated from."""
        used = self.last_version.summary.get("from") if self.last_version else None
        if not isinstance(used, dict):
            return {}
        # Sorted: PostgreSQL's jsonb does not keep the order the keys were written in.
        return dict(sorted((self.names.get(k, k), v) for k, v in used.items()))

    @property
    def changed_since(self) -> list[str]:
        """Editors whose submitted work differs from what the latest gold decision used."""
        used = self.decided_on
        if not used:
            return []
        now = self.editor_versions
        return sorted(name for name in used.keys() | now.keys() if used.get(name) != now.get(name))


def editor_aliases(usernames: Iterable[str]) -> dict[str, str]:
    """ "Editor A", "Editor B", … for the usernames, in username order (stable per article)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return {
        name: f"Editor {letters[i % 26]}{i // 26 + 1 if i >= 26 else ''}"
        for i, name in enumerate(sorted(set(usernames)))
    }


def review_state(article: Article) -> ReviewState:
    """Everything the adjudication page shows, in a constant number of queries. When the
    project reviews anonymously, editors are named Editor A, B, … everywhere in it."""
    # Not gold_for(): looking at an article must not write to it.
    gold = Annotation.objects.gold().filter(article=article).first() or Annotation(
        article=article, kind=Annotation.Kind.GOLD
    )
    works = [
        EditorWork(annotation=a, spans=[])
        for a in Annotation.objects.submitted()
        .filter(article=article)
        .select_related("annotator")
        .order_by("annotator__username")
    ]
    by_id = {w.annotation.pk: w for w in works}
    for span in (
        Span.objects.filter(annotation_id__in=list(by_id), removed_in__isnull=True)
        .select_related("label")
        .order_by("start", "end", "label__order")
    ):
        by_id[span.annotation_id].spans.append(span)
    gold_spans = list(gold.current_spans()) if gold.pk else []
    sources = {
        s.pk: s
        for s in Span.objects.filter(pk__in=[g.source_id for g in gold_spans if g.source_id])
        .select_related("annotation__annotator", "label")
        .only("pk", "label__key", "annotation__annotator__username")
    }
    submitted = {w.annotation.annotator_id for w in works}
    statuses = dict(
        Annotation.objects.editors().filter(article=article).values_list("annotator_id", "status")
    )
    waiting = [
        (a.editor.username, _status_label(statuses.get(a.editor_id)))
        for a in Assignment.objects.filter(article=article).select_related("editor")
        if a.editor_id not in submitted
    ]
    last_version = (
        gold.versions.select_related("author").order_by("-number").first() if gold.pk else None
    )
    used = last_version.summary.get("from") if last_version else None
    sources_named = [s.annotation.annotator.username for s in sources.values()]
    everyone = [w.username for w in works] + [n for n, _ in waiting] + sources_named
    everyone += list(used) if isinstance(used, dict) else []
    if article.project.anonymous_review:
        names = editor_aliases(everyone)
    else:
        names = {n: n for n in everyone}
    for work in works:
        work.name = names[work.username]
    marked: dict[SpanKey, list[str]] = {}
    for work in works:
        for span in work.spans:
            marked.setdefault(_key(span), []).append(work.name)
    return ReviewState(
        article=article,
        gold=gold,
        gold_spans=[
            _gold_span(g, sources.get(g.source_id), names, marked.get(_key(g), []))
            for g in gold_spans
        ],
        last_version=last_version,
        editors=works,
        waiting=sorted((names[n], status) for n, status in waiting),
        candidates=find_candidates(_editor_spans(works), (_key(g) for g in gold_spans)),
        names=names,
    )


def _status_label(status: str | None) -> str:
    return Annotation.Status(status).label.lower() if status else "not started"


def _gold_span(
    span: Span, source: Span | None, names: dict[str, str], marked_by: list[str]
) -> GoldSpan:
    if source is None or source.annotation.annotator is None:
        return GoldSpan(span, None, None, marked_by)
    editor = source.annotation.annotator.username
    return GoldSpan(span, names.get(editor, editor), source.label.key, marked_by)


def _editor_spans(works: Sequence[EditorWork]) -> dict[str, list[EditorSpan]]:
    return {
        w.name: [EditorSpan(s.pk, w.name, s.start, s.end, s.label.key) for s in w.spans]
        for w in works
    }


def _key(span: Span) -> SpanKey:
    return SpanKey(span.start, span.end, span.label.key)


# --- Writes to the gold ------------------------------------------------------------------


def _editor_versions(article: Article) -> dict[str, int]:
    return dict(
        Annotation.objects.submitted()
        .filter(article=article)
        .order_by("annotator__username")
        .values_list("annotator__username", "version")
    )


def _write(
    article: Article,
    reviewer,
    *,
    role: str | None,
    spans: Iterable[SpanInput],
    base_version: int,
    action: str,
    note: str,
    request_key: uuid.UUID | None,
    final: bool | None = None,
    extra: dict[str, object] | None = None,
    relations: Iterable[RelationKey] | None = None,
) -> SaveResult:
    return save_annotation(
        annotation=gold_for(article),
        author=reviewer,
        role=role,
        base_version=base_version,
        spans=spans,
        relations=relations,
        final=final,
        note=note,
        request_key=request_key,
        extra_summary={"action": action, "from": _editor_versions(article), **(extra or {})},
    )


@transaction.atomic
def accept_spans(
    article: Article,
    reviewer,
    *,
    role: str | None,
    span_ids: Iterable[int],
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | None = None,
    facts: str = MAJORITY,
) -> SaveResult:
    """Copy editor spans into the gold, each recording the editor span it came from, with
    their attribute values and the relations that now have both ends in the gold, taken
    from `facts`: MAJORITY or an editor's username (see facts.adjudication)."""
    ids = set(span_ids)
    if not ids:
        raise InvalidSpans("Choose at least one span to accept.")
    found = list(
        Span.objects.filter(
            pk__in=ids, annotation__article=article, annotation__kind=Annotation.Kind.EDITOR
        ).select_related("label", "annotation__annotator")
    )
    missing = sorted(ids - {s.pk for s in found})
    if missing:
        raise InvalidSpans(f"There is no editor span {missing[0]} in this article.")
    gone = [
        s
        for s in found
        if s.removed_in is not None or s.annotation.status != Annotation.Status.SUBMITTED
    ]
    if gone:
        s = gone[0]
        who = "An editor" if article.project.anonymous_review else s.annotation.annotator.username
        raise SpanGone(
            f"{who} changed their annotation since this page was "
            f"loaded: the {s.label.key} span {s.text!r} is no longer in their submitted work. "
            "Reload the page."
        )
    current = current_span_inputs(gold_for(article))
    have = {s.key for s in current}
    new: dict[SpanKey, SpanInput] = {}
    for s in sorted(found, key=lambda s: s.annotation.annotator.username):
        key = SpanKey(s.start, s.end, s.label.key)
        if key not in have:
            new.setdefault(key, SpanInput(s.start, s.end, s.label.key, s.text, s.pk))
    spans, relations, provenance = _with_facts(article, current, list(new.values()), facts)
    return _write(
        article,
        reviewer,
        role=role,
        spans=spans,
        relations=relations,
        base_version=base_version,
        action="accept",
        note=note,
        request_key=request_key,
        extra={"facts_from": facts, "facts": provenance},
    )


# --- Facts: attribute values and relations in the gold ------------------------------------


def editor_facts(
    article: Article, works: Sequence[EditorWork] | None = None
) -> dict[str, EditorFacts]:
    """Each submitted editor's spans, attribute values and relations, by username; from the
    page's already loaded `works` when given (then one query)."""
    if works is None:
        works = review_state(article).editors
    by_id = {w.annotation.pk: w.username for w in works}
    relations: dict[str, set[RelationKey]] = {name: set() for name in by_id.values()}
    rows = (
        Relation.objects.filter(annotation_id__in=list(by_id))
        .current()
        .values_list("annotation_id", *RELATION_KEY_FIELDS)
    )
    for annotation_id, *row in rows:
        relations[by_id[annotation_id]].add(relation_key(tuple(row)))
    result: dict[str, EditorFacts] = {}
    for work in works:
        keys = {_key(s): s.attributes or {} for s in work.spans}
        result[work.username] = EditorFacts(
            frozenset(keys),
            {k: v for k, v in keys.items() if v},
            frozenset(relations[work.username]),
        )
    return result


def _with_facts(
    article: Article, current: list[SpanInput], added: list[SpanInput], source: str
) -> tuple[list[SpanInput], frozenset[RelationKey], dict[str, list]]:
    """The gold's spans with `added` taking their values from `source`, its relations with
    those now complete, and the provenance of every fact set (see the module docstring)."""
    facts = editor_facts(article)
    if source != MAJORITY and source not in facts:
        raise InvalidSpans(
            "Take the facts from the majority or from an editor who submitted this article."
        )
    gold_relations = full_state_of(gold_for(article)).relations
    spans = list(current)
    attributes: list[list] = []
    for span in added:
        chosen = values_for(span.key, facts, source)
        spans.append(
            SpanInput(span.start, span.end, span.label, span.text, span.source, chosen.values)
        )
        for key, editors in sorted(chosen.sources.items()):
            attributes.append([*span.key, key, list(editors)])
    gold_keys = [s.key for s in spans]
    found = relations_for(gold_keys, facts, source, touching=[s.key for s in added])
    found = {r: e for r, e in found.items() if r not in gold_relations}
    provenance = {
        "attributes": attributes,
        "relations": [[*r.from_span, *r.to_span, r.type, list(e)] for r, e in found.items()],
    }
    return spans, gold_relations | frozenset(found), provenance


def fact_sources(gold: Annotation) -> dict[tuple, tuple[str, ...]]:
    """Where each gold fact came from, as the gold versions' summaries record it (latest
    wins): ``(start, end, label, key)`` for a value and ``(RelationKey,)`` for a relation,
    to the usernames it came from; an empty tuple means edited by the reviewer."""
    result: dict[tuple, tuple[str, ...]] = {}
    if not gold.pk:
        return result
    for summary in gold.versions.order_by("number").values_list("summary", flat=True):
        facts = summary.get("facts") if isinstance(summary, dict) else None
        if not isinstance(facts, dict):
            continue
        for s, e, label, key, editors in facts.get("attributes", []):
            result[(s, e, label, key)] = tuple(editors)
        for fs, fe, fl, ts, te, tl, kind, editors in facts.get("relations", []):
            relation = RelationKey(SpanKey(fs, fe, fl), SpanKey(ts, te, tl), kind)
            result[(relation,)] = tuple(editors)
    return result


def _gold_key_at(gold: Annotation, span_id: object, base_version: int) -> SpanKey:
    if not isinstance(span_id, int) or isinstance(span_id, bool):
        raise InvalidSpans("Say which gold span: its id is a number.")
    span = _gold_span_or_stale(gold, span_id, base_version)
    return _key(span)


@transaction.atomic
def set_gold_attributes(
    article: Article,
    reviewer,
    *,
    role: str | None,
    span_id: int,
    attributes: dict[str, object],
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | None = None,
) -> SaveResult:
    """Give gold span `span_id` these attribute values (replacing its values; a key left
    out or None means "not given"), as an editor does on the labelling page."""
    gold = gold_for(article)
    key = _gold_key_at(gold, span_id, base_version)
    spans = [
        SpanInput(s.start, s.end, s.label, s.text, s.source, dict(attributes))
        if s.key == key
        else s
        for s in current_span_inputs(gold)
    ]
    given = sorted(k for k, v in attributes.items() if v is not None)
    return _write(
        article,
        reviewer,
        role=role,
        spans=spans,
        base_version=base_version,
        action="edit_facts",
        note=note,
        request_key=request_key,
        extra={"facts": {"attributes": [[*key, k, []] for k in given], "relations": []}},
    )


@transaction.atomic
def add_gold_relation(
    article: Article,
    reviewer,
    *,
    role: str | None,
    from_span_id: int,
    to_span_id: int,
    type: str,
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | None = None,
) -> SaveResult:
    """Relate two gold spans with relation type `type`, as the reviewer decided."""
    gold = gold_for(article)
    relation = RelationKey(
        _gold_key_at(gold, from_span_id, base_version),
        _gold_key_at(gold, to_span_id, base_version),
        type,
    )
    have = full_state_of(gold).relations
    if relation in have:
        raise InvalidSpans(f"These two gold spans are already related as {type}.")
    return _write(
        article,
        reviewer,
        role=role,
        spans=current_span_inputs(gold),
        relations=have | {relation},
        base_version=base_version,
        action="edit_facts",
        note=note,
        request_key=request_key,
        extra={
            "facts": {
                "attributes": [],
                "relations": [[*relation.from_span, *relation.to_span, type, []]],
            }
        },
    )


@transaction.atomic
def remove_gold_relation(
    article: Article,
    reviewer,
    *,
    role: str | None,
    relation_id: int,
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | None = None,
) -> SaveResult:
    """Remove relation `relation_id` (as the page at `base_version` showed it) from the gold."""
    gold = gold_for(article)
    row = (
        Relation.objects.filter(pk=relation_id, annotation=gold)
        .select_related("from_label", "to_label", "type")
        .first()
    )
    if row is None:
        raise InvalidSpans(f"There is no relation {relation_id} in the gold annotation.")
    if row.removed_in is not None:
        raise StaleVersion(
            f"The gold changed since version {base_version}: that relation is no longer in "
            "it. Reload it and apply your change again.",
            current_version=gold.version,
            changes=[],
        )
    relation = RelationKey(
        SpanKey(row.from_start, row.from_end, row.from_label.key),
        SpanKey(row.to_start, row.to_end, row.to_label.key),
        row.type.key,
    )
    return _write(
        article,
        reviewer,
        role=role,
        spans=current_span_inputs(gold),
        relations=full_state_of(gold).relations - {relation},
        base_version=base_version,
        action="edit_facts",
        note=note,
        request_key=request_key,
    )


@transaction.atomic
def accept_agreed(
    article: Article,
    reviewer,
    *,
    role: str | None,
    min_editors: int,
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | None = None,
) -> tuple[SaveResult, Selection]:
    """Accept every span at least `min_editors` editors marked (see majority_selection)."""
    state = review_state(article)
    total = len(state.editors)
    if total == 0:
        raise InvalidSpans("No editor has submitted this article yet: there is nothing to accept.")
    if isinstance(min_editors, bool) or not isinstance(min_editors, int):
        raise InvalidSpans("The number of editors must be a whole number.")
    if not 1 <= min_editors <= total:
        raise InvalidSpans(f"The number of editors must be between 1 and {total}.")
    gold_keys = [_key(g.span) for g in state.gold_spans]
    selection = majority_selection(state.candidates, min_editors, gold_keys)
    current = [SpanInput(*_key(g.span), source=g.span.source_id) for g in state.gold_spans]
    added = [SpanInput(*c.key, source=c.source.id) for c in selection.accepted]
    spans, relations, provenance = _with_facts(article, current, added, MAJORITY)
    result = _write(
        article,
        reviewer,
        role=role,
        spans=spans,
        relations=relations,
        base_version=base_version,
        action="accept_agreed",
        note=note,
        request_key=request_key,
        extra={"min_editors": min_editors, "facts_from": MAJORITY, "facts": provenance},
    )
    return result, selection


def _gold_span_or_stale(gold: Annotation, span_id: int, base_version: int) -> Span:
    span = gold.current_spans().filter(pk=span_id).first()
    if span is not None:
        return span
    if base_version != gold.version:
        raise StaleVersion(
            f"The gold changed since version {base_version}: it is now at version "
            f"{gold.version}. Reload it and apply your change again.",
            current_version=gold.version,
            changes=[],
        )
    raise InvalidSpans(f"There is no span {span_id} in the gold annotation.")


@transaction.atomic
def remove_gold_span(
    article: Article,
    reviewer,
    *,
    role: str | None,
    span_id: int,
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | None = None,
) -> SaveResult:
    gold = gold_for(article)
    span = _gold_span_or_stale(gold, span_id, base_version)
    return _write(
        article,
        reviewer,
        role=role,
        spans=[s for s in current_span_inputs(gold) if s.key != _key(span)],
        base_version=base_version,
        action="remove",
        note=note,
        request_key=request_key,
    )


@transaction.atomic
def relabel_gold_span(
    article: Article,
    reviewer,
    *,
    role: str | None,
    span_id: int,
    label: str,
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | None = None,
) -> SaveResult:
    """Give a gold span another label. Its source becomes an editor span with exactly the new
    label at these offsets if there is one; otherwise it keeps the span it came from."""
    gold = gold_for(article)
    span = _gold_span_or_stale(gold, span_id, base_version)
    if not Label.objects.filter(project_id=article.project_id, key=label).exists():
        raise InvalidSpans(f"label {label!r} is not a label of this project.")
    source = _matching_editor_span(article, span.start, span.end, label) or span.source_id
    others = [s for s in current_span_inputs(gold) if s.key != _key(span)]
    spans = _with_span(others, SpanInput(span.start, span.end, label, source=source))
    return _write(
        article,
        reviewer,
        role=role,
        spans=spans,
        base_version=base_version,
        action="relabel",
        note=note,
        request_key=request_key,
    )


@transaction.atomic
def add_gold_span(
    article: Article,
    reviewer,
    *,
    role: str | None,
    start: int,
    end: int,
    label: str,
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | None = None,
) -> SaveResult:
    """Add a span the reviewer drew; if an editor marked exactly this span, it is the source."""
    gold = gold_for(article)
    source = _matching_editor_span(article, start, end, label)
    spans = _with_span(current_span_inputs(gold), SpanInput(start, end, label, source=source))
    return _write(
        article,
        reviewer,
        role=role,
        spans=spans,
        base_version=base_version,
        action="add",
        note=note,
        request_key=request_key,
    )


def _with_span(spans: list[SpanInput], span: SpanInput) -> list[SpanInput]:
    """`spans` with `span` added, unless a span with its offsets and label is there."""
    return spans if span.key in {s.key for s in spans} else [*spans, span]


def _matching_editor_span(article: Article, start: int, end: int, label: str) -> int | None:
    return (
        Span.objects.filter(
            annotation__article=article,
            annotation__kind=Annotation.Kind.EDITOR,
            annotation__status=Annotation.Status.SUBMITTED,
            removed_in__isnull=True,
            start=start,
            end=end,
            label__key=label,
        )
        .order_by("annotation__annotator__username")
        .values_list("pk", flat=True)
        .first()
    )


@transaction.atomic
def set_final(
    article: Article,
    reviewer,
    *,
    role: str | None,
    final: bool,
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | None = None,
) -> SaveResult:
    """Close adjudication (editors can no longer change their annotations of the article),
    or reopen it. Either way a new gold version, with the same spans."""
    gold = gold_for(article)
    return _write(
        article,
        reviewer,
        role=role,
        spans=current_span_inputs(gold),
        base_version=base_version,
        action="final" if final else "reopen",
        note=note,
        request_key=request_key,
        final=final,
    )


@transaction.atomic
def accept_relation(
    article: Article,
    reviewer,
    *,
    role: str | None,
    relation: RelationKey,
    base_version: int,
    note: str = "",
    request_key: uuid.UUID | None = None,
) -> SaveResult:
    """Take one editor relation into the gold (one the chosen rule left out), recording the
    editors who have it. Both its ends must be in the gold."""
    gold = gold_for(article)
    state = full_state_of(gold)
    if relation.from_span not in state.spans or relation.to_span not in state.spans:
        raise InvalidSpans("Accept both ends of this relation into the gold first.")
    supporters = [
        name for name, facts in editor_facts(article).items() if relation in facts.relations
    ]
    if not supporters:
        raise InvalidSpans("No editor who submitted this article has this relation.")
    return _write(
        article,
        reviewer,
        role=role,
        spans=current_span_inputs(gold),
        relations=state.relations | {relation},
        base_version=base_version,
        action="accept_relation",
        note=note,
        request_key=request_key,
        extra={
            "facts": {
                "attributes": [],
                "relations": [[*relation.from_span, *relation.to_span, relation.type, supporters]],
            }
        },
    )
