"""Background jobs: long work (a large import, a full agreement recompute, a release) run by a
task worker off the request, with its progress, result and error kept in the database so any
app server can show them."""

from __future__ import annotations

import zlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from .projects import Project, Role


class JobQuerySet(models.QuerySet["Job"]):
    def visible_to(self, user, role: str | None) -> JobQuerySet:
        """A project's managers see every job of it; anyone else only the jobs they started."""
        return self if role == Role.MANAGER else self.filter(started_by=user)

    def unfinished(self) -> JobQuerySet:
        return self.filter(state__in=(Job.State.QUEUED, Job.State.RUNNING))


class Job(models.Model):
    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        RECOMPUTE = "recompute", "Agreement recompute"
        RELEASE = "release", "Release"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)  # None: not known (yet)
    message = models.CharField(max_length=500, blank=True)
    # What the job needs besides its payload: an import's format and file name, a release's
    # name and note.
    params = models.JSONField(default=dict, blank=True)
    # An import's upload, zlib-compressed: in the database, so whichever worker takes the
    # job can read it; emptied once the job has finished.
    payload = models.BinaryField(null=True, blank=True, editable=False)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)  # the django-tasks result id
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="job_project_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["import", "recompute", "release"]),
                name="job_kind_known",
                violation_error_message="Unknown job kind.",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "succeeded", "failed"]),
                name="job_state_known",
                violation_error_message="Unknown job state.",
            ),
            models.CheckConstraint(
                condition=Q(total__isnull=True) | Q(done__lte=models.F("total")),
                name="job_done_within_total",
                violation_error_message="A job cannot have done more than its total.",
            ),
            models.CheckConstraint(
                condition=~Q(state="failed") | ~Q(error=""),
                name="job_failure_says_why",
                violation_error_message="A failed job needs its error in words.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.state == self.State.SUCCEEDED else None
        return min(100, self.done * 100 // self.total)

    def set_payload(self, data: bytes) -> None:
        self.payload = zlib.compress(data, 1)

    def read_payload(self) -> bytes:
        return zlib.decompress(bytes(self.payload or b""))
