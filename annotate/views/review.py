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
from dataclasses import dataclass
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

from ..highlight import Mark
from ..inputs import INT32_MAX, INT64_MAX, InputError, parse_int, parse_version
from ..models import Article, Project, Role
from ..permissions import article_for, can_review, project_for
from ..review import Candidate, conflict_between
from ..services import review as service
from ..services.annotations import AnnotationError, InvalidSpans, SaveResult
from ..services.labelling import span_from_selection
from ..services.review import QUEUE_STATUSES, ReviewState
from ..services.workflow import editors_of_project
from ..span_checks import span_concerns
from ..versioning import SpanKey

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


def _candidate_rows(article: Article, state: ReviewState) -> list[CandidateRow]:
    text = article.text
    gold_keys = [SpanKey(g.span.start, g.span.end, g.span.label.key) for g in state.gold_spans]
    return [
        CandidateRow(
            candidate=c,
            text=text[c.key.start : c.key.end],
            other_labels=[k.label for k in c.label_conflicts],
            other_bounds=[text[k.start : k.end] for k in c.overlap_conflicts],
            gold_differs=not c.in_gold and any(conflict_between(c.key, g) for g in gold_keys),
        )
        for c in state.candidates
    ]


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
    rows = _candidate_rows(article, state)
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
        result = service.accept_spans(
            article,
            request.user,
            role=role,
            span_ids=[span_id],
            base_version=form.base_version,
            note=form.note,
            request_key=form.key_for("accept", span_id),
        )
        return _done(result, "Span accepted.", "That span is already in the gold.")

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
    path("articles/<int:article_id>/review/final/", mark_final, name="review-final"),
    path("articles/<int:article_id>/review/reopen/", reopen, name="review-reopen"),
]
