"""POST /articles/<id>/spans/every/: label every occurrence of some words, in one version.

The words are either the browser's selection (``start``, ``end``, ``quote`` in UTF-16
offsets, ``snap``, and the ``label``), as for adding one span, or an existing span of the
editor's (``span``: its id), whose words and label are used; the span's own page offers
this as a form, so it works without JavaScript. The answer is the labelling page's own
(views.labelling._write): the workspace, saying how many occurrences were labelled.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from ..inputs import INT64_MAX, InputError, parse_optional_int
from ..models import Annotation, Article, Span
from ..services import labelling
from ..services.annotations import InvalidSpans, SaveResult, SpanInput
from ..services.every_occurrence import Occurrences, label_every_occurrence
from .labelling import _base_version, _clip, _int, _label_name, _request_key, _write


def _own_span(request: HttpRequest, article: Article, raw: str) -> SpanInput:
    """The editor's current span `raw` (an id) of the article, as the words to look for."""
    try:
        span_id = parse_optional_int(raw, name="span", low=1, high=INT64_MAX)
    except InputError as error:
        raise InvalidSpans(str(error)) from None
    span = (
        Span.objects.filter(
            pk=span_id,
            annotation__article=article,
            annotation__annotator=request.user,
            annotation__kind=Annotation.Kind.EDITOR,
            removed_in__isnull=True,
        )
        .select_related("label")
        .first()
    )
    if span is None:
        raise InvalidSpans("There is no such span in your annotation: reload the page.")
    return SpanInput(span.start, span.end, span.label.key, article.text[span.start : span.end])


def _selection(request: HttpRequest, article: Article) -> SpanInput:
    data = request.POST
    return labelling.span_from_selection(
        article,
        start=_int(data.get("start"), "start offset"),
        end=_int(data.get("end"), "end offset"),
        quote=data.get("quote", ""),
        label=data.get("label", ""),
        snap=data.get("snap", "1") != "0",
    )


def _notice(article: Article, span: SpanInput, done: Occurrences) -> str:
    words, label = _clip(span.text or ""), _label_name(article, span.label)
    places = "once" if done.found == 1 else f"{done.found} times"
    if done.result.version is None and not done.result.created:
        return f"“{words}” occurs {places}: every occurrence is already labelled {label}."
    if done.added == done.found:
        return f"Labelled every occurrence of “{words}” as {label}: {done.found}."
    return (
        f"Labelled {done.added} more occurrence{'s' if done.added != 1 else ''} of “{words}” "
        f"as {label} ({done.found} in all)."
    )


@login_required
@require_POST
@vary_on_headers("HX-Request")
def label_every(request: HttpRequest, article_id: int) -> HttpResponse:
    found: dict[str, object] = {}

    def change(article: Article, role: str) -> SaveResult:
        raw = request.POST.get("span")
        span = _own_span(request, article, raw) if raw else _selection(request, article)
        found["span"] = span
        done = label_every_occurrence(
            article=article,
            author=request.user,
            role=role,
            base_version=_base_version(request),
            span=span,
            request_key=_request_key(request),
        )
        found["notice"] = _notice(article, span, done)
        return done.result

    def done(result: SaveResult) -> str:
        return str(found["notice"])

    def focus(result: SaveResult) -> tuple[int, int, str]:
        span = found["span"]
        return span.start, span.end, span.label  # type: ignore[union-attr]

    return _write(
        request,
        article_id,
        change,
        retry_fields=("span", "start", "end", "quote", "label", "snap"),
        done=done,
        focus=focus,
    )


urlpatterns = [
    path("articles/<int:article_id>/spans/every/", label_every, name="span-add-every"),
]
