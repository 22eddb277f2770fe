"""Articles: import, list with each one's status, read one; import a labelled dataset."""

from __future__ import annotations

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Length
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import Annotation, Assignment, Project
from ..permissions import can_review
from ..services.datasets import import_dataset, parse_dataset
from ..services.importing import import_articles
from ..services.jobs import import_is_large, parse_import, prefers_async, start_import
from .annotations import GOLD_ONLY, editor_states, gold_state, own_state
from .job_responses import ACCEPTED, PREFER, accepted
from .pagination import check_params
from .parsers import NDJSON, JSONLinesParser, NDJSONParser, RawBody, RawJSONParser
from .permissions import IN_PROJECT, ON_ARTICLE, IsManager
from .serializers.articles import (
    ArticleInputSerializer,
    ArticleListSerializer,
    ArticleSerializer,
    ImportResultSerializer,
    article_data,
)

EDITOR_STATUSES = ("todo", "in_progress", "submitted", "closed")
REVIEW_STATUSES = ("annotating", "pending", "in_review", "final")
ORDERINGS = ("id", "-id", "created_at", "-created_at")


def editor_articles(project: Project, user):
    """The editor's assigned articles, each with their own annotation's state."""
    # Unordered subqueries: one row at most each, and the model's ordering would join the
    # article, its project and the user into the subquery of every article.
    own = Annotation.objects.filter(
        article=OuterRef("pk"), annotator=user, kind=Annotation.Kind.EDITOR
    ).order_by()
    final_gold = Annotation.objects.gold().filter(article=OuterRef("pk"), final=True)
    return (
        project.articles.filter(
            Exists(Assignment.objects.filter(article=OuterRef("pk"), editor=user))
        )
        .annotate(
            version=Coalesce(
                Subquery(own.values("version")[:1]), Value(0), output_field=IntegerField()
            ),
            own_status=Subquery(own.values("status")[:1]),
            closed=Exists(final_gold),
        )
        .annotate(
            status=Case(
                When(closed=True, then=Value("closed")),
                When(own_status=Annotation.Status.SUBMITTED, then=Value("submitted")),
                When(version__gt=0, then=Value("in_progress")),
                default=Value("todo"),
                output_field=CharField(),
            )
        )
    )


def _count(query) -> Coalesce:
    per_article = query.order_by().values("article").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(per_article), Value(0), output_field=IntegerField())


def review_articles(project: Project):
    """Every article with where it stands: editors assigned and submitted, gold state."""
    gold = Annotation.objects.gold().filter(article=OuterRef("pk")).order_by()
    return project.articles.annotate(
        editors_assigned=_count(Assignment.objects.filter(article=OuterRef("pk"))),
        editors_submitted=_count(Annotation.objects.submitted().filter(article=OuterRef("pk"))),
        gold_version=Coalesce(
            Subquery(gold.values("version")[:1]), Value(0), output_field=IntegerField()
        ),
        gold_final=Coalesce(
            Subquery(gold.values("final")[:1]), Value(False), output_field=BooleanField()
        ),
    ).annotate(
        status=Case(
            When(gold_final=True, then=Value("final")),
            When(gold_version__gt=0, then=Value("in_review")),
            When(
                Q(editors_assigned__gt=0) & Q(editors_submitted__gte=F("editors_assigned")),
                then=Value("pending"),
            ),
            default=Value("annotating"),
            output_field=CharField(),
        )
    )


LIST_DESCRIPTION = """Paginated. Each article has a `status`:

- for an editor, only the articles assigned to them, with their own annotation's state:
  `todo`, `in_progress`, `submitted`, or `closed` (the gold is final), and its `version`;
- for reviewers and managers, every article: `annotating` (editors still at work),
  `pending` (every assigned editor submitted, no gold yet), `in_review` (gold started) or
  `final`, with `editors_assigned`, `editors_submitted`, `gold_version`, `gold_final`.

Filters: `status`, `external_id` (exact); `ordering` is `id`, `-id`, `created_at` or
`-created_at`. Other query parameters are refused with 400."""

IMPORT_DESCRIPTION = """Managers (and editors, one article at a time, where the project
allows it). The body is a JSON array of articles, or JSON Lines with
`Content-Type: application/x-ndjson`. Text is canonicalised (LF line ends, no BOM, NFC).
Articles whose `external_id` the project has are skipped and listed; new ones are given to
editors. Any invalid item: 400 with `errors: [{"index" | "line", "detail"}]` and nothing
written; a body over MAX_UPLOAD_BYTES: 413.

More than IMPORT_SYNC_LIMIT articles (1,000 by default), or `Prefer: respond-async`: the
upload is checked as above (a bad item is still a 400 and nothing is queued), then imported
by a background job: `202 {"job": url, "id", "state"}` with `Location: url`; `GET` the job
for its progress and, once it succeeded, `result` (`created`, `skipped`, `assigned`). A job
commits IMPORT_JOB_BATCH articles at a time: if it fails, its `error` says how many were
imported before, and sending the same upload again completes it."""


