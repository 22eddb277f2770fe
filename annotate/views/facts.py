"""Facts on the labelling page: a span's facts panel, its attributes, relations between spans.

Each write is one call of the labelling service (``set_span_attributes``, ``add_relation``,
``remove_relation``) answered as every write of the labelling page is (``labelling._write``):
the workspace to htmx, an alert with a 4xx status and a retry on a stale page, a redirect
for a plain form. The panel is a page of its own without JavaScript (the span list links
to it) and the fragment the side panel loads (``labelling/facts.html#panel``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from ..facts.schema import MAX_INTEGER, MIN_INTEGER, AttributeSpec
from ..inputs import InputError, parse_id, parse_optional_int
from ..models import Annotation, Article, Span
from ..models.facts import Relation, fact_schema
from ..services import labelling, page_facts
from ..services.annotations import InvalidSpans, SaveResult
from .labelling import _base_version, _check_own_span, _editor_article, _request_key, _write

FIELD_PREFIX = "attr-"


def _check_own_relation(request: HttpRequest, article_id: int, relation_id: int) -> None:
    """404 unless the relation is in the user's own annotation of the article."""
    if not Relation.objects.filter(
        pk=relation_id,
        annotation__article_id=article_id,
        annotation__annotator=request.user,
        annotation__kind=Annotation.Kind.EDITOR,
    ).exists():
        raise Http404("No such relation in your annotation.")


def panel_context(
    annotation: Annotation, project_id: int, spans: list[labelling.PageSpan], span_id: int
) -> page_facts.SpanFacts | None:
    """The facts panel of span `span_id` among the current `spans` (None: not current)."""
    span = next((s for s in spans if s.pk == span_id), None)
    if span is None:
        return None
    facts = page_facts.page_facts(annotation, project_id, spans)
    return page_facts.span_facts(facts, span, spans)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def span_facts(request: HttpRequest, article_id: int, span_id: int) -> HttpResponse:
    """The facts panel of one current span of the editor's own annotation."""
    article, _ = _editor_article(request, article_id)
    _check_own_span(request, article_id, span_id)
    annotation = Annotation.objects.get(
        article=article, annotator=request.user, kind=Annotation.Kind.EDITOR
    )
    spans = labelling.current_span_rows(annotation, article.project.labels.all())
    sf = panel_context(annotation, article.project_id, spans, span_id)
    if sf is None:
        raise Http404("This span is no longer in your annotation: it was changed or deleted.")
    context = {
        "article": article,
        "project": article.project,
        "annotation": annotation,
        "sf": sf,
        "locked": labelling.gold_is_final(article),
    }
    if request.htmx:
        return render(request, "labelling/facts.html#panel", context)
    return render(request, "labelling/facts.html", context)


# Writes


def _attribute_values(data, specs: list[AttributeSpec]) -> dict[str, object]:
    """The attribute values a form gives for `specs`: a blank field is "not given"; an
    unticked box is "no". Only the label's attributes are read."""
    values: dict[str, object] = {}
    for spec in specs:
        name = FIELD_PREFIX + spec.key
        if spec.type == "boolean":
            values[spec.key] = "1" in data.getlist(name)
            continue
        raw = data.get(name, "")
        if spec.type == "integer":
            try:
                values[spec.key] = parse_optional_int(
                    raw.strip(), name=spec.name, low=MIN_INTEGER, high=MAX_INTEGER
                )
            except InputError as error:
                raise InvalidSpans(str(error)) from None
        else:
            values[spec.key] = raw or None
    return values


def _span_key(span_id: int) -> tuple[int, int, str] | None:
    row = Span.objects.filter(pk=span_id).values_list("start", "end", "label__key").first()
    return (row[0], row[1], row[2]) if row else None


