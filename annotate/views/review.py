"""Review: the queue of articles ready for adjudication, and the adjudication page where a
reviewer builds the gold from the editors' spans.

Every write is a POST that works as a plain form (redirect back to the page) and as an htmx
request (the page's workspace comes back, re-rendered). Each names the gold version it was
based on; a stale one is a 409 that shows the current gold. The page's `request_key`,
together with the action and its target, makes a repeated click idempotent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from ..candidates import Candidate, conflict_between
from ..facts.adjudication import MAJORITY, FactView, pending_relations, span_facts
from ..highlight import Mark
from ..inputs import INT32_MAX, INT64_MAX, InputError, parse_int, parse_version
from ..models import Annotation, Article, Project, Relation, Role, Span
from ..models.facts import load_facts
from ..permissions import article_for, can_review, project_for
from ..services import review as service
from ..services.annotations import AnnotationError, InvalidSpans, SaveResult, full_state_of
from ..services.labelling import span_from_selection
from ..services.review import QUEUE_STATUSES, ReviewState
from ..services.workflow import editors_of_project
from ..span_checks import span_concerns
from ..versioning import RelationKey, SpanKey
from .facts import FIELD_PREFIX, _attribute_values

QUEUE_PAGE_SIZE = 50
QUEUE_TEMPLATE = "review/queue.html"
PAGE_TEMPLATE = "review/adjudicate.html"
REQUEST_KEY_NAMESPACE = uuid.UUID("6f1c4a52-7d0e-4f55-9a4b-2f1f9a3c5e10")


def _reviewable_project(request: HttpRequest, slug: str) -> tuple[Project, str]:
    project, role = project_for(request.user, slug)
    if not can_review(role):
        raise PermissionDenied("Only reviewers and managers of this project review its articles.")
    return project, role


def _reviewable_article(request: HttpRequest, article_id: int) -> tuple[Article, str]:
    article, role = article_for(request.user, article_id)
    if not can_review(role):
        raise PermissionDenied("Only reviewers and managers of this project review its articles.")
    return article, role


# --- The queue ---------------------------------------------------------------------------


class QueueFilters(forms.Form):
    label = forms.ChoiceField(required=False)
    editor = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=list(QUEUE_STATUSES.items()))

    def __init__(self, data, *, project: Project) -> None:
        super().__init__(data)
        self.fields["label"].choices = [("", "Any label")] + [
            (label.key, f"{label.key} · {label.name}") for label in project.labels.all()
        ]
        self.editors = {
            m.user.username: m.user
            for m in project.memberships.filter(role=Role.EDITOR)
            .select_related("user")
            .order_by("user__username")
        }
        self.fields["editor"].choices = [("", "Any editor")] + [(u, u) for u in self.editors]


@login_required
@require_GET
@vary_on_headers("HX-Request")
def review_queue(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = _reviewable_project(request, slug)
    filters = QueueFilters(request.GET, project=project)
    context: dict[str, object] = {"project": project, "filters": filters, "role": role}
    status = 200
    if filters.is_valid():
        data = filters.cleaned_data
        rows = service.review_queue(
            project,
            label=data["label"] or None,
            editor=filters.editors.get(data["editor"]),
            status=data["status"] or "open",
        )
        page = Paginator(rows, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
        _add_reassign_choices(page.object_list, project)
        query = {k: v for k, v in data.items() if v}
        context.update(page=page, query=urlencode(query), filtered=bool(query))
    else:
        status = 400
    template = f"{QUEUE_TEMPLATE}#queue" if request.htmx else QUEUE_TEMPLATE
    return render(request, template, context, status=status)


def _add_reassign_choices(rows: list[service.QueueRow], project: Project) -> None:
    """Each row's editors who could take over a missing editor's article."""
    editors = editors_of_project(project)
    for row in rows:
        taken = {name for name, _ in row.editors} | {m.username for m in row.missing}
        row.reassign_to = [name for name in editors if name not in taken]


# --- The adjudication page ---------------------------------------------------------------


@dataclass
class Outcome:
    """What a write did, for the reviewer: a message, and whether it was an error."""

    message: str
    error: bool = False


def _layer(request: HttpRequest, state: ReviewState) -> str:
    """Whose spans the editors' pane shows: "" (everyone, merged) or one editor's name."""
    wanted = request.GET.get("layer") or request.POST.get("layer") or ""
    return wanted if wanted in state.editor_versions else ""


def _candidate_classes(candidate: Candidate) -> tuple[str, ...]:
    classes = [f"agree-{candidate.agreement}"]
    if candidate.label_conflicts:
        classes.append("conflict-label")
    if candidate.overlap_conflicts:
        classes.append("conflict-overlap")
    if candidate.in_gold:
        classes.append("in-gold")
    return tuple(classes)


def _candidate_title(candidate: Candidate) -> str:
    who = ", ".join(candidate.editors)
    parts = [f"{candidate.key.label}: {who} ({candidate.support} of {candidate.total})"]
    if candidate.conflicted:
        parts.append("conflict")
    if candidate.in_gold:
        parts.append("in gold")
    return " · ".join(parts)


@dataclass
class CandidateRow:
    candidate: Candidate
    text: str
    other_labels: list[str]  # labels other editors gave the same offsets
    other_bounds: list[str]  # the same label over other, overlapping text
    gold_differs: bool  # the gold already holds a conflicting span: decided otherwise
    facts: list[EditorFactsRow] = field(default_factory=list)  # each editor's facts


@dataclass
class EditorFactsRow:
    """One editor's values for a candidate and relations from it, with their other ends'
    text; `differs` marks what other editors gave otherwise."""

    editor: str
    values: tuple[tuple[str, object, bool], ...]
    relations: list[tuple[str, str, bool]]  # (type, other end's text, differs)


def _fact_rows(views: list[FactView], text: str) -> list[EditorFactsRow]:
    return [
        EditorFactsRow(
            v.editor,
            v.values,
            [(r.type, text[r.to_span.start : r.to_span.end], d) for r, d in v.relations],
        )
        for v in views
        if v.values or v.relations
    ]


def _candidate_rows(
    article: Article, state: ReviewState, facts: dict[str, service.EditorFacts] | None = None
) -> list[CandidateRow]:
    text = article.text
    gold_keys = [SpanKey(g.span.start, g.span.end, g.span.label.key) for g in state.gold_spans]
    return [
        CandidateRow(
            candidate=c,
            text=text[c.key.start : c.key.end],
            other_labels=[k.label for k in c.label_conflicts],
            other_bounds=[text[k.start : k.end] for k in c.overlap_conflicts],
            gold_differs=not c.in_gold and any(conflict_between(c.key, g) for g in gold_keys),
            facts=_fact_rows(span_facts(c.key, facts), text) if facts else [],
        )
        for c in state.candidates
    ]


# --- Facts on the adjudication page --------------------------------------------------------


def relation_value(relation: RelationKey) -> str:
    """A relation as a form value: its ends' offsets and labels, and its type."""
    return ":".join(str(p) for p in (*relation.from_span, *relation.to_span, relation.type))


