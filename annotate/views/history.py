"""History of one annotation: its versions, the text at any version, a diff between any two
versions, and restoring an old version as a new one.

Whose annotation: the caller's own by default; reviewers and managers may pass
``?annotator=<username>`` or ``?gold=1``. Anything else the caller may not read is a 404.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from ..facts.schema import schema_warnings
from ..highlight import Mark, marks_from_spans
from ..inputs import InputError, parse_optional_int, parse_version
from ..models import Annotation, AnnotationVersion, Article, Relation, fact_schema
from ..models.facts import RELATION_KEY_FIELDS, relation_key
from ..permissions import article_for, can_review, is_assigned
from ..services.annotations import (
    AnnotationError,
    StaleVersion,
    full_state_of,
    restore_version,
)
from ..versioning import (
    RelationKey,
    SpanKey,
    State,
    compare,
    compare_attributes,
    compare_relations,
)

VERSIONS_PER_PAGE = 50
TEMPLATE = "history/history.html"


class BadParameter(Exception):
    pass


def _selected_annotation(request: HttpRequest, article: Article, role: str) -> Annotation | None:
    """The annotation the query string names, None if it has none yet, 404 if not allowed."""
    query = request.GET
    username = query.get("annotator", "")
    annotations = Annotation.objects.filter(article=article).select_related("annotator")
    if query.get("gold") == "1":
        if not can_review(role):
            raise Http404("No such annotation.")
        return annotations.filter(kind=Annotation.Kind.GOLD).first()
    if username and username != request.user.get_username():
        if not can_review(role):
            raise Http404("No such annotation.")
        found = annotations.filter(kind=Annotation.Kind.EDITOR, annotator__username=username)
        annotation = found.first()
        if annotation is None:
            raise Http404("No such annotation.")
        return annotation
    return annotations.filter(kind=Annotation.Kind.EDITOR, annotator=request.user).first()


def _selector(request: HttpRequest) -> QueryDict:
    """The query-string part that says whose annotation, to carry over into every link."""
    selector = QueryDict(mutable=True)
    if request.GET.get("gold") == "1":
        selector["gold"] = "1"
    elif request.GET.get("annotator"):
        selector["annotator"] = request.GET["annotator"]
    return selector


def _int_param(request: HttpRequest, name: str, default: int | None = None) -> int | None:
    try:
        value = parse_optional_int(request.GET.get(name), name=name)
    except InputError as error:
        raise BadParameter(f"{name} must be a version number: {error}") from None
    return default if value is None else value


def _whose(request: HttpRequest, annotation: Annotation | None) -> str:
    if request.GET.get("gold") == "1":
        return "the gold annotation"
    if annotation is None or annotation.annotator_id == request.user.pk:
        return "your annotation"
    return f"{annotation.annotator.username}’s annotation"


def _restore_blocked(request: HttpRequest, role: str, annotation: Annotation) -> str | None:
    """Why the caller cannot restore versions of this annotation (None: they can)."""
    article = annotation.article
    if annotation.is_gold:
        if not can_review(role):
            return "Only reviewers and managers change the gold annotation."
        if annotation.final:
            return "The gold annotation is final; reopen it to restore a version."
        return None
    if annotation.annotator_id != request.user.pk:
        return "Only the editor can restore versions of their annotation."
    if not is_assigned(request.user, article):
        return "This article is not assigned to you."
    if Annotation.objects.filter(article=article, kind=Annotation.Kind.GOLD, final=True).exists():
        return "The gold annotation of this article is final; your annotation is locked."
    return None


def _page_context(request: HttpRequest, article: Article, role: str) -> dict[str, object]:
    """What every history page shows: whose annotation, the version list, the picker."""
    annotation = _selected_annotation(request, article, role)
    context: dict[str, object] = {
        "article": article,
        "project": article.project,
        "role": role,
        "annotation": annotation,
        "selector": _selector(request),
        "whose": _whose(request, annotation),
        "is_reviewer": can_review(role),
    }
    if can_review(role):
        context["choices"] = list(
            Annotation.objects.filter(article=article)
            .select_related("annotator")
            .order_by("kind", "annotator__username")
        )
    if annotation is None or annotation.version == 0:
        return context
    paginator = Paginator(
        AnnotationVersion.objects.filter(annotation=annotation)
        .select_related("author")
        .order_by("-number"),
        VERSIONS_PER_PAGE,
    )
    page = paginator.get_page(request.GET.get("page"))
    blocked = _restore_blocked(request, role, annotation)
    context.update(
        page=page,
        rows=[(v, uuid.uuid4()) for v in page.object_list],
        restore_blocked=blocked,
        may_restore=blocked is None,
    )
    return context


def _version_context(article: Article, annotation: Annotation, number: int) -> dict[str, object]:
    version = (
        AnnotationVersion.objects.filter(annotation=annotation, number=number)
        .select_related("author")
        .first()
    )
    if version is None:
        raise Http404("No such version.")
    spans = list(annotation.spans_at(number))
    relations = Relation.objects.filter(annotation=annotation).at(number)
    state = State(
        frozenset(SpanKey(s.start, s.end, s.label.key) for s in spans),
        {SpanKey(s.start, s.end, s.label.key): s.attributes for s in spans if s.attributes},
        frozenset(relation_key(row) for row in relations.values_list(*RELATION_KEY_FIELDS)),
    )
    return {
        "version": version,
        "spans": spans,
        "marks": marks_from_spans(spans),
        "relations": _relation_rows(article.text, sorted(state.relations)),
        "warnings": _schema_warnings(article, state),
        "previous_number": number - 1,
        "next_number": number + 1 if number < annotation.version else None,
    }


def _relation_rows(text: str, relations: list[RelationKey]) -> list[dict[str, object]]:
    return [
        {
            "type": r.type,
            "from": r.from_span,
            "to": r.to_span,
            "from_text": text[r.from_span.start : r.from_span.end],
            "to_text": text[r.to_span.start : r.to_span.end],
        }
        for r in relations
    ]


def _schema_warnings(article: Article, state: State) -> list[str]:
    """What the stored state no longer fits in the project's schema (it is shown as it was
    stored, with these warnings: a schema change never rewrites a version)."""
    if not state.attributes and not state.relations:
        return []
    return [w["detail"] for w in schema_warnings(state, fact_schema(article.project_id))]


_DIFF_TITLES = {
    "same": "unchanged",
    "added": "added",
    "removed": "removed",
    "relabelled": "relabelled",
}


def _diff_context(article: Article, annotation: Annotation, a: int, b: int) -> dict[str, object]:
    text = article.text
    old, new = full_state_of(annotation, a), full_state_of(annotation, b)
    rows = compare(old.spans, new.spans)
    marks = []
    changes = []
    for row in rows:
        s = row.span
        snippet = text[s.start : s.end]
        what = _DIFF_TITLES[row.kind]
        title = f"{what}: {row.was} → {s.label}" if row.was else f"{what}: {s.label}"
        marks.append(
            Mark(s.start, s.end, s.label, f"{row.kind}-{s.start}-{s.end}-{s.label}",
                 (f"diff-{row.kind}",), f"{title} · {snippet}")
        )  # fmt: skip
        if row.kind != "same":
            changes.append({"kind": row.kind, "span": s, "was": row.was, "text": snippet})
    attribute_changes = [
        {"row": row, "text": text[row.span.start : row.span.end]}
        for row in compare_attributes(old, new)
    ]
    relation_changes = []
    for row in compare_relations(old, new):
        if row.kind != "same":
            relation_changes.append({"kind": row.kind, **_relation_rows(text, [row.relation])[0]})
    return {
        "a": a,
        "b": b,
        "marks": marks,
        "changes": changes,
        "attribute_changes": attribute_changes,
        "relation_changes": relation_changes,
        "change_count": len(changes) + len(attribute_changes) + len(relation_changes),
        "diff": True,
    }


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return _message_page(request, 400, "That does not work", message)


def _message_page(
    request: HttpRequest, status: int, title: str, message: str, **extra: object
) -> HttpResponse:
    context = {"title": title, "message": message, **extra}
    response = render(request, "history/message.html", context, status=status)
    response["X-Error-Message"] = _header_safe(message)
    return response


def _header_safe(message: str) -> str:
    return quote(message, safe=" .,:;()!?'-")


@login_required
@require_GET
@vary_on_headers("HX-Request")
def history(request: HttpRequest, article_id: int) -> HttpResponse:
    article, role = article_for(request.user, article_id)
    context = _page_context(request, article, role)
    annotation = context["annotation"]
    if annotation is not None and annotation.version:
        try:
            number = _int_param(request, "version", annotation.version)
        except BadParameter as error:
            return _bad_request(request, str(error))
        context.update(_version_context(article, annotation, number))
    if request.htmx:
        partial = "versions" if request.htmx.target == "versions" else "version-view"
        return render(request, f"{TEMPLATE}#{partial}", context)
    return render(request, TEMPLATE, context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def diff(request: HttpRequest, article_id: int) -> HttpResponse:
    article, role = article_for(request.user, article_id)
    context = _page_context(request, article, role)
    annotation = context["annotation"]
    head = annotation.version if annotation is not None else 0
    try:
        b = _int_param(request, "b", head)
        a = _int_param(request, "a", max(b - 1, 0))
    except BadParameter as error:
        return _bad_request(request, str(error))
    if annotation is None or head == 0:
        raise Http404("This annotation has no versions yet.")
    if not (0 <= a <= head and 0 <= b <= head):
        return _bad_request(request, f"Versions go from 0 (empty) to {head}; got {a} and {b}.")
    context.update(_diff_context(article, annotation, a, b))
    if request.htmx:
        return render(request, f"{TEMPLATE}#diff", context)
    return render(request, TEMPLATE, context)


@login_required
@require_POST
def restore(request: HttpRequest, article_id: int) -> HttpResponse:
    article, role = article_for(request.user, article_id)
    annotation = _selected_annotation(request, article, role)
    if annotation is None or annotation.version == 0:
        raise Http404("This annotation has no versions yet.")
    selector = _selector(request).urlencode()
    history_url = reverse("annotation-history", args=[article.pk])
    history_url += f"?{selector}" if selector else ""
    try:
        base_version = parse_version(request.POST.get("base_version", ""))
        number = parse_version(request.POST.get("number", ""), name="number")
    except InputError as error:
        return _bad_request(
            request, f"Say which version to restore and which version you saw ({error})"
        )
    note = request.POST.get("note", "").strip()
    try:
        result = restore_version(
            annotation=annotation,
            author=request.user,
            role=role,
            number=number,
            base_version=base_version,
            note=note,
            request_key=request.POST.get("request_key") or None,
        )
    except StaleVersion as error:
        return _message_page(
            request,
            409,
            "The annotation changed",
            f"{error.detail} Nothing was restored.",
            history_url=history_url,
            changes=error.changes,
            retry={"number": number, "base_version": error.current_version, "note": note},
            request_key=uuid.uuid4(),
            action=request.get_full_path(),
        )
    except AnnotationError as error:
        return _message_page(
            request, error.status, "Not restored", error.detail, history_url=history_url
        )
    if result.created:
        messages.success(request, f"Version {number} restored as version {result.version.number}.")
    elif result.version is not None:
        messages.info(request, f"Already done: version {number} was restored as version "
                      f"{result.version.number}.")  # fmt: skip
    else:
        messages.info(
            request, f"Version {number} is the same as the current state; nothing changed."
        )
    return HttpResponseRedirect(history_url)


urlpatterns = [
    path("articles/<int:article_id>/history/", history, name="annotation-history"),
    path("articles/<int:article_id>/history/diff/", diff, name="annotation-diff"),
    path("articles/<int:article_id>/history/restore/", restore, name="annotation-restore"),
]