@login_required
@require_POST
@vary_on_headers("HX-Request")
def set_attributes(request: HttpRequest, article_id: int, span_id: int) -> HttpResponse:
    """Save the attributes of one span: the editor's values, or the proposed ones they
    confirmed (one new version)."""
    article, _ = _editor_article(request, article_id)
    _check_own_span(request, article_id, span_id)
    key = _span_key(span_id)

    def change(article: Article, role: str) -> SaveResult:
        specs = list(fact_schema(article.project_id).specs_for(key[2] if key else ""))
        return labelling.set_span_attributes(
            article=article,
            author=request.user,
            role=role,
            base_version=_base_version(request),
            span_id=span_id,
            attributes=_attribute_values(request.POST, specs),
            request_key=_request_key(request),
        )

    def done(result: SaveResult) -> str:
        return "Attributes saved." if result.version is not None else ""

    fields = tuple(name for name in request.POST if name.startswith(FIELD_PREFIX))
    return _write(
        request,
        article_id,
        change,
        retry_fields=fields,
        retry_if=lambda: _is_current(span_id),
        done=done,
        focus=lambda result: key,
    )


def _is_current(span_id: int) -> bool:
    return Span.objects.filter(pk=span_id, removed_in__isnull=True).exists()


def _relation_ends(request: HttpRequest) -> tuple[int, int, str]:
    """(from span id, to span id, type) from the form: ``from_span``, ``to_span`` and
    ``type``, or ``from_span`` and a ``target`` of the list form (``TYPE>ID``: from this
    span to span ID; ``TYPE<ID``: from span ID to this one)."""
    data = request.POST
    try:
        this = parse_id(data.get("from_span", ""), name="The span to link from")
        target = data.get("target", "")
        if target:
            for sign in (">", "<"):
                kind, found, other = target.partition(sign)
                if found:
                    other_id = parse_id(other, name="The span to link to")
                    return (this, other_id, kind) if sign == ">" else (other_id, this, kind)
            raise InvalidSpans("Choose the relation and the span to link from the list.")
        other_id = parse_id(data.get("to_span", ""), name="The span to link to")
    except InputError as error:
        raise InvalidSpans(str(error)) from None
    return this, other_id, data.get("type", "")


@login_required
@require_POST
@vary_on_headers("HX-Request")
def add_relation(request: HttpRequest, article_id: int) -> HttpResponse:
    """Relate two spans of the editor's annotation (one new version)."""
    _editor_article(request, article_id)
    ends: list[int] = []

    def change(article: Article, role: str) -> SaveResult:
        source, target, kind = _relation_ends(request)
        for span_id in (source, target):
            _check_own_span(request, article_id, span_id)
        ends.extend((source, target))
        return labelling.add_relation(
            article=article,
            author=request.user,
            role=role,
            base_version=_base_version(request),
            from_span_id=source,
            to_span_id=target,
            type=kind,
            request_key=_request_key(request),
        )

    def done(result: SaveResult) -> str:
        return "Relation saved." if result.version is not None else ""

    return _write(
        request,
        article_id,
        change,
        retry_fields=("from_span", "to_span", "type", "target"),
        retry_if=lambda: bool(ends) and all(_is_current(span_id) for span_id in ends),
        done=done,
    )


@login_required
@require_POST
@vary_on_headers("HX-Request")
def remove_relation(request: HttpRequest, article_id: int, relation_id: int) -> HttpResponse:
    """Remove one relation of the editor's annotation (one new version)."""
    _editor_article(request, article_id)
    _check_own_relation(request, article_id, relation_id)

    def change(article: Article, role: str) -> SaveResult:
        return labelling.remove_relation(
            article=article,
            author=request.user,
            role=role,
            base_version=_base_version(request),
            relation_id=relation_id,
            request_key=_request_key(request),
        )

    def done(result: SaveResult) -> str:
        return "Relation removed." if result.version is not None else ""

    return _write(request, article_id, change, retry_fields=None, done=done)


urlpatterns = [
    path(
        "articles/<int:article_id>/spans/<int:span_id>/facts/",
        span_facts,
        name="span-facts",
    ),
    path(
        "articles/<int:article_id>/spans/<int:span_id>/attributes/",
        set_attributes,
        name="span-attributes",
    ),
    path("articles/<int:article_id>/relations/", add_relation, name="relation-add"),
    path(
        "articles/<int:article_id>/relations/<int:relation_id>/delete/",
        remove_relation,
        name="relation-delete",
    ),
]