def _relation_from_value(value: str) -> RelationKey:
    parts = value.split(":")
    try:
        fs, fe, ts, te = (int(parts[i]) for i in (0, 1, 3, 4))
        return RelationKey(SpanKey(fs, fe, parts[2]), SpanKey(ts, te, parts[5]), parts[6])
    except (ValueError, IndexError):
        raise InvalidSpans("Say which relation to accept.") from None


def _sources_text(sources: tuple[str, ...] | None, names: dict[str, str]) -> str:
    if sources is None:
        return ""
    if not sources:
        return "edited by reviewer"
    return "from " + ", ".join(names.get(n, n) for n in sources)


@dataclass
class GoldFacts:
    """A gold span's facts as the page shows them, with where each came from."""

    values: list[tuple[str, object, str]]  # (attribute name, value, provenance)
    relations: list[tuple[int, str, str, str]]  # (relation row id, type, other end, provenance)
    fields: list[tuple[object, object]]  # (attribute spec, its gold value), the edit form


@dataclass
class RelationOffer:
    relation: RelationKey
    value: str
    text: str
    editors: list[str]
    waiting: bool  # one end is not in the gold yet


def _facts_context(article: Article, state: ReviewState) -> dict[str, object]:
    """Everything the page shows of facts: each editor's (by the names the page shows), the
    gold's with provenance, and the editors' relations not in the gold."""
    schema = load_facts(article.project_id)
    if not (schema.attributes or schema.relations):
        return {"has_facts": False, "facts_choices": [MAJORITY], "editor_facts": {}}
    by_user = service.editor_facts(article, state.editors)
    facts = {state.names.get(u, u): f for u, f in by_user.items()}
    text = article.text
    gold = state.gold
    gold_state = full_state_of(gold)
    sources = service.fact_sources(gold)
    names = state.names
    rows = (
        Relation.objects.filter(annotation=gold).current().select_related("type", "to_label")
        if gold.pk
        else Relation.objects.none()
    )
    relations_by_from: dict[SpanKey, list[tuple[int, str, str, str]]] = {}
    for row in rows:
        key = RelationKey(
            SpanKey(row.from_start, row.from_end, row.from_label.key),
            SpanKey(row.to_start, row.to_end, row.to_label.key),
            row.type.key,
        )
        relations_by_from.setdefault(key.from_span, []).append(
            (
                row.pk,
                row.type.key,
                text[row.to_start : row.to_end],
                _sources_text(sources.get((key,)), names),
            )
        )
    gold_facts: dict[int, GoldFacts] = {}
    for g in state.gold_spans:
        key = SpanKey(g.span.start, g.span.end, g.span.label.key)
        given = gold_state.attributes_of(key)
        specs = list(schema.specs_for(key.label))
        gold_facts[g.span.pk] = GoldFacts(
            values=[
                (s.name, given[s.key], _sources_text(sources.get((*key, s.key)), names))
                for s in specs
                if s.key in given
            ],
            relations=relations_by_from.get(key, []),
            fields=[(s, given.get(s.key)) for s in specs],
        )
        g.facts = gold_facts[g.span.pk]  # type: ignore[attr-defined]
    every = {r for f in facts.values() for r in f.relations}
    complete = sorted(
        r for r in every - gold_state.relations if {r.from_span, r.to_span} <= gold_state.spans
    )

    def offer(relation: RelationKey, waiting: bool) -> RelationOffer:
        ends = (relation.from_span, relation.to_span)
        shown = " → ".join(text[e.start : e.end] for e in ends)
        editors = [n for n in sorted(facts) if relation in facts[n].relations]
        return RelationOffer(relation, relation_value(relation), shown, editors, waiting)

    offers = [offer(r, False) for r in complete]
    offers += [offer(r, True) for r in pending_relations(gold_state.spans, facts)]
    return {
        "editor_facts": facts,
        "gold_facts": gold_facts,
        "relation_offers": offers,
        "relation_types": list(schema.relations.values()),
        "has_facts": bool(schema.attributes or schema.relations),
        "facts_choices": [MAJORITY, *sorted(facts)],
        "facts_from": _facts_from(request_value="", choices=[MAJORITY, *sorted(facts)]),
        "attribute_prefix": FIELD_PREFIX,
    }


