"""Annotations over the API: the caller's own, the gold, and (for reviewers) every editor's.

Every write goes through ``save_annotation`` / ``restore_version``: the API and the pages
share one set of rules. Reads never create rows: an annotation not yet saved is shown at
version 0 with no spans.
"""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.db.models import FilteredRelation, Q
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import Annotation, AnnotationVersion, Assignment, fact_schema
from ..permissions import can_review, is_assigned
from ..services.annotations import (
    NotAllowed,
    SaveResult,
    restore_version,
    save_annotation,
)
from .pagination import check_params
from .permissions import MAX_ID, ON_ARTICLE, IsReviewer
from .serializers.annotations import (
    AnnotationSerializer,
    AnnotationWriteSerializer,
    GoldWriteSerializer,
    RestoreSerializer,
    VersionDetailSerializer,
    VersionSerializer,
    annotation_data,
    current_relations,
    current_span_data,
    span_row_data,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="A UUID. Sending the same request again with the same key makes no second "
    "version: the answer is the current state, with `Idempotent-Replayed: true`.",
)
CONFLICT = OpenApiResponse(
    description='`base_version` is not the current version: {"detail", "current_version", '
    '"changes"}; nothing was written. Also: the gold is final (locked).'
)
GOLD_ONLY = "Only reviewers and managers see the gold annotation and other editors' work."
PUT_DESCRIPTION = (
    "Unknown fields, in the body, in a span or in a relation, are refused with 400 "
    "(`annotator`, `project`, `version`, and `final` on an editor's annotation cannot be "
    "set). A span's `id`, as a GET returns it, is accepted and ignored. `submit`: true "
    "submits (required attributes must be given), false takes the annotation back to in "
    "progress. A span without `attributes` keeps its current values; without `relations`, "
    "the relations whose two spans remain are kept. A span or relation that does not fit "
    'the schema → 400 with `errors: [{"index" or "relation": n, "detail"}]`, nothing written.'
)


class AnnotationTarget(GenericAPIView):
    """Finds the annotation a URL names. ``which`` is ``own`` (the caller's), ``gold``, or
    ``editor`` (the editor named by ``username``; reviewers only)."""

    permission_classes = ON_ARTICLE
    which = "own"

    def initial(self, request: Request, *args, **kwargs) -> None:
        # The role is checked before the body: an editor gets 403 on the gold and on other
        # editors' work whatever they send, never a 400 about the body's shape.
        super().initial(request, *args, **kwargs)
        self.check_may_read()

    def check_may_read(self) -> None:
        if self.which != "own" and not can_review(self.role):
            raise PermissionDenied(GOLD_ONLY)

    def stored_annotation(self) -> Annotation | None:
        # order_by("pk"): the default ordering joins the user table for nothing.
        query = Annotation.objects.filter(article=self.article).select_related("annotator")
        query = query.order_by("pk")
        if self.which == "gold":
            return query.filter(kind=Annotation.Kind.GOLD).first()
        return query.filter(kind=Annotation.Kind.EDITOR, annotator=self.annotator()).first()

    def annotator(self):
        if self.which == "own":
            return self.request.user
        if self.which == "gold":
            return None
        user = get_user_model().objects.filter(username=self.kwargs["username"]).first()
        if user is None:
            raise Http404("No such editor.")
        return user

    def read_annotation(self) -> Annotation:
        """The stored annotation, or an unsaved one at version 0."""
        self.check_may_read()
        stored = self.stored_annotation()
        if stored is not None:
            return stored
        if self.which == "gold":
            return Annotation(article=self.article, kind=Annotation.Kind.GOLD)
        annotator = self.annotator()
        if self.which == "editor" and not is_assigned(annotator, self.article):
            raise Http404("This editor has no annotation of the article.")
        return Annotation(article=self.article, annotator=annotator, kind=Annotation.Kind.EDITOR)

    def write_annotation(self) -> Annotation:
        """The annotation to write to, as ``save_annotation`` takes it: not looked up here
        (the service finds and locks it, and creates it on the first write, in its
        transaction); refused before anything is read when the caller may not write it."""
        assert self.which != "editor", "nobody writes another editor's annotation"
        if self.which == "gold":
            self.check_may_read()
            return Annotation(article=self.article, kind=Annotation.Kind.GOLD)
        if not self.assigned:
            raise NotAllowed("This article is not assigned to you.")
        return Annotation(
            article=self.article, annotator=self.request.user, kind=Annotation.Kind.EDITOR
        )

    def request_key(self) -> uuid.UUID | None:
        value = self.request.headers.get("Idempotency-Key")
        if value is None:
            return None
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            raise ValidationError({"Idempotency-Key": ["Must be a UUID."]})

    def state(self, annotation: Annotation) -> dict:
        annotation.article = self.article  # loaded already: spare the query
        return annotation_data(annotation)


