"""Exports (streamed) and dataset releases."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.response import Response

from ..exports import FORMATS, render
from ..exports.conll import DOCSTARTS
from ..models import Release
from ..services.exporting import SOURCES, count_records, export_records, fact_columns
from ..services.jobs import prefers_async, release_is_large, start_release
from ..services.releases import (
    ReleaseError,
    check_intact,
    create_release,
    project_agreement,
    render_release,
)
from .job_responses import ACCEPTED, PREFER, accepted
from .pagination import check_params
from .permissions import IN_PROJECT, IsReviewer
from .serializers.releases import (
    ReleaseCreateSerializer,
    ReleaseDetailSerializer,
    ReleaseSerializer,
)

FORMAT_PARAM = OpenApiParameter(
    "format",
    enum=list(FORMATS),
    default="jsonl",
    description="; ".join(f"`{f.name}`: {f.description}" for f in FORMATS.values()),
)
STREAM = OpenApiResponse(
    OpenApiTypes.BINARY,
    description="The export, streamed (JSON Lines, CoNLL text or JSON-LD by `format`).",
)
# One entry per media type the formats are served as, so the schema names each of them;
# JSON-LD is one JSON document (an AnnotationCollection), the others are text.
STREAMS = {
    (200, media_type): (
        OpenApiResponse(OpenApiTypes.OBJECT, description=STREAM.description)
        if media_type.endswith("+json")
        else STREAM
    )
    for media_type in sorted({spec.content_type.split(";")[0] for spec in FORMATS.values()})
}


DOCSTART_PARAM = OpenApiParameter(
    "docstart",
    enum=list(DOCSTARTS),
    default="conll2003",
    description="CoNLL only: the line that opens each document. `conll2003`: "
    "`-DOCSTART- -X- -X- O`, as in the CoNLL-2003 files; `spacy`: `-DOCSTART- -X- O O`, "
    "which `spacy convert` recognises to split documents; `none`: no line.",
)


def export_format(request: Request) -> str:
    name = request.query_params.get("format", "jsonl")
    if name not in FORMATS:
        raise ValidationError({"format": [f"Use one of {', '.join(FORMATS)}."]})
    return name


def docstart_param(request: Request, format: str) -> str:
    value = request.query_params.get("docstart", "conll2003")
    if value not in DOCSTARTS:
        raise ValidationError({"docstart": [f"Use one of {', '.join(DOCSTARTS)}."]})
    if value != "conll2003" and format != "conll":
        raise ValidationError({"docstart": ["Only the conll format has a document line."]})
    return value


def boolean_param(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise ValidationError({name: ["Use true or false."]})
    return value in ("true", "1")


def streamed(
    chunks, *, format: str, filename: str, headers: dict[str, str]
) -> StreamingHttpResponse:
    spec = FORMATS[format]
    response = StreamingHttpResponse(chunks, content_type=spec.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{spec.extension}"'
    response["Cache-Control"] = "no-store"
    for key, value in headers.items():
        response[key] = value
    return response


class Export(GenericAPIView):
    """Reviewers and managers."""

    permission_classes = [*IN_PROJECT, IsReviewer]

    @extend_schema(
        summary="Export annotations, streamed",
        description="`source=gold` (default): each article's gold annotation; "
        "`source=editors`: every editor's annotation, one record each. `final=true`: only "
        "articles whose gold is final. `exclude_flagged=true`: leave out articles an editor "
        "flagged (not relevant, duplicate, broken text, needs discussion) unless a reviewer "
        "dismissed the flag; by default they are included. Every record names the annotation "
        "version it was read at. The `X-Export-Records` header gives the number of records.",
        parameters=[
            FORMAT_PARAM,
            DOCSTART_PARAM,
            OpenApiParameter("source", enum=list(SOURCES), default="gold"),
            OpenApiParameter("final", bool, default=False),
            OpenApiParameter(
                "exclude_flagged",
                bool,
                default=False,
                description="Leave out articles with an open or upheld flag.",
            ),
        ],
        responses=STREAMS,
    )
    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        check_params(request, {"format", "docstart", "source", "final", "exclude_flagged"})
        format = export_format(request)
        docstart = docstart_param(request, format)
        source = request.query_params.get("source", "gold")
        if source not in SOURCES:
            raise ValidationError({"source": [f"Use one of {', '.join(SOURCES)}."]})
        final = boolean_param(request, "final")
        flagged_out = boolean_param(request, "exclude_flagged")
        project = self.project
        which = {"source": source, "final_only": final, "exclude_flagged": flagged_out}
        total = count_records(project, **which)  # type: ignore[arg-type]
        records = export_records(project, **which)  # type: ignore[arg-type]
        stamp = timezone.now()
        chunks = render(
            format,
            records,
            namespace=project.slug,
            label=f"{source} export {stamp:%Y%m%d-%H%M%S}",
            generated=stamp.isoformat().replace("+00:00", "Z"),
            docstart=docstart,
            columns=fact_columns(project) if format.startswith("facts") else None,
        )
        name = f"{project.slug}-{source}{'-final' if final else ''}-{stamp:%Y%m%d-%H%M%S}"
        return streamed(
            chunks, format=format, filename=name, headers={"X-Export-Records": str(total)}
        )


class ReleaseList(ListModelMixin, GenericAPIView):
    """Reviewers and managers list and create releases."""

    permission_classes = [*IN_PROJECT, IsReviewer]
    serializer_class = ReleaseSerializer

    def get_queryset(self) -> QuerySet[Release]:
        return (
            Release.objects.filter(project=self.project)
            .select_related("created_by")
            .defer("manifest")
            .order_by("-created_at", "-id")
        )

    @extend_schema(summary="List releases, newest first")
    def get(self, request: Request, slug: str) -> Response:
        check_params(request, frozenset())
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Freeze the current final gold as a release",
        description="Every article whose gold is final, at its current gold version, with "
        "the sha256 of the JSON Lines download, span counts per label, the agreement report "
        "at this moment, and what changed since the previous release. Releases are "
        "immutable; their downloads are byte-identical every time. Past RELEASE_SYNC_LIMIT "
        "final articles (5,000 by default), or with `Prefer: respond-async`, the name and "
        "note are checked and the release is built by a background job: 202 with the job "
        "(its `result` names the release once it succeeded).",
        request=ReleaseCreateSerializer,
        parameters=[PREFER],
        responses={201: ReleaseSerializer, 202: ACCEPTED},
    )
    def post(self, request: Request, slug: str) -> Response:
        serializer = ReleaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if release_is_large(self.project) or prefers_async(request.headers.get("Prefer", "")):
            try:
                job = start_release(
                    project=self.project,
                    user=request.user,
                    name=serializer.validated_data["name"],
                    note=serializer.validated_data.get("note", ""),
                )
            except ReleaseError as exc:
                raise _api_error(exc)
            return accepted(request, job)
        try:
            release = create_release(
                project=self.project,
                name=serializer.validated_data["name"],
                note=serializer.validated_data.get("note", ""),
                user=request.user,
                agreement=project_agreement(self.project),
            )
        except ReleaseError as exc:
            raise _api_error(exc)
        return Response(self.get_serializer(release).data, status=status.HTTP_201_CREATED)


def _api_error(exc: ReleaseError) -> Exception:
    error = (
        ValidationError({"name": [exc.detail]})
        if exc.status == 400
        else ValidationError(exc.detail)
    )
    error.status_code = exc.status
    return error


class ReleaseTarget(GenericAPIView):
    permission_classes = [*IN_PROJECT, IsReviewer]

    def release(self) -> Release:
        release = (
            Release.objects.filter(project=self.project, name=self.kwargs["name"])
            .select_related("created_by", "project")
            .first()
        )
        if release is None:
            raise Http404("No such release.")
        return release


class ReleaseDetail(ReleaseTarget):
    serializer_class = ReleaseDetailSerializer

    @extend_schema(summary="A release with its manifest")
    def get(self, request: Request, slug: str, name: str) -> Response:
        return Response(self.get_serializer(self.release()).data)


class ReleaseDownload(ReleaseTarget):
    @extend_schema(
        summary="Download a release, streamed",
        description="Rebuilt from the release's manifest: byte-identical on every call. "
        "For `jsonl`, the `ETag` and `X-Content-SHA256` headers carry the release's sha256.",
        parameters=[FORMAT_PARAM, DOCSTART_PARAM],
        responses=STREAMS,
    )
    def get(self, request: Request, slug: str, name: str) -> StreamingHttpResponse:
        check_params(request, {"format", "docstart"})
        format = export_format(request)
        docstart = docstart_param(request, format)
        release = self.release()
        try:
            check_intact(release)
        except ReleaseError as exc:
            raise _api_error(exc)
        headers = {"X-Export-Records": str(release.article_count)}
        if format == "jsonl":
            headers |= {"ETag": f'"{release.sha256}"', "X-Content-SHA256": release.sha256}
        return streamed(
            render_release(release, format, docstart=docstart),
            format=format,
            filename=f"{release.project.slug}-{release.name}",
            headers=headers,
        )
