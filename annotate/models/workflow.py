"""The workflow around labelling: articles handed from one editor to another, and flags
editors raise instead of labelling an article."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .annotations import Annotation
from .projects import Article


class Handover(models.Model):
    """An article passed from one editor to another (or back to nobody). The editor's
    unsubmitted work stays, as their annotation and its versions; this row says where."""

    class Reason(models.TextChoices):
        REASSIGNED = "reassigned", "Reassigned by a manager"
        TIMEOUT = "timeout", "Not started in time"
        LEFT = "left", "Editor left the project"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="handovers")
    from_editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="handovers_given"
    )
    to_editor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handovers_taken",
        help_text="Empty: no other editor could take it; it waits for the next one.",
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The manager who did it; empty when it happened by itself.",
    )
    annotation = models.ForeignKey(
        Annotation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The work the editor left, if they had started.",
    )
    version = models.PositiveIntegerField(
        default=0, help_text="The version of that work when it was handed over."
    )
    assigned_at = models.DateTimeField(help_text="When the editor had been given the article.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["article", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_editor=models.F("to_editor")),
                name="handover_to_another_editor",
                violation_error_message="An article is handed to another editor.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article}: {self.from_editor} → {self.to_editor or 'nobody'}"


class FlagQuerySet(models.QuerySet["Flag"]):
    def open(self) -> FlagQuerySet:
        return self.filter(verdict=Flag.Verdict.OPEN)

    def standing(self) -> FlagQuerySet:
        """Flags that keep the article out: open ones and upheld ones."""
        return self.exclude(verdict=Flag.Verdict.DISMISSED)


class Flag(models.Model):
    """An editor says an article should not be labelled as it is."""

    class Reason(models.TextChoices):
        NOT_RELEVANT = "not_relevant", "Not relevant"
        DUPLICATE = "duplicate", "Duplicate"
        BROKEN_TEXT = "broken_text", "Broken text"
        NEEDS_DISCUSSION = "needs_discussion", "Needs discussion"

    class Verdict(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld: the article stays out"
        DISMISSED = "dismissed", "Dismissed: label it"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="flags")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    verdict = models.CharField(max_length=12, choices=Verdict.choices, default=Verdict.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True, max_length=2000)

    objects = FlagQuerySet.as_manager()

    class Meta:
        ordering = ["article", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "raised_by"],
                condition=Q(verdict="open"),
                name="one_open_flag_per_editor_and_article",
                violation_error_message="You have already flagged this article.",
            ),
            models.CheckConstraint(
                condition=Q(verdict="open", resolved_at__isnull=True)
                | (~Q(verdict="open") & Q(resolved_at__isnull=False)),
                name="flag_resolved_when_decided",
                violation_error_message="A decided flag records when it was resolved.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} · {self.article} ({self.get_verdict_display()})"

    @property
    def is_open(self) -> bool:
        return self.verdict == self.Verdict.OPEN


class Comment(models.Model):
    """A message in the thread of an article or of one span. Editors ask, reviewers answer;
    blind like everything else (services.workflow.visible_comments says who reads what)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    span = models.ForeignKey(
        "annotate.Span",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="comments",
        help_text="Empty: about the whole article.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    author_role = models.CharField(max_length=16, help_text="The author's role when writing.")
    body = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["article", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(body=""),
                name="comment_not_empty",
                violation_error_message="A comment needs some text.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author} on {self.article}: {self.body[:40]}"
