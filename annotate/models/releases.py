"""Dataset releases: a named, immutable snapshot of a project's final gold."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from .projects import Project

RELEASE_NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class ReleaseQuerySet(models.QuerySet["Release"]):
    def update(self, **kwargs):
        raise ValidationError("Releases are immutable.")

    def delete(self):
        raise ValidationError("Releases are immutable.")


class Release(models.Model):
    """The gold of every final article at one moment, frozen.

    ``manifest`` lists, in article order, what the release holds: one entry per article,
    ``{"article": id, "version": gold version, "id": external id, "title", "url",
    "sha256": text sha256, "spans_sha256", "adjudicator", "annotators"}``. Gold versions
    are immutable and an annotated article's text cannot change, so the manifest (with
    ``label_keys``, the label keys as they were) rebuilds the same bytes every time;
    ``sha256`` is the hash of the JSON Lines download.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    name = models.CharField(
        max_length=64,
        validators=[
            RegexValidator(
                RELEASE_NAME_RE,
                "Use letters, digits, '.', '_' and '-', starting with one "
                "letter or digit (at most 64).",
            )
        ],
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sha256 = models.CharField(max_length=64, help_text="sha256 of the JSON Lines download.")
    article_count = models.PositiveIntegerField()
    span_count = models.PositiveIntegerField()
    label_counts = models.JSONField(default=dict, help_text="{KEY: spans}, every label.")
    label_keys = models.JSONField(default=dict, help_text="{label id: key} at release time.")
    format_version = models.PositiveSmallIntegerField(
        default=1,
        help_text="1: spans only, ties by label key; 2: facts (attributes, relations), ties "
        "by label order.",
    )
    label_order = models.JSONField(
        default=list,
        blank=True,
        help_text="Label keys in the project's order at release time (tied spans follow it).",
    )
    agreement = models.JSONField(
        null=True, blank=True, help_text="The project's agreement report when released."
    )
    manifest = models.JSONField(default=list)
    changes = models.JSONField(
        default=dict,
        help_text='Since the previous release: {"previous", "added", "removed", "changed"}.',
    )

    FORMAT_VERSION = 2  # what a new release is made as

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["project", "-created_at", "-id"]
        get_latest_by = "created_at"
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"],
                name="release_name_unique_in_project",
                violation_error_message="A release with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.slug} {self.name}" if self.project_id else self.name

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("Releases are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Releases are immutable.")
