"""The labelling page's suggestions: accept one, accept all of a label, reject one.

The page reads what is offered from the API (``GET /api/articles/<id>/suggestions/``) and
draws it (static/js/suggestions.js). Accepting goes through the page's write path (one
version, answered with the workspace, like any change on the page); which suggestions and
their origin are decided here from what is offered now, never taken from the request.
Rejecting writes no version: it is remembered for the editor and answered as JSON.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from ..inputs import InputError, parse_text
from ..models import Article
from ..services import suggestions
from ..services.annotations import AnnotationError, InvalidSpans, SaveResult
from ..versioning import SpanKey
from .labelling import (
    _base_version,
    _editor_article,
    _int,
    _refused,
    _request_key,
    _wants_json,
    _write,
)


def _min_score(request: HttpRequest) -> float | None:
    """The page's score threshold ("" or absent: none)."""
    value = request.POST.get("min_score", "")
    return None if value == "" else suggestions.parse_score(value)


def _model(request: HttpRequest) -> str | None:
    value = request.POST.get("model", "")
    if value == "":
        return None
    try:
        return parse_text(value, name="model", max_length=200)
    except InputError as error:
        raise InvalidSpans(str(error)) from None


def _label(request: HttpRequest) -> str:
    try:
        return parse_text(request.POST.get("label", ""), name="label", max_length=32)
    except InputError as error:
        raise InvalidSpans(str(error)) from None


def _key(request: HttpRequest) -> SpanKey:
    """The suggestion named by the form: code-point offsets and a label."""
    start = _int(request.POST.get("start"), "start offset")
    end = _int(request.POST.get("end"), "end offset")
    return SpanKey(start, end, _label(request))


def _accepted(result: SaveResult) -> str:
    if result.version is None:
        return "Already in your annotation."
    counts = result.version.summary.get("suggestions", {})
    n = sum(counts.values()) if isinstance(counts, dict) else 0
    return f"Accepted {n} suggestion{'s' if n != 1 else ''}."


@login_required
@require_POST
@vary_on_headers("HX-Request")
def accept(request: HttpRequest, article_id: int) -> HttpResponse:
    """Accept one suggestion (start, end, label): a new version with it as a span."""

    def change(article: Article, role: str) -> SaveResult:
        return suggestions.accept_suggestions(
            article=article,
            author=request.user,
            role=role,
            base_version=_base_version(request),
            keys=[_key(request)],
            model=_model(request),
            min_score=_min_score(request),
            request_key=_request_key(request),
        )

    def focus(result: SaveResult) -> tuple[int, int, str] | None:
        key = _key(request)
        return key.start, key.end, key.label

    return _write(request, article_id, change, retry_fields=None, done=_accepted, focus=focus)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def accept_all(request: HttpRequest, article_id: int) -> HttpResponse:
    """Accept every suggestion of one label (as the page filters them): one new version."""

    def change(article: Article, role: str) -> SaveResult:
        return suggestions.accept_suggestions(
            article=article,
            author=request.user,
            role=role,
            base_version=_base_version(request),
            label=_label(request),
            model=_model(request),
            min_score=_min_score(request),
            request_key=_request_key(request),
        )

    return _write(request, article_id, change, retry_fields=None, done=_accepted)


@login_required
@require_POST
def reject(request: HttpRequest, article_id: int) -> HttpResponse:
    """Reject one suggestion: it is not offered to this editor in this article again."""
    article, role = _editor_article(request, article_id)
    try:
        done = suggestions.reject_suggestion(
            article=article, editor=request.user, role=role, key=_key(request)
        )
    except AnnotationError as error:
        return _refused(request, article, error, None)
    if _wants_json(request):
        return JsonResponse({"rejected": True, "new": done})
    messages.success(request, "Suggestion rejected.")
    return redirect("article", article.pk)


urlpatterns = [
    path("articles/<int:article_id>/suggestions/accept/", accept, name="suggestion-accept"),
    path(
        "articles/<int:article_id>/suggestions/accept-all/",
        accept_all,
        name="suggestion-accept-all",
    ),
    path("articles/<int:article_id>/suggestions/reject/", reject, name="suggestion-reject"),
]