def _facts_from(request_value: str, choices: list[str]) -> str:
    return request_value if request_value in choices else MAJORITY


def _min_editors(request: HttpRequest, total: int) -> int:
    """The k of "accept all marked by at least k", kept across a failed attempt."""
    try:
        k = parse_int(request.POST.get("min_editors", ""), name="min_editors", low=1)
    except InputError:
        return total
    return k if 1 <= k <= total else total


def _workspace_context(
    request: HttpRequest,
    article: Article,
    role: str,
    *,
    outcome: Outcome | None = None,
    note: str = "",
) -> dict[str, object]:
    state = service.review_state(article)
    layer = _layer(request, state)
    facts = _facts_context(article, state)
    facts["facts_from"] = _facts_from(request.POST.get("facts", ""), facts["facts_choices"])
    rows = _candidate_rows(article, state, facts["editor_facts"])
    editor_marks = [
        Mark(*c.key, c.id, _candidate_classes(c), _candidate_title(c))
        for c in state.candidates
        if not layer or layer in c.editors
    ]
    gold_marks = [
        Mark(
            g.span.start,
            g.span.end,
            g.span.label.key,
            f"g{g.span.pk}",
            ("gold",),
            f"{g.span.label.key}: marked by {', '.join(g.marked_by)}"
            if g.marked_by
            else f"{g.span.label.key}: from {g.source_editor}"
            if g.source_editor
            else f"{g.span.label.key}: added by a reviewer",
        )
        for g in state.gold_spans
    ]
    total = len(state.editors)
    return {
        "article": article,
        "project": article.project,
        "role": role,
        "state": state,
        "gold": state.gold,
        "layer": layer,
        "editor_marks": editor_marks,
        "gold_marks": gold_marks,
        "rows": rows,
        "labels": list(article.project.labels.all()),
        "total": total,
        "k_choices": list(range(total, 0, -1)),
        "min_editors": _min_editors(request, total),
        "open_count": sum(1 for r in rows if not (r.candidate.in_gold or r.gold_differs)),
        "request_key": uuid.uuid4(),
        "outcome": outcome,
        "note": note,
        **facts,
        # Spans across a paragraph break or over the project's length: a slip, most often.
        "suspect_spans": span_concerns(
            article.text,
            [(g.span.start, g.span.end, g.span.label.key) for g in state.gold_spans],
            article.project.long_span_chars,
        ),
    }


