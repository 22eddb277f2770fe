"""Stored agreement statistics (see annotate.agreement.stats for what they hold).

``ArticleAgreement`` keeps one article's statistics for one kind of unit, refreshed in the
transaction that submits or corrects an annotation. ``AgreementTotal`` keeps their sum
over the articles that the same editors submitted, so the project report reads a few
rows however many articles there are. All counts are integers, so adding and subtracting
an article is exact and a full recompute gives the same totals.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from .projects import Article, Project


class AgreementUnit(models.TextChoices):
    TOKEN = "token", "Tokens"
    CHAR = "char", "Characters"


class ArticleAgreement(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="agreement")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    unit = models.CharField(max_length=8, choices=AgreementUnit.choices)
    editors = models.JSONField(help_text="Ids of the editors compared, ascending.")
    versions = models.JSONField(help_text="The annotation version of each editor, in order.")
    labels = models.JSONField(help_text="Label ids, in the order of the per-label lists.")
    stats = models.JSONField()
    units = models.PositiveIntegerField(default=0)
    score = models.FloatField(
        null=True,
        blank=True,
        help_text="Krippendorff's alpha over the article's units; empty when undefined.",
    )
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "unit", "score"]
        constraints = [
            models.UniqueConstraint(fields=["article", "unit"], name="agreement_article_unit"),
            models.CheckConstraint(
                condition=Q(unit__in=["token", "char"]), name="agreement_article_unit_known"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "unit", "score"], name="agreement_score_idx"),
            # The report's "computed at" (the latest row): one index entry, not every row.
            models.Index(fields=["project", "unit", "computed_at"], name="agreement_computed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} ({self.unit}): {self.score}"


class AgreementTotal(models.Model):
    """The summed statistics of a project's articles compared among the same editors."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    unit = models.CharField(max_length=8, choices=AgreementUnit.choices)
    group = models.CharField(max_length=1000, help_text="Editor ids joined by commas.")
    editors = models.JSONField()
    labels = models.JSONField()
    articles = models.PositiveIntegerField(default=0)
    stats = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "unit", "group"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "unit", "group"], name="agreement_total_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.unit} [{self.group}]: {self.articles} articles"


class ArticleFactAgreement(models.Model):
    """One article's agreement statistics on facts (relations and attribute values; see
    annotate.agreement.facts), refreshed with its span statistics. Facts have no kind of
    unit, so there is one row per compared article."""

    article = models.OneToOneField(Article, on_delete=models.CASCADE, related_name="fact_agreement")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    editors = models.JSONField(help_text="Ids of the editors compared, ascending.")
    versions = models.JSONField(help_text="The annotation version of each editor, in order.")
    stats = models.JSONField()
    score = models.FloatField(
        null=True,
        blank=True,
        help_text="Share of the article's facts another editor matched; empty with no facts.",
    )
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "score"]
        indexes = [models.Index(fields=["project", "score"], name="fact_agreement_score_idx")]

    def __str__(self) -> str:
        return f"{self.article_id} (facts): {self.score}"


class FactAgreementTotal(models.Model):
    """The summed fact statistics of a project's articles compared among the same editors."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=1000, help_text="Editor ids joined by commas.")
    editors = models.JSONField()
    articles = models.PositiveIntegerField(default=0)
    stats = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "group"]
        constraints = [
            models.UniqueConstraint(fields=["project", "group"], name="fact_agreement_total_group"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} facts [{self.group}]: {self.articles} articles"
