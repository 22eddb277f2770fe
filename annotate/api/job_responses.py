"""The answer of an endpoint whose work may run as a background job: ``202 Accepted`` with
the job's URL, in the body and in ``Location``."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import Job

PREFER = OpenApiParameter(
    "Prefer",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="`respond-async` (RFC 7240): run as a background job whatever the size, "
    "and answer 202 with the job.",
)


class JobAcceptedSerializer(serializers.Serializer):
    job = serializers.URLField(help_text="The job's URL; poll it for progress. Also `Location`.")
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=Job.State.choices)


def job_url(request: Request, job: Job) -> str:
    return request.build_absolute_uri(reverse("api-job", args=[job.pk]))


def accepted(request: Request, job: Job) -> Response:
    """202 with where to follow the job."""
    url = job_url(request, job)
    return Response(
        {"job": url, "id": job.pk, "state": job.state},
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": url},
    )


ACCEPTED = OpenApiResponse(
    JobAcceptedSerializer,
    description="Queued as a background job (`Location` is the job's URL). With no worker "
    "configured (the immediate backend) the job has already run.",
)