@login_required
@require_GET
@vary_on_headers("HX-Request")
def adjudicate(request: HttpRequest, article_id: int) -> HttpResponse:
    article, role = _reviewable_article(request, article_id)
    context = _workspace_context(request, article, role)
    template = f"{PAGE_TEMPLATE}#workspace" if request.htmx else PAGE_TEMPLATE
    return render(request, template, context)


# --- Writes ------------------------------------------------------------------------------


@dataclass
class WriteRequest:
    """The fields every gold write carries, read from the POST."""

    base_version: int
    note: str
    page_key: uuid.UUID | None

    def key_for(self, *parts: object) -> uuid.UUID | None:
        """One idempotency key per (rendered page, action, target): a second click on the
        same button repeats nothing; different buttons of one page are different requests."""
        if self.page_key is None:
            return None
        return uuid.uuid5(self.page_key, ":".join(str(p) for p in parts))


def _write_request(request: HttpRequest) -> WriteRequest:
    try:
        base_version = parse_version(request.POST.get("base_version", ""))
    except InputError:
        raise InvalidSpans("The form did not say which gold version it was based on.") from None
    raw_key = request.POST.get("request_key", "")
    try:
        page_key = uuid.UUID(raw_key) if raw_key else None
    except ValueError:
        raise InvalidSpans("The request key must be a UUID.") from None
    return WriteRequest(base_version, request.POST.get("note", "").strip(), page_key)


def _int_field(request: HttpRequest, name: str, what: str, *, high: int = INT32_MAX) -> int:
    try:
        return parse_int(request.POST.get(name, ""), name=what, high=high)
    except InputError as error:
        raise InvalidSpans(str(error)) from None


Write = Callable[[Article, str, WriteRequest], str]


def _gold_write(request: HttpRequest, article_id: int, write: Write) -> HttpResponse:
    """Run one write and answer it: the re-rendered workspace (htmx) or a redirect back."""
    article, role = _reviewable_article(request, article_id)
    try:
        form = _write_request(request)
        message = write(article, role, form)
    except AnnotationError as error:
        note = request.POST.get("note", "")
        return _write_failed(request, article, role, error, note)
    if request.htmx:
        context = _workspace_context(request, article, role, outcome=Outcome(message))
        return render(request, f"{PAGE_TEMPLATE}#workspace", context)
    messages.success(request, message)
    return HttpResponseRedirect(_page_url(request, article), status=303)


def _write_failed(
    request: HttpRequest, article: Article, role: str, error: AnnotationError, note: str
) -> HttpResponse:
    """Nothing was written: show the current state, the reason, and keep the reviewer's note."""
    outcome = Outcome(error.detail, error=True)
    context = _workspace_context(request, article, role, outcome=outcome, note=note)
    template = f"{PAGE_TEMPLATE}#workspace" if request.htmx else PAGE_TEMPLATE
    response = render(request, template, context, status=error.status)
    response["X-Error-Message"] = quote(error.detail, safe=" .,:;()!?'-")
    return response


def _page_url(request: HttpRequest, article: Article) -> str:
    url = reverse("adjudicate", args=[article.pk])
    layer = request.POST.get("layer", "")
    return f"{url}?{urlencode({'layer': layer})}" if layer else url


def _quote(article: Article, start: int, end: int) -> str:
    text = article.text[start:end]
    return f"“{text[:60]}…”" if len(text) > 60 else f"“{text}”"


def _done(result: SaveResult, done: str, nothing: str) -> str:
    if result.created:
        return f"{done} Gold is now at version {result.version.number}."
    if result.version is not None:
        return f"Already done (version {result.version.number})."
    return nothing


@login_required
@require_POST
def accept(request: HttpRequest, article_id: int) -> HttpResponse:
    def write(article: Article, role: str, form: WriteRequest) -> str:
        span_id = _int_field(request, "span", "The span to accept", high=INT64_MAX)
        facts = _facts_source(article, request.POST.get("facts", "") or MAJORITY)
        result = service.accept_spans(
            article,
            request.user,
            role=role,
            span_ids=[span_id],
            base_version=form.base_version,
            note=form.note,
            request_key=form.key_for("accept", span_id, facts),
            facts=facts,
        )
        return _done(result, "Span accepted.", "That span is already in the gold.")

    return _gold_write(request, article_id, write)


