"""The labelling page and its htmx endpoints, the project page, and "next article".

Each write endpoint answers an htmx request with the refreshed workspace (a template
partial), or with an alert fragment and a 4xx status that names what was wrong; a plain
form post gets a redirect back to the page (or the page itself with the error and the
4xx status), so everything but creating a span works without JavaScript. The page's script
adds spans asking for JSON (``Accept: application/json``): the answer is only what changed
(the paragraphs the span touches, its list item, the status bar, the version), or the
workspace when more changed (a merge with another tab), or the refusal as JSON.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from .. import highlight
from ..facts.display import removed_relations_note
from ..highlight import Mark
from ..inputs import INT64_MAX, InputError, parse_offset, parse_optional_int, parse_version
from ..models import Annotation, Article, Label, Role, Span
from ..offsets import to_utf16
from ..permissions import article_for, can_manage, can_review, is_assigned, project_for
from ..services import labelling, page_facts
from ..services.annotations import AnnotationError, SaveResult, SpanInput, StaleVersion
from ..services.labelling import QueueStatus
from ..templatetags.labelling_tags import span_items

QUEUE_PAGE_SIZE = 50
SPAN_PLACEHOLDER = 999_999_999
CONTEXT_CHARS = 160


# Access


def _editor_article(request: HttpRequest, article_id: int) -> tuple[Article, str]:
    """The article, if the user is an editor assigned to it; 404 for everyone else, so an
    editor cannot tell another editor's article from a missing one."""
    article, role = article_for(request.user, article_id)
    if role != Role.EDITOR or not is_assigned(request.user, article):
        raise Http404("No such article in your queue.")
    return article, role


def _check_own_span(request: HttpRequest, article_id: int, span_id: int) -> None:
    """404 unless the span is in the user's own annotation of the article (any version)."""
    if not Span.objects.filter(
        pk=span_id,
        annotation__article_id=article_id,
        annotation__annotator=request.user,
        annotation__kind=Annotation.Kind.EDITOR,
    ).exists():
        raise Http404("No such span in your annotation.")


def _own_annotation(article: Article, user) -> Annotation:
    """The editor's annotation, or an unsaved empty one (a page view writes nothing)."""
    found = Annotation.objects.filter(
        article=article, annotator=user, kind=Annotation.Kind.EDITOR
    ).first()
    return found or Annotation(article=article, annotator=user, kind=Annotation.Kind.EDITOR)


# The labelling page


@dataclass
class LabelGroup:
    label: Label
    spans: list[labelling.PageSpan] = field(default_factory=list)


def _workspace(
    request: HttpRequest,
    article: Article,
    *,
    notice: str = "",
    focus: tuple[int, int, str] | None = None,
) -> dict:
    annotation = _own_annotation(article, request.user)
    labels = list(article.project.labels.all())
    spans = labelling.current_span_rows(annotation, labels)
    facts = page_facts.page_facts(annotation, article.project_id, spans)
    groups = {label.pk: LabelGroup(label) for label in labels}
    for span in spans:
        groups[span.label_id].spans.append(span)
    locked = labelling.gold_is_final(article)
    undo = None if locked else labelling.undo_step_for(annotation)
    focused = next((s for s in spans if (s.start, s.end, s.label) == focus), None)
    return {
        "annotation": annotation,
        "spans": spans,
        "marks": [
            _mark(s.pk, s.start, s.end, s.label, s.text, facts.summaries.get(s.pk, ""))
            for s in spans
        ],
        "groups": list(groups.values()),
        "labels": labels,
        "locked": locked,
        "undo": undo,
        "notice": notice,
        "keys": {"undo": uuid.uuid4(), "submit": uuid.uuid4()},
        "span_url": reverse("span-add", args=[article.pk]),
        # The span to select once the page shows this workspace: the one just changed.
        "focus": focused.pk if focused else None,
        # Facts (views/facts.py): each span's attributes and relations, the focused span's panel.
        "facts": facts,
        "facts_panel": page_facts.span_facts(facts, focused, spans) if focused else None,
        "relation_url": reverse("relation-add", args=[article.pk]),
    }