class AnnotationDetail(AnnotationTarget):
    serializer_class = AnnotationSerializer

    @extend_schema(summary="An annotation's current state", responses={200: AnnotationSerializer})
    def get(self, request: Request, article_id: int) -> Response:
        if self.which == "own":
            return Response(own_state(self.article, request.user))
        return Response(self.state(self.read_annotation()))

    @extend_schema(
        summary="Replace the span set (makes version base_version + 1)",
        description=PUT_DESCRIPTION,
        request=AnnotationWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: AnnotationSerializer, 409: CONFLICT},
    )
    def put(self, request: Request, article_id: int) -> Response:
        serializer_class = (
            GoldWriteSerializer if self.which == "gold" else AnnotationWriteSerializer
        )
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = self.request_key()
        annotation = self.write_annotation()
        status = None
        if "submit" in data:
            status = (
                Annotation.Status.SUBMITTED if data["submit"] else Annotation.Status.IN_PROGRESS
            )
        result = save_annotation(
            annotation=annotation,
            author=request.user,
            role=self.role,
            base_version=data["base_version"],
            spans=data["spans"],
            relations=data.get("relations"),
            status=status,
            final=data.get("final"),
            note=data.get("note", ""),
            request_key=key,
        )
        response = Response(self.saved_state(result))
        if key is not None and not result.created and result.version is not None:
            response["Idempotent-Replayed"] = "true"
        return response

    def saved_state(self, result: SaveResult) -> dict:
        """The state after a write, from what the write holds when it made a version (no
        second read)."""
        head = result.annotation
        head.article = self.article
        head.annotator = self.request.user if self.which == "own" else None
        if not result.created:
            return self.state(head)
        gold = head.is_gold
        spans = [span_row_data(row, gold=gold) for row in result.spans]
        # The schema as far as the write read it: the rest is read only if needed.
        return annotation_data(head, spans, result.relations, result.facts)


class GoldDetail(AnnotationDetail):
    """The article's gold annotation (reviewers and managers)."""

    which = "gold"

    @extend_schema(
        summary="The gold annotation's current state", responses={200: AnnotationSerializer}
    )
    def get(self, request: Request, article_id: int) -> Response:
        return super().get(request, article_id)

    @extend_schema(
        summary="Replace the gold span set (makes version base_version + 1)",
        description=PUT_DESCRIPTION + " `final`: true closes adjudication (required "
        "attributes must be given), false reopens it.",
        request=GoldWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: AnnotationSerializer, 409: CONFLICT},
    )
    def put(self, request: Request, article_id: int) -> Response:
        return super().put(request, article_id)


class EditorAnnotationDetail(AnnotationTarget):
    """One editor's annotation, read-only (reviewers and managers)."""

    serializer_class = AnnotationSerializer
    which = "editor"

    @extend_schema(summary="One editor's annotation", responses={200: AnnotationSerializer})
    def get(self, request: Request, article_id: int, username: str) -> Response:
        return Response(self.state(self.read_annotation()))


class EditorAnnotationList(GenericAPIView):
    """Every editor's current annotation of the article (reviewers and managers)."""

    permission_classes = [*ON_ARTICLE, IsReviewer]
    serializer_class = AnnotationSerializer
    pagination_class = None

    @extend_schema(
        summary="Every editor's annotation of an article",
        description="Each assigned editor (version 0 before their first save) and anyone "
        "else who annotated it, by username. Editors get 403.",
        responses={200: AnnotationSerializer(many=True)},
    )
    def get(self, request: Request, article_id: int) -> Response:
        _no_filters(request)
        return Response(editor_states(self.article))


def _no_filters(request: Request) -> None:
    """Lists without filters refuse every query parameter but paging."""

    check_params(request, frozenset())