class ArticleList(ListModelMixin, GenericAPIView):
    permission_classes = IN_PROJECT
    serializer_class = ArticleListSerializer
    parser_classes = [RawJSONParser, NDJSONParser, JSONLinesParser]

    def get_queryset(self):
        if can_review(self.role):
            articles = review_articles(self.project)
        else:
            articles = editor_articles(self.project, self.request.user)
        return articles.defer("text", "meta").annotate(length=Length("text"))

    @extend_schema(
        summary="List articles with their status",
        description=LIST_DESCRIPTION,
        parameters=[
            OpenApiParameter("status", enum=[*EDITOR_STATUSES, *REVIEW_STATUSES]),
            OpenApiParameter("external_id", str),
            OpenApiParameter("ordering", enum=list(ORDERINGS)),
        ],
    )
    def get(self, request: Request, slug: str) -> Response:
        check_params(request, {"status", "external_id", "ordering"})
        articles = self.get_queryset()
        params = request.query_params
        if "status" in params:
            allowed = REVIEW_STATUSES if can_review(self.role) else EDITOR_STATUSES
            if params["status"] not in allowed:
                raise ValidationError({"status": [f"Use one of {', '.join(allowed)}."]})
            articles = articles.filter(status=params["status"])
        if "external_id" in params:
            articles = articles.filter(external_id=params["external_id"])
        ordering = params.get("ordering", "id")
        if ordering not in ORDERINGS:
            raise ValidationError({"ordering": [f"Use one of {', '.join(ORDERINGS)}."]})
        articles = articles.order_by(ordering, "id" if not ordering.startswith("-") else "-id")
        page = self.paginate_queryset(articles)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Import articles",
        description=IMPORT_DESCRIPTION,
        request={
            "application/json": ArticleInputSerializer(many=True),
            NDJSON: ArticleInputSerializer,
        },
        parameters=[PREFER],
        responses={201: ImportResultSerializer, 202: ACCEPTED},
    )
    def post(self, request: Request, slug: str) -> Response:
        body = _raw_body(request)
        format = "json" if body.media_type == "application/json" else "jsonl"
        records = parse_import(project=self.project, role=self.role, data=body, format=format)
        if import_is_large(len(records)) or prefers_async(request.headers.get("Prefer", "")):
            job = start_import(
                project=self.project,
                user=request.user,
                data=bytes(body),
                count=len(records),
                format=format,
            )
            return accepted(request, job)
        result = import_articles(project=self.project, records=records, user=request.user)
        data = {"created": result.created, "skipped": result.skipped, "assigned": result.assigned}
        if result.predictions is not None:
            data["predictions"] = result.predictions.as_dict()
        return Response(data, status=status.HTTP_201_CREATED)


def _raw_body(request: Request) -> RawBody:
    body = request.data
    # isspace, not strip: no copy of a body of megabytes.
    wanted = "a JSON array (application/json) or JSON Lines (application/x-ndjson)"
    if not isinstance(body, RawBody) and body:
        raise ValidationError(f"Send {wanted}.")
    if not body or body.isspace():
        # Say so rather than "send a JSON array": the client may well have sent one, in a
        # way that did not arrive (a chunked body through a server that cannot read it).
        raise ValidationError(f"The request body is empty: send {wanted}.")
    return body


INCLUDES = ("annotation", "annotations", "gold")


class ArticleDetail(GenericAPIView):
    """Any member of the article's project may read it."""

    permission_classes = ON_ARTICLE
    serializer_class = ArticleSerializer

    @extend_schema(
        summary="An article with its text and sha256",
        description="`include` (comma-separated) embeds annotations, so one request gives "
        "what a labelling client needs: `annotation` (the caller's own), and for reviewers "
        "and managers `annotations` (every editor's) and `gold`. Same shapes as their own "
        "endpoints.",
        parameters=[OpenApiParameter("include", str, description=", ".join(INCLUDES))],
    )
    def get(self, request: Request, article_id: int) -> Response:
        check_params(request, {"include"})
        wanted = [item for item in request.query_params.get("include", "").split(",") if item]
        unknown = [item for item in wanted if item not in INCLUDES]
        if unknown:
            raise ValidationError({"include": [f"Use any of {', '.join(INCLUDES)}."]})
        if {"annotations", "gold"} & set(wanted) and not can_review(self.role):
            raise PermissionDenied(GOLD_ONLY)
        data = article_data(self.article)
        if "annotation" in wanted:
            data["annotation"] = own_state(self.article, request.user)
        if "annotations" in wanted:
            data["annotations"] = editor_states(self.article)
        if "gold" in wanted:
            data["gold"] = gold_state(self.article)
        return Response(data)


DATASET_DESCRIPTION = """Managers. Loads what `GET .../export/?format=jsonl` (gold) writes:
one record a line (or a JSON array), each with `id`, `text`, `spans`, and optionally `title`,
`url`, `final`; provenance fields (`article`, `version`, `adjudicator`, `annotators`,
`status`, `source`: "gold") are accepted and not imported. Each article is created with a
gold annotation holding its spans (final if the record says so), written by the caller and
not assigned to editors. Articles the project already has are skipped, gold and all. Any
invalid record: 400 with `errors` by line or index, and nothing written."""


class DatasetImport(GenericAPIView):
    permission_classes = [*IN_PROJECT, IsManager]
    parser_classes = [NDJSONParser, JSONLinesParser, RawJSONParser]
    serializer_class = ImportResultSerializer

    @extend_schema(
        summary="Import a labelled dataset (a gold JSON Lines export)",
        description=DATASET_DESCRIPTION,
        request={
            NDJSON: ArticleInputSerializer,
            "application/json": ArticleInputSerializer(many=True),
        },
        responses={201: ImportResultSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        body = _raw_body(request)
        items = parse_dataset(
            bytes(body), format="json" if body.media_type == "application/json" else "jsonl"
        )
        result = import_dataset(project=self.project, items=items, user=request.user)
        data = {"created": result.created, "skipped": result.skipped, "assigned": 0}
        return Response(data, status=status.HTTP_201_CREATED)