def _mark(pk: int, start: int, end: int, label: str, text: str, facts: str = "") -> Mark:
    title = f"{label}: {text}" + (f" · {facts}" if facts else "")
    return Mark(start, end, label, str(pk), (), title)


def _page_context(request: HttpRequest, article: Article, **workspace) -> dict:
    project = article.project
    context = _workspace(request, article, **workspace)
    position, total = labelling.queue_position(request.user, article)
    labels = context["labels"]
    meta = article.meta if isinstance(article.meta, dict) else {}
    context.update(
        article=article,
        project=project,
        position=position,
        total=total,
        source_url=article.url if article.url.startswith(("https://", "http://")) else "",
        meta_items=[
            (key, value)
            for key, value in sorted(meta.items())
            if isinstance(value, str | int | float) and not isinstance(value, bool)
        ][:12],
        config={
            "labels": [{"key": x.key, "name": x.name, "hotkey": x.hotkey} for x in labels],
            "addUrl": reverse("span-add", args=[article.pk]),
            # URLs for span SPAN: the script puts the span's id in place of the placeholder.
            "relabelUrl": reverse("span-relabel", args=[article.pk, SPAN_PLACEHOLDER]),
            "deleteUrl": reverse("span-delete", args=[article.pk, SPAN_PLACEHOLDER]),
            "placeholder": str(SPAN_PLACEHOLDER),
            "undoUrl": reverse("annotation-undo", args=[article.pk]),
            # Spans longer than this (or across a paragraph break) ask for a confirmation.
            "longSpanChars": project.long_span_chars or 0,
        },
    )
    return context


@login_required
@require_GET
@vary_on_headers("HX-Request")
def article_page(request: HttpRequest, article_id: int) -> HttpResponse:
    article, role = article_for(request.user, article_id)
    if role != Role.EDITOR:
        return _read_only_page(request, article, role)
    if not is_assigned(request.user, article):
        raise Http404("No such article in your queue.")
    if request.htmx:
        context = _workspace(request, article)
        context["article"] = article
        return _workspace_response(request, context)
    return render(request, "labelling/article.html", _page_context(request, article))


def _read_only_page(request: HttpRequest, article: Article, role: str) -> HttpResponse:
    """Reviewers and managers see the text here; editors' spans are on the review pages."""
    return render(
        request,
        "labelling/article_readonly.html",
        {"article": article, "project": article.project, "role": role},
    )


def _workspace_response(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, "labelling/article.html#workspace", context, status=status)
    response["X-Annotation-Version"] = str(context["annotation"].version)
    return response


@login_required
@require_GET
def span_page(request: HttpRequest, article_id: int, span_id: int) -> HttpResponse:
    """One span with its surroundings and the forms to relabel or delete it: how the page's
    span list works without JavaScript."""
    article, _ = _editor_article(request, article_id)
    _check_own_span(request, article_id, span_id)
    span = Span.objects.select_related("label", "annotation").get(pk=span_id)
    left = max(0, span.start - CONTEXT_CHARS)
    right = min(len(article.text), span.end + CONTEXT_CHARS)
    snippet = article.text[left:right]
    marks = [Mark(span.start - left, span.end - left, span.label.key, str(span.pk))]
    annotation = span.annotation
    return render(
        request,
        "labelling/span.html",
        {
            "article": article,
            "project": article.project,
            "span": span,
            "current": span.removed_in is None,
            "locked": labelling.gold_is_final(article),
            "annotation": annotation,
            "labels": article.project.labels.all(),
            "snippet": snippet,
            "marks": marks,
            "clipped_left": left > 0,
            "clipped_right": right < len(article.text),
            "keys": {"relabel": uuid.uuid4(), "delete": uuid.uuid4()},
        },
    )