def editor_states(article) -> list[dict]:
    """Each assigned editor's annotation (version 0 before their first save), and anyone
    else's who annotated the article, by username: three queries."""
    annotations = list(
        Annotation.objects.editors().filter(article=article).select_related("annotator")
    )
    have = {a.annotator_id for a in annotations}
    for assignment in Assignment.objects.filter(article=article).select_related("editor"):
        if assignment.editor_id not in have:
            annotations.append(
                Annotation(
                    article=article, annotator=assignment.editor, kind=Annotation.Kind.EDITOR
                )
            )
    spans = current_span_data(annotations)
    relations = current_relations(annotations)
    schema = None
    if any(relations.values()) or any(s.get("attributes") for v in spans.values() for s in v):
        schema = fact_schema(article.project_id)  # once for all editors
    annotations.sort(key=lambda a: a.annotator.username)
    return [
        annotation_data(a, spans.get(a.pk, []), relations.get(a.pk, []), schema)
        for a in annotations
    ]


def own_state(article, user) -> dict:
    """The caller's annotation of the article (version 0 if never saved), in one query: the
    annotation joined with its current spans (a labelling client's every article fetch)."""
    rows = (
        Annotation.objects.editors()
        .filter(article=article, annotator=user)
        .annotate(span=FilteredRelation("spans", condition=Q(spans__removed_in__isnull=True)))
        .order_by("span__start", "span__end", "span__label__order", "span__label__key")
        .values_list(
            "pk",
            "version",
            "status",
            "updated_at",
            "span__id",
            "span__start",
            "span__end",
            "span__label__key",
            "span__text",
            "span__attributes",
        )  # fmt: skip
    )
    annotation = Annotation(article=article, annotator=user, kind=Annotation.Kind.EDITOR)
    spans = []
    for pk, version, status, updated_at, span, start, end, label, text, attributes in rows:
        annotation.pk, annotation.version = pk, version
        annotation.status, annotation.updated_at = status, updated_at
        if span is not None:
            spans.append({"id": span, "start": start, "end": end, "label": label, "text": text,
                          "attributes": attributes or {}})  # fmt: skip
    relations = current_relations([annotation]).get(annotation.pk, []) if annotation.pk else []
    return annotation_data(annotation, spans, relations)


def gold_state(article) -> dict:
    """The article's gold annotation (version 0 if never saved)."""
    gold = Annotation.objects.gold().filter(article=article).order_by("pk")
    return annotation_data(gold.first() or Annotation(article=article, kind=Annotation.Kind.GOLD))


class VersionList(ListModelMixin, AnnotationTarget):
    serializer_class = VersionSerializer

    @extend_schema(summary="The annotation's versions, oldest first")
    def get(self, request: Request, article_id: int, username: str = "") -> Response:
        _no_filters(request)
        annotation = self.read_annotation()
        versions = AnnotationVersion.objects.none()
        if annotation.pk:
            versions = (
                AnnotationVersion.objects.filter(annotation=annotation)
                .select_related("author")
                .order_by("number")
            )
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class VersionDetail(AnnotationTarget):
    serializer_class = VersionDetailSerializer

    def version(self) -> AnnotationVersion:
        if self.kwargs["number"] > MAX_ID:
            raise Http404("No such version.")
        annotation = self.read_annotation()
        version = (
            AnnotationVersion.objects.filter(
                annotation_id=annotation.pk, number=self.kwargs["number"]
            )
            .select_related("author", "annotation")
            .first()
        )
        if annotation.pk is None or version is None:
            raise Http404(f"There is no version {self.kwargs['number']} of this annotation.")
        return version

    @extend_schema(summary="One version and its spans")
    def get(self, request: Request, article_id: int, number: int, username: str = "") -> Response:
        return Response(self.get_serializer(self.version()).data)


class RestoreVersion(AnnotationTarget):
    serializer_class = AnnotationSerializer

    @extend_schema(
        summary="Make a new version equal to this one",
        description="History is never rewritten: restoring version n makes version "
        "base_version + 1 with the spans of n.",
        request=RestoreSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: AnnotationSerializer, 409: CONFLICT},
    )
    def post(self, request: Request, article_id: int, number: int) -> Response:
        serializer = RestoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = self.request_key()
        annotation = self.read_annotation()
        if annotation.pk is None or number > MAX_ID:
            raise Http404(f"There is no version {number} of this annotation.")
        if self.which == "gold":
            self.check_may_read()
        result = restore_version(
            annotation=annotation,
            author=request.user,
            role=self.role,
            number=number,
            base_version=serializer.validated_data["base_version"],
            note=serializer.validated_data.get("note", ""),
            request_key=key,
        )
        annotation.refresh_from_db(fields=["version", "status", "final", "updated_at"])
        response = Response(self.state(annotation))
        if key is not None and not result.created and result.version is not None:
            response["Idempotent-Replayed"] = "true"
        return response
