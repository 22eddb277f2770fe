"""Assistance: what a model predicted for an article.

Predictions are offers, never annotations: they live in their own tables, keyed by the model
version that made them, and reach an editor's annotation only when the editor accepts one
(the span then records its ``origin``). Gold suggestions need no table of their own: they are
read from final gold through the phrase index (``GoldPhrase``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .facts import RelationType
from .projects import Article, Label, Project


class ModelVersion(models.Model):
    """A named version of a model ("ner-news@3") whose predictions a project holds."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="model_versions")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who uploaded its first predictions; empty for the ML backend.",
    )

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="model_version_unique")
        ]

    def __str__(self) -> str:
        return self.name


class PredictedSpan(models.Model):
    """One span a model version predicted in an article, with its score (0–1) if given."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="spans")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="predicted_spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    score = models.FloatField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["article", "start", "end"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="predicted_span_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=1)),
                name="predicted_span_score_in_range",
            ),
            models.UniqueConstraint(
                fields=["model_version", "article", "start", "end", "label"],
                name="predicted_span_unique",
            ),
        ]
        indexes = [models.Index(fields=["article", "model_version"], name="predicted_article_idx")]

    def __str__(self) -> str:
        return f"{self.label_id} [{self.start}:{self.end}] by {self.model_version_id}"


class PredictedRelation(models.Model):
    """A relation a model version predicted between two of its spans in an article."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="relations"
    )
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="predicted_relations"
    )
    type = models.ForeignKey(RelationType, on_delete=models.CASCADE, related_name="+")
    from_start = models.PositiveIntegerField()
    from_end = models.PositiveIntegerField()
    from_label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    to_start = models.PositiveIntegerField()
    to_end = models.PositiveIntegerField()
    to_label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["article", "from_start", "to_start"]
        indexes = [
            models.Index(fields=["article", "model_version"], name="predicted_rel_article_idx")
        ]

    def __str__(self) -> str:
        return f"{self.type_id} [{self.from_start}:{self.from_end}]→[{self.to_start}:{self.to_end}]"


class GoldPhrase(models.Model):
    """The phrase index behind gold suggestions: each distinct (text, label) that final gold in
    a project marks, with how many final gold spans carry it. Kept up to date when a gold is
    marked final or reopened, so suggesting never loops over the gold."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="gold_phrases")
    text = models.CharField(max_length=500)
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(default=0)
    first_word = models.CharField(
        max_length=100,
        default="",
        help_text="The phrase's first word: an article loads only the phrases that can occur "
        "in it, those whose first word it has.",
    )

    class Meta:
        ordering = ["project", "text"]
        constraints = [
            models.UniqueConstraint(fields=["project", "text", "label"], name="gold_phrase_unique")
        ]
        indexes = [models.Index(fields=["first_word", "project"], name="gold_phrase_word_idx")]

    def __str__(self) -> str:
        return f"{self.text!r} as {self.label_id} ×{self.count}"


class SuggestionRejection(models.Model):
    """An editor said no to a suggestion in an article: it is not offered to them there
    again. Rejections are nobody's annotation and count in no agreement."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="suggestion_rejections"
    )
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["article", "editor", "start", "end"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "editor", "start", "end", "label"],
                name="suggestion_rejection_unique",
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="suggestion_rejection_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.editor_id} rejected {self.label_id} [{self.start}:{self.end}]"