# Writes


@dataclass
class Retry:
    """The form that re-sends a refused change on the current version."""

    action: str
    fields: list[tuple[str, str]]
    label: str = "Re-apply my change"


def _base_version(request: HttpRequest) -> int:
    try:
        return parse_version(request.POST.get("base_version", ""))
    except InputError:
        raise labelling.InvalidSpans(
            "The page did not say which version it shows; reload it."
        ) from None


def _request_key(request: HttpRequest) -> str | None:
    return request.POST.get("request_key") or None


def _write(
    request: HttpRequest,
    article_id: int,
    change: Callable[[Article, str], SaveResult],
    *,
    retry_fields: tuple[str, ...] | None = (),
    retry_if: Callable[[], bool] = lambda: True,
    done: Callable[[SaveResult], str] = lambda result: "",
    focus: Callable[[SaveResult], tuple[int, int, str] | None] = lambda result: None,
    changes: Callable[[Article, SaveResult, str], JsonResponse | None] | None = None,
) -> HttpResponse:
    """Run one change and answer it: the workspace (or, to the script, only what changed),
    or an alert with a 4xx status."""
    article, role = _editor_article(request, article_id)
    try:
        result = change(article, role)
    except AnnotationError as error:
        return _refused(request, article, error, retry_fields, retry_if)
    notice = done(result)
    if result.merged:
        notice = (notice + " " if notice else "") + (
            "Merged with a change made meanwhile in another tab or window."
        )
    if not request.htmx and not _wants_json(request):
        if notice:
            messages.success(request, notice)
        return redirect("article", article.pk)
    if _wants_json(request) and changes is not None:
        answer = changes(article, result, notice)
        if answer is not None:
            return answer
    context = _workspace(request, article, notice=notice, focus=focus(result))
    context["article"] = article
    if _wants_json(request):
        # More changed than the one span (a merge, a replay): the whole workspace.
        html = render_to_string("labelling/article.html#workspace", context, request)
        response = JsonResponse({"version": context["annotation"].version, "workspace": html})
        response["X-Annotation-Version"] = str(context["annotation"].version)
        return response
    return _workspace_response(request, context)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refused(
    request: HttpRequest,
    article: Article,
    error: AnnotationError,
    retry_fields: tuple[str, ...] | None,
    retry_if: Callable[[], bool] = lambda: True,
) -> HttpResponse:
    """The change was not saved: say why; after a conflict, offer to re-apply it on the
    current version (when re-applying still makes sense)."""
    retry = None
    if isinstance(error, StaleVersion) and retry_fields is not None and retry_if():
        current = Annotation.objects.filter(
            article=article, annotator=request.user, kind=Annotation.Kind.EDITOR
        ).first()
        fields = [(name, request.POST.get(name, "")) for name in retry_fields]
        fields += [
            ("base_version", str(current.version if current else 0)),
            ("request_key", str(uuid.uuid4())),
        ]
        retry = Retry(action=request.path, fields=fields)
    confirm = None
    if isinstance(error, labelling.NeedsConfirmation) and retry_fields is not None:
        fields = [(name, request.POST.get(name, "")) for name in retry_fields]
        fields += [
            ("confirm", "1"),
            ("base_version", request.POST.get("base_version", "")),
            ("request_key", str(uuid.uuid4())),
        ]
        confirm = Retry(action=request.path, fields=fields, label="Save anyway")
    context = {"article": article, "error": error, "retry": retry, "confirm": confirm}
    if _wants_json(request):
        alert = render_to_string("labelling/article.html#alert", context, request)
        body = {"detail": error.detail, "status": error.status, "alert": alert}
        if isinstance(error, labelling.NeedsConfirmation):
            span = error.span
            body["confirm"] = {
                "reasons": list(error.reasons),
                "start": span.start,
                "end": span.end,
                "length": span.end - span.start,
                "text": _clip(span.text or "", 300),
            }
        if isinstance(error, StaleVersion):
            body["current_version"] = error.current_version
        return JsonResponse(body, status=error.status)
    if request.htmx:
        response = render(request, "labelling/article.html#alert", context, status=error.status)
        response["HX-Retarget"] = "#labelling-alerts"
        response["HX-Reswap"] = "innerHTML"
        return response
    context.update(_page_context(request, article))
    return render(request, "labelling/article.html", context, status=error.status)