def _facts_source(article: Article, shown: str) -> str:
    """The username behind an editor name the page showed ("Editor A" when anonymous)."""
    if shown == MAJORITY:
        return MAJORITY
    names = service.review_state(article).names
    by_shown = {v: k for k, v in names.items()}
    if shown not in by_shown:
        raise InvalidSpans("Take the facts from the majority or from an editor on this page.")
    return by_shown[shown]


@login_required
@require_POST
def set_gold_attributes(request: HttpRequest, article_id: int, span_id: int) -> HttpResponse:
    """The reviewer's values for one gold span, from the fields named ``g<id>-attr-<key>``."""

    def write(article: Article, role: str, form: WriteRequest) -> str:
        span = article_gold_span(article, span_id)
        specs = list(load_facts(article.project_id).specs_for(span.label.key))
        prefix = f"g{span_id}-"
        data = request.POST.copy()
        for spec in specs:
            name = FIELD_PREFIX + spec.key
            data.setlist(name, request.POST.getlist(prefix + name))
        values = _attribute_values(data, specs)
        result = service.set_gold_attributes(
            article,
            request.user,
            role=role,
            span_id=span_id,
            attributes=values,
            base_version=form.base_version,
            note=form.note,
            request_key=form.key_for("attributes", span_id, sorted(values.items())),
        )
        return _done(result, "Values saved.", "The gold span already has these values.")

    return _gold_write(request, article_id, write)


def article_gold_span(article: Article, span_id: int) -> Span:
    span = (
        Span.objects.filter(
            pk=span_id, annotation__article=article, annotation__kind=Annotation.Kind.GOLD
        )
        .select_related("label")
        .first()
    )
    if span is None:
        raise InvalidSpans(f"There is no span {span_id} in the gold annotation.")
    return span


@login_required
@require_POST
def add_gold_relation(request: HttpRequest, article_id: int) -> HttpResponse:
    def write(article: Article, role: str, form: WriteRequest) -> str:
        from_id = _int_field(request, "rel_from", "The relation's first span", high=INT64_MAX)
        to_id = _int_field(request, "rel_to", "The relation's second span", high=INT64_MAX)
        kind = request.POST.get("rel_type", "")
        result = service.add_gold_relation(
            article,
            request.user,
            role=role,
            from_span_id=from_id,
            to_span_id=to_id,
            type=kind,
            base_version=form.base_version,
            note=form.note,
            request_key=form.key_for("relate", from_id, to_id, kind),
        )
        return _done(result, f"Related as {kind}.", "The gold already has this relation.")

    return _gold_write(request, article_id, write)


@login_required
@require_POST
def accept_relation(request: HttpRequest, article_id: int) -> HttpResponse:
    def write(article: Article, role: str, form: WriteRequest) -> str:
        value = request.POST.get("relation", "")
        relation = _relation_from_value(value)
        result = service.accept_relation(
            article,
            request.user,
            role=role,
            relation=relation,
            base_version=form.base_version,
            note=form.note,
            request_key=form.key_for("accept-relation", value),
        )
        return _done(result, f"Relation {relation.type} accepted.", "Already in the gold.")

    return _gold_write(request, article_id, write)


@login_required
@require_POST
def remove_gold_relation(request: HttpRequest, article_id: int, relation_id: int) -> HttpResponse:
    def write(article: Article, role: str, form: WriteRequest) -> str:
        result = service.remove_gold_relation(
            article,
            request.user,
            role=role,
            relation_id=relation_id,
            base_version=form.base_version,
            note=form.note,
            request_key=form.key_for("unrelate", relation_id),
        )
        return _done(result, "Relation removed from the gold.", "Nothing to remove.")

    return _gold_write(request, article_id, write)


@login_required
@require_POST
def accept_agreed(request: HttpRequest, article_id: int) -> HttpResponse:
    def write(article: Article, role: str, form: WriteRequest) -> str:
        k = _int_field(request, "min_editors", "The number of editors")
        result, selection = service.accept_agreed(
            article,
            request.user,
            role=role,
            min_editors=k,
            base_version=form.base_version,
            note=form.note,
            request_key=form.key_for("accept-agreed", k),
        )
        held = len(selection.held_back)
        left = f" {held} in conflict left for you to decide." if held else ""
        n = len(selection.accepted)
        accepted = f"Accepted {n} span{'s' if n != 1 else ''} marked by at least {k}."
        return _done(result, accepted + left, f"No new span is marked by at least {k}.{left}")

    return _gold_write(request, article_id, write)


