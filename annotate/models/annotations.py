"""The domain model.

Annotations are versioned as a temporal table: a ``Span`` row is written once when a
version adds it (``added_in``) and closed once when a later version removes it
(``removed_in``). The state at version *n* is every span with
``added_in <= n < removed_in`` (``removed_in`` NULL meaning "still there"), so the current
state is one indexed query however long the history, and each version costs one row plus
one row per span it adds (a removal only sets ``removed_in``; a relabel closes one row and
adds one). No snapshot is ever copied forward, so the history grows with the edits, not
with the size of the span set.

Immutability, in the model layer: ``AnnotationVersion`` rows cannot be updated or deleted
(instance ``save``/``delete`` and queryset ``update``/``delete`` raise); a ``Span`` row's one
permitted change is being closed (``removed_in``). Only deleting the whole annotation (its
article or project) removes history, through the database cascade. Numbering: one
``(annotation, number)`` pair at most (a unique constraint), numbers from 1 (a check), and
the next number is taken from the locked head row in the transaction that moves the head.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from .projects import Article, Label


class AnnotationQuerySet(models.QuerySet["Annotation"]):
    def editors(self) -> AnnotationQuerySet:
        return self.filter(kind=Annotation.Kind.EDITOR)

    def gold(self) -> AnnotationQuerySet:
        return self.filter(kind=Annotation.Kind.GOLD)

    def submitted(self) -> AnnotationQuerySet:
        return self.filter(kind=Annotation.Kind.EDITOR, status=Annotation.Status.SUBMITTED)


class Annotation(models.Model):
    """One editor's annotation of an article, or the article's gold annotation.

    The row holds the head pointer (`version`) and the status; the content lives in
    versions and spans. `version` is 0 until the first save.
    """

    class Kind(models.TextChoices):
        EDITOR = "editor", "Editor"
        GOLD = "gold", "Gold"

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="annotations")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.EDITOR)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="annotations",
        help_text="The editor; empty for the gold annotation.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    final = models.BooleanField(default=False, help_text="Gold only: adjudication is closed.")
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["article", "kind", "annotator__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "annotator"],
                condition=Q(kind="editor"),
                name="one_annotation_per_editor_and_article",
            ),
            models.UniqueConstraint(
                fields=["article"], condition=Q(kind="gold"), name="one_gold_per_article"
            ),
            models.CheckConstraint(
                condition=(Q(kind="editor") & Q(annotator__isnull=False) & Q(final=False))
                | (Q(kind="gold") & Q(annotator__isnull=True)),
                name="annotation_kind_consistent",
                violation_error_message="Editor annotations need an annotator; gold has none.",
            ),
        ]
        indexes = [models.Index(fields=["article", "kind", "status"])]

    def __str__(self) -> str:
        who = self.annotator.username if self.annotator_id else "gold"
        return f"{self.article} · {who} v{self.version}"

    @property
    def is_gold(self) -> bool:
        return self.kind == self.Kind.GOLD

    @property
    def state_label(self) -> str:
        """Where it stands, in words: a gold is final or open for review (its status never
        changes: "in progress" would say nothing); an editor's annotation is in progress or
        submitted."""
        if self.is_gold:
            return "Final" if self.final else "Open for review"
        return self.get_status_display()

    def spans_at(self, version: int | None = None) -> models.QuerySet[Span]:
        """The span set as of `version` (default: the current one), in text order."""
        number = self.version if version is None else version
        return (
            Span.objects.filter(annotation=self, added_in__lte=number)
            .filter(Q(removed_in__isnull=True) | Q(removed_in__gt=number))
            .select_related("label")
            .order_by("start", "end", "label__order", "label__key")
        )

    def current_spans(self) -> models.QuerySet[Span]:
        return (
            Span.objects.filter(annotation=self, removed_in__isnull=True)
            .select_related("label")
            .order_by("start", "end", "label__order", "label__key")
        )


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("Annotation versions are immutable.")

    def delete(self):
        raise ValidationError("Annotation versions are immutable.")


class AnnotationVersion(models.Model):
    """An immutable step in an annotation's history."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotation_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Annotation.Status.choices)
    final = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    summary = models.JSONField(
        default=dict,
        help_text='What changed: {"added": {KEY: n}, "removed": {KEY: n}, "status": ...}.',
    )
    span_count = models.PositiveIntegerField(default=0)
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    request_key = models.UUIDField(
        null=True, blank=True, help_text="Idempotency key of the request that made this version."
    )

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["annotation", "number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(fields=["annotation", "number"], name="version_number_unique"),
            models.UniqueConstraint(
                fields=["annotation", "request_key"], name="version_request_key_unique"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"v{self.number} of {self.annotation_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("Annotation versions are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Annotation versions are immutable.")

    def spans(self) -> models.QuerySet[Span]:
        """The span set this version produced: (annotation id, number) addresses it forever."""
        return self.annotation.spans_at(self.number)


class SpanQuerySet(models.QuerySet["Span"]):
    """Spans are history: the one change a span row may get is being closed (`removed_in`)."""

    def update(self, **kwargs):
        if set(kwargs) != {"removed_in"}:
            raise ValidationError("Spans are immutable; only removed_in may be set.")
        return super().update(**kwargs)

    def delete(self):
        raise ValidationError("Spans are immutable; a removal is a new version.")


class Span(models.Model):
    """A labelled stretch of article text, alive from version `added_in` until `removed_in`.

    Offsets are Unicode code points into `Article.text`, end exclusive:
    ``article.text[start:end] == text``.
    """

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="spans")
    text = models.TextField()
    attributes = models.JSONField(
        default=dict,
        blank=True,
        help_text="The label's attribute values; a change closes this row and adds one.",
    )
    added_in = models.PositiveIntegerField()
    removed_in = models.PositiveIntegerField(null=True, blank=True)
    source = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Gold only: the editor span this one was accepted from.",
    )
    origin = models.CharField(
        max_length=8,
        choices=[("", "Marked by hand"), ("gold", "Gold suggestion"), ("model", "Model")],
        default="",
        blank=True,
        help_text="Where the span started: by hand, or an accepted suggestion.",
    )

    objects = SpanQuerySet.as_manager()

    class Meta:
        ordering = ["annotation", "start", "end"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__gte=0),
                name="span_start_not_negative",
                violation_error_message="A span cannot start before the text.",
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="span_end_after_start",
                violation_error_message="A span must end after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(removed_in__isnull=True) | Q(removed_in__gt=F("added_in")),
                name="span_removed_after_added",
            ),
            models.UniqueConstraint(
                fields=["annotation", "start", "end", "label"],
                condition=Q(removed_in__isnull=True),
                name="span_unique_while_current",
            ),
        ]
        indexes = [
            models.Index(fields=["annotation", "removed_in"], name="span_current_idx"),
            models.Index(fields=["annotation", "added_in"], name="span_added_idx"),
            # The few spans that started as suggestions, counted for the agreement report.
            models.Index(fields=["annotation"], condition=~Q(origin=""), name="span_suggested_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.label.key} [{self.start}:{self.end}] {self.text[:40]!r}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("Spans are immutable; a change is a new version.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Spans are immutable; a removal is a new version.")

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "label": self.label.key, "text": self.text}