def _int(value: str | None, what: str) -> int:
    try:
        return parse_offset(value, name=f"The {what}")
    except InputError as error:
        raise labelling.InvalidSpans(str(error)) from None


def _label_name(article: Article, key: str) -> str:
    label = article.project.labels.filter(key=key).first()
    return label.name if label else key


@login_required
@require_POST
@vary_on_headers("HX-Request")
def add_span(request: HttpRequest, article_id: int) -> HttpResponse:
    """Add the span the browser selected: UTF-16 offsets and the selected text (`quote`)."""
    data = request.POST
    chosen: dict = {}

    def change(article: Article, role: str) -> SaveResult:
        span = labelling.span_from_selection(
            article,
            start=_int(data.get("start"), "start offset"),
            end=_int(data.get("end"), "end offset"),
            quote=data.get("quote", ""),
            label=data.get("label", ""),
            snap=data.get("snap", "1") != "0",
        )
        chosen["span"] = span
        return labelling.add_span(
            article=article,
            author=request.user,
            role=role,
            base_version=_base_version(request),
            span=span,
            request_key=_request_key(request),
            confirmed=data.get("confirm") == "1",
        )

    def done(result: SaveResult) -> str:
        span = chosen["span"]
        if not result.created and result.version is None:
            return f"“{_clip(span.text)}” is already labelled {span.label}."
        return ""

    def focus(result: SaveResult) -> tuple[int, int, str]:
        span = chosen["span"]
        return span.start, span.end, span.label

    def changes(article: Article, result: SaveResult, notice: str) -> JsonResponse | None:
        return _added_span_answer(request, article, result, chosen["span"], notice)

    return _write(
        request,
        article_id,
        change,
        retry_fields=("start", "end", "quote", "label", "snap", "confirm"),
        done=done,
        focus=focus,
        changes=changes,
    )