@login_required
@require_POST
def add_span(request: HttpRequest, article_id: int) -> HttpResponse:
    """A span the reviewer drew: UTF-16 offsets and the selected text, as the browser has
    them, snapped to whole words exactly as on the labelling page."""

    def write(article: Article, role: str, form: WriteRequest) -> str:
        label = request.POST.get("label", "")
        span = span_from_selection(
            article,
            start=_int_field(request, "start", "The start"),
            end=_int_field(request, "end", "The end"),
            quote=request.POST.get("quote", ""),
            label=label,
        )
        start, end = span.start, span.end
        result = service.add_gold_span(
            article,
            request.user,
            role=role,
            start=start,
            end=end,
            label=label,
            base_version=form.base_version,
            note=form.note,
            request_key=form.key_for("add", start, end, label),
        )
        quoted = _quote(article, start, end)
        already = f"{label} {quoted} is already in the gold."
        return _done(result, f"Added {label} {quoted}.", already)

    return _gold_write(request, article_id, write)


@login_required
@require_POST
def remove_span(request: HttpRequest, article_id: int, span_id: int) -> HttpResponse:
    def write(article: Article, role: str, form: WriteRequest) -> str:
        result = service.remove_gold_span(
            article,
            request.user,
            role=role,
            span_id=span_id,
            base_version=form.base_version,
            note=form.note,
            request_key=form.key_for("remove", span_id),
        )
        return _done(result, "Span removed from the gold.", "Nothing to remove.")

    return _gold_write(request, article_id, write)


@login_required
@require_POST
def relabel_span(request: HttpRequest, article_id: int, span_id: int) -> HttpResponse:
    def write(article: Article, role: str, form: WriteRequest) -> str:
        label = request.POST.get(f"relabel-{span_id}") or request.POST.get("label", "")
        result = service.relabel_gold_span(
            article,
            request.user,
            role=role,
            span_id=span_id,
            label=label,
            base_version=form.base_version,
            note=form.note,
            request_key=form.key_for("relabel", span_id, label),
        )
        return _done(result, f"Relabelled as {label}.", f"The span already is {label}.")

    return _gold_write(request, article_id, write)


def _set_final(final: bool) -> Callable[[HttpRequest, int], HttpResponse]:
    @login_required
    @require_POST
    def view(request: HttpRequest, article_id: int) -> HttpResponse:
        def write(article: Article, role: str, form: WriteRequest) -> str:
            result = service.set_final(
                article,
                request.user,
                role=role,
                final=final,
                base_version=form.base_version,
                note=form.note,
                request_key=form.key_for("final" if final else "reopen"),
            )
            if final:
                return _done(
                    result,
                    "The gold is final: editors can no longer change their annotations.",
                    "The gold already is final.",
                )
            return _done(result, "The gold is open for review again.", "The gold is not final.")

        return _gold_write(request, article_id, write)

    return view


mark_final = _set_final(True)
reopen = _set_final(False)


urlpatterns = [
    path("projects/<slug:slug>/review/", review_queue, name="review-queue"),
    path("articles/<int:article_id>/review/", adjudicate, name="adjudicate"),
    path("articles/<int:article_id>/review/accept/", accept, name="review-accept"),
    path(
        "articles/<int:article_id>/review/accept-agreed/",
        accept_agreed,
        name="review-accept-agreed",
    ),
    path("articles/<int:article_id>/review/spans/add/", add_span, name="review-add"),
    path(
        "articles/<int:article_id>/review/spans/<int:span_id>/remove/",
        remove_span,
        name="review-remove",
    ),
    path(
        "articles/<int:article_id>/review/spans/<int:span_id>/relabel/",
        relabel_span,
        name="review-relabel",
    ),
    path(
        "articles/<int:article_id>/review/spans/<int:span_id>/attributes/",
        set_gold_attributes,
        name="review-attributes",
    ),
    path(
        "articles/<int:article_id>/review/relations/add/",
        add_gold_relation,
        name="review-relate",
    ),
    path(
        "articles/<int:article_id>/review/relations/accept/",
        accept_relation,
        name="review-accept-relation",
    ),
    path(
        "articles/<int:article_id>/review/relations/<int:relation_id>/remove/",
        remove_gold_relation,
        name="review-unrelate",
    ),
    path("articles/<int:article_id>/review/final/", mark_final, name="review-final"),
    path("articles/<int:article_id>/review/reopen/", reopen, name="review-reopen"),
]
