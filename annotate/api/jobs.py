"""Background jobs through the API: a long import, recompute or release answers
``202 Accepted`` with the job's URL (also in ``Location``); the job's own endpoint then gives
its state, progress, result and error."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import Job
from ..permissions import can_see_job, job_for
from ..services.jobs import start_recompute
from .job_responses import ACCEPTED, JobAcceptedSerializer, accepted, job_url
from .pagination import check_params
from .permissions import IN_PROJECT, IsManager

NOT_YOURS = "Only the person who started this job and the project's managers can see it."


class JobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    started_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    result = serializers.JSONField(
        help_text="When succeeded. import: `created`, `skipped` (the first 1,000 external "
        "ids already present), `skipped_count`, `assigned`; recompute: `articles`, `compared`, "
        "`groups`, `removed`; release: `name`, `articles`, `sha256`."
    )
    error = serializers.CharField(help_text="When failed: why, in words.")
    total = serializers.IntegerField(allow_null=True, help_text="null while not known.")

    class Meta:
        model = Job
        fields = [
            "id",
            "url",
            "kind",
            "project",
            "state",
            "done",
            "total",
            "message",
            "result",
            "error",
            "started_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_url(self, job: Job) -> str:
        return job_url(self.context["request"], job)


class CanSeeJob(BasePermission):
    """The URL's job (``job_id``) is in one of the caller's projects (else 404, whatever the
    method) and the caller started it or manages the project (else 403): sets ``view.job``."""

    message = NOT_YOURS

    def has_permission(self, request, view) -> bool:
        view.job, role = job_for(request.user, view.kwargs["job_id"])
        return can_see_job(request.user, role, view.job)


class JobDetail(GenericAPIView):
    permission_classes = [IsAuthenticated, CanSeeJob]
    serializer_class = JobSerializer

    @extend_schema(
        summary="A background job: state, progress, result, error",
        description="The person who started it and the project's managers. `state` is "
        "`queued`, `running`, `succeeded` or `failed`; `done` of `total` is the progress "
        "(`total` null when unknown, as for a recompute); `result` when it succeeded, "
        "`error` (why, in words) when it failed.",
    )
    def get(self, request: Request, job_id: int) -> Response:
        check_params(request, frozenset())
        return Response(self.get_serializer(self.job).data)


class JobList(ListModelMixin, GenericAPIView):
    permission_classes = [*IN_PROJECT, IsManager]
    serializer_class = JobSerializer

    def get_queryset(self):
        return Job.objects.filter(project=self.project).select_related("project", "started_by")

    @extend_schema(
        summary="The project's background jobs, newest first",
        description="Managers. Filters: `state`, `kind`.",
        parameters=[
            OpenApiParameter("state", enum=Job.State.values),
            OpenApiParameter("kind", enum=Job.Kind.values),
        ],
    )
    def get(self, request: Request, slug: str) -> Response:
        check_params(request, {"state", "kind"})
        jobs = self.get_queryset().defer("payload")
        for name, choices in (("state", Job.State.values), ("kind", Job.Kind.values)):
            if name in request.query_params:
                value = request.query_params[name]
                if value not in choices:
                    raise ValidationError({name: [f"Use one of {', '.join(choices)}."]})
                jobs = jobs.filter(**{name: value})
        page = self.paginate_queryset(jobs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class AgreementRecompute(GenericAPIView):
    permission_classes = [*IN_PROJECT, IsManager]
    serializer_class = JobAcceptedSerializer

    @extend_schema(
        summary="Recompute the project's agreement statistics (a background job)",
        description="Managers. Rebuilds every stored statistic from the submitted "
        "annotations, as `manage.py recompute_agreement` does. While a recompute of the "
        "project is queued or running, that job is the answer.",
        request=None,
        responses={202: ACCEPTED},
    )
    def post(self, request: Request, slug: str) -> Response:
        return accepted(request, start_recompute(project=self.project, user=request.user))