def _added_span_answer(
    request: HttpRequest, article: Article, result: SaveResult, span: SpanInput, notice: str
) -> JsonResponse | None:
    """What one added span changed on the page: the paragraphs it touches, redrawn; its item
    in the span list (with the item it follows); the status bar; the version. None when more
    than that span changed (a merge with another tab, a replayed request)."""
    annotation = result.annotation
    version = result.version
    if result.merged or (version is not None and not result.created):
        return None
    labels = list(article.project.labels.all())
    if version is not None and result.spans:
        # The write answers with the current spans, and its version is the one to undo.
        ids = {label.key: label.pk for label in labels}
        rows = [
            labelling.PageSpan(r.id, r.start, r.end, r.label, ids[r.label], r.text, r.attributes)
            for r in result.spans
        ]
        undo = labelling.UndoStep(version.number, version.number - 1, version.summary or {})
    else:  # nothing changed: the span was there already
        rows = labelling.current_span_rows(annotation, labels)
        undo = labelling.undo_step_for(annotation)
    new = next((r for r in rows if (r.start, r.end, r.label) == span.key), None)
    if new is None:  # not there after all (cannot happen after a write): show everything
        return None
    text = article.text
    touched = highlight.paragraphs_between(text, span.start, span.end)
    lo, hi = touched[0].start, touched[-1].end
    shown = [r for r in rows if r.start < hi and r.end > lo]
    # Facts of the spans drawn again (their marks' titles) and of the new one (its item).
    facts = page_facts.page_facts(annotation, article.project_id, shown)
    marks = [
        _mark(r.pk, r.start, r.end, r.label, r.text, facts.summaries.get(r.pk, "")) for r in shown
    ]
    # The list shows a label's spans in text order: the new one follows the last one before it.
    before = [r for r in rows if r.label == new.label and (r.start, -r.end) < (new.start, -new.end)]
    after = max(before, key=lambda r: (r.start, -r.end)).pk if before else None
    context = {
        "article": article,
        "annotation": annotation,
        "spans": rows,
        "locked": False,  # a write went through: the gold is not final
        "undo": undo,
        "notice": notice,
        "keys": {"undo": uuid.uuid4(), "submit": uuid.uuid4()},
    }
    span_url = reverse("span-add", args=[article.pk])
    relation_url = reverse("relation-add", args=[article.pk])
    response = JsonResponse(
        {
            "version": annotation.version,
            "created": version is not None,
            "notice": notice,
            "span": {
                "id": new.pk,
                "start": new.start,
                "end": new.end,
                "label": new.label,
                "text": new.text,
            },
            "paragraphs": [
                {
                    "index": p.index,
                    "u16": to_utf16(text, p.start),
                    "html": highlight.render_paragraph(text, p, marks),
                }
                for p in touched
            ],
            "item": {
                "label": new.label,
                "html": span_items([new], new.label, span_url, facts, relation_url),
                "after": after,
                "count": sum(1 for r in rows if r.label == new.label),
            },
            "count": len(rows),
            "statusbar": render_to_string("labelling/article.html#statusbar", context, request),
        }
    )
    response["X-Annotation-Version"] = str(annotation.version)
    return response


@login_required
@require_POST
@vary_on_headers("HX-Request")
def relabel_span(request: HttpRequest, article_id: int, span_id: int) -> HttpResponse:
    label = request.POST.get("label", "")

    def change(article: Article, role: str) -> SaveResult:
        return labelling.relabel_span(
            article=article,
            author=request.user,
            role=role,
            base_version=_base_version(request),
            span_id=span_id,
            label=label,
            request_key=_request_key(request),
        )

    def focus(result: SaveResult) -> tuple[int, int, str] | None:
        old = Span.objects.filter(pk=span_id).values_list("start", "end").first()
        return (*old, label) if old else None

    _editor_article(request, article_id)
    _check_own_span(request, article_id, span_id)
    return _write(
        request,
        article_id,
        change,
        retry_fields=("label",),
        retry_if=lambda: _is_current(span_id),
        focus=focus,
    )


@login_required
@require_POST
@vary_on_headers("HX-Request")
def delete_span(request: HttpRequest, article_id: int, span_id: int) -> HttpResponse:
    def change(article: Article, role: str) -> SaveResult:
        return labelling.remove_span(
            article=article,
            author=request.user,
            role=role,
            base_version=_base_version(request),
            span_id=span_id,
            request_key=_request_key(request),
        )

    def done(result: SaveResult) -> str:
        # The service removes the span's relations with it: say so.
        return removed_relations_note(result.version.summary if result.version else None)

    _editor_article(request, article_id)
    _check_own_span(request, article_id, span_id)
    return _write(request, article_id, change, retry_if=lambda: _is_current(span_id), done=done)


def _is_current(span_id: int) -> bool:
    return Span.objects.filter(pk=span_id, removed_in__isnull=True).exists()


@login_required
@require_POST
@vary_on_headers("HX-Request")
def undo(request: HttpRequest, article_id: int) -> HttpResponse:
    def change(article: Article, role: str) -> SaveResult:
        return labelling.undo(
            article=article,
            author=request.user,
            role=role,
            base_version=_base_version(request),
            request_key=_request_key(request),
        )

    def done(result: SaveResult) -> str:
        if result.version is not None and result.created:
            return f"Undone: back to the spans of version {result.version.restored_from}."
        return ""

    # Re-applying an undo on a newer version would undo a change the page never showed.
    return _write(request, article_id, change, retry_fields=None, done=done)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def submit(request: HttpRequest, article_id: int) -> HttpResponse:
    """Submit, then go to the next article of the queue (or the project page when done)."""
    article, role = _editor_article(request, article_id)
    try:
        labelling.submit(
            article=article,
            author=request.user,
            role=role,
            base_version=_base_version(request),
            request_key=_request_key(request),
        )
    except AnnotationError as error:
        return _refused(request, article, error, retry_fields=())
    project = article.project
    following = labelling.next_article_for(request.user, project, after=article.pk)
    if following is None or following.pk == article.pk:
        messages.success(request, f"Submitted “{article}”. Your queue is done. Thank you!")
        target = reverse("project", args=[project.slug])
    else:
        messages.success(request, f"Submitted “{article}”. Here is the next article.")
        target = reverse("article", args=[following.pk])
    if request.htmx:
        return HttpResponseClientRedirect(target)
    return redirect(target)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Project page and "next"


class Counted:
    """A queryset whose length is known already, for the Paginator: it slices the rows and
    takes the count as given instead of counting them again."""

    def __init__(self, rows, count: int) -> None:
        self.rows, self._count = rows, count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        return self.rows[index]


@login_required
@require_GET
@vary_on_headers("HX-Request")
def project_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_for(request.user, slug)
    which = request.GET.get("show", "open")
    if which not in QueueStatus.FILTERS:
        which = "open"
    progress = labelling.progress_by_project(request.user, [project.pk]).get(project.pk)
    counted = progress or labelling.Progress()
    # The progress already counts each filter's rows: the pages need no second pass over
    # the editor's whole queue (thousands of assignments in a large project).
    total = {"open": counted.open, "done": counted.done}.get(which, counted.assigned)
    rows = Counted(labelling.queue(request.user, project, which), total)
    page = Paginator(rows, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.queue_status = labelling.queue_status(row)
        row.queue_status_label = QueueStatus.LABELS[row.queue_status]
    context = {
        "project": project,
        "role": role,
        "page": page,
        "which": which,
        "filters": QueueStatus.FILTERS,
        "progress": progress or labelling.Progress(),
        "can_review": can_review(role),
        "can_manage": can_manage(role),
        "can_upload": can_manage(role) or (role == Role.EDITOR and project.editors_can_upload),
        "labels": project.labels.all(),
    }
    if request.htmx:
        return render(request, "labelling/project.html#queue", context)
    return render(request, "labelling/project.html", context)


@login_required
@require_GET
def next_article(request: HttpRequest, slug: str) -> HttpResponse:
    project, _ = project_for(request.user, slug)
    after = parse_optional_int(request.GET.get("after"), name="after", high=INT64_MAX)
    following = labelling.next_article_for(request.user, project, after=after)
    if following is None:
        messages.info(request, "Nothing left to label in this project. Well done!")
        return redirect("project", project.slug)
    return redirect("article", following.pk)


urlpatterns = [
    path("projects/<slug:slug>/", project_page, name="project"),
    path("projects/<slug:slug>/next/", next_article, name="next-article"),
    path("articles/<int:article_id>/", article_page, name="article"),
    path("articles/<int:article_id>/spans/", add_span, name="span-add"),
    path("articles/<int:article_id>/spans/<int:span_id>/", span_page, name="span-detail"),
    path(
        "articles/<int:article_id>/spans/<int:span_id>/label/",
        relabel_span,
        name="span-relabel",
    ),
    path(
        "articles/<int:article_id>/spans/<int:span_id>/delete/",
        delete_span,
        name="span-delete",
    ),
    path("articles/<int:article_id>/undo/", undo, name="annotation-undo"),
    path("articles/<int:article_id>/submit/", submit, name="annotation-submit"),
]
