"""Projects, their labels and members, articles and who labels them."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.safestring import SafeString, mark_safe

from .. import guidelines

LABEL_KEY_RE = r"^[A-Z][A-Z0-9_]{0,31}$"
COLOR_RE = r"^#[0-9a-fA-F]{6}$"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def validate_guidelines(value: str) -> None:
    """The one size rule for guidelines, on the model field, the API and the admin."""
    problem = guidelines.size_problem(value)
    if problem:
        raise ValidationError(problem, code="max_length")


class Role(models.TextChoices):
    EDITOR = "editor", "Editor"
    REVIEWER = "reviewer", "Reviewer"
    MANAGER = "manager", "Manager"


class ProjectQuerySet(models.QuerySet["Project"]):
    def visible_to(self, user) -> ProjectQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(memberships__user=user).distinct()


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    guidelines = models.TextField(
        blank=True,
        help_text=f"Markdown, shown to editors; at most {guidelines.MAX_CHARS:,} characters.",
        validators=[validate_guidelines],
    )
    guidelines_html = models.TextField(
        blank=True,
        editable=False,
        help_text="The guidelines rendered, written by save() whenever they change.",
    )
    overlap = models.PositiveSmallIntegerField(
        default=2, help_text="How many editors label each article."
    )
    editors_can_upload = models.BooleanField(
        default=False, help_text="Editors may add articles from their home page."
    )
    reviewable_after = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="How many submitted annotations make an article ready for review; empty: "
        "the overlap. An article whose assigned editors have all submitted is ready anyway.",
    )
    assignment_timeout_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Hours after which an article its editor has not started goes to another "
        "editor; empty: never.",
    )
    anonymous_review = models.BooleanField(
        default=False,
        help_text="Reviewers see editors as Editor A, B, … on the adjudication page.",
    )
    long_span_chars = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=150,
        help_text="Spans longer than this many characters need a confirmation on the "
        "labelling page and are pointed out before a gold is marked final (as are spans "
        "that cross a paragraph break); empty: no length limit.",
    )
    suggest_from_gold = models.BooleanField(
        default=True,
        help_text="Offer editors the spans that final gold in this project already marks.",
    )
    ml_backend_url = models.URLField(
        max_length=2000,
        blank=True,
        help_text="An HTTP endpoint asked for predictions when articles are imported; empty: none.",
    )
    ml_backend_called_at = models.DateTimeField(
        null=True, blank=True, help_text="When the ML backend was last asked for predictions."
    )
    ml_backend_error = models.TextField(
        blank=True,
        help_text="What went wrong the last time the ML backend was asked; empty: it answered.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(overlap__gte=1),
                name="project_overlap_at_least_one",
                violation_error_message="Overlap must be at least 1.",
            ),
            models.CheckConstraint(
                condition=Q(reviewable_after__isnull=True) | Q(reviewable_after__gte=1),
                name="project_reviewable_after_at_least_one",
                violation_error_message="At least one submission must make an article reviewable.",
            ),
            models.CheckConstraint(
                condition=Q(assignment_timeout_hours__isnull=True)
                | Q(assignment_timeout_hours__gte=1),
                name="project_assignment_timeout_at_least_one_hour",
                violation_error_message="The assignment timeout is at least one hour.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # The guidelines are rendered once per change and the HTML is stored, so a page
        # view reads it instead of parsing Markdown, and every app server sees the same.
        update_fields = kwargs.get("update_fields")
        loaded = "guidelines" not in self.get_deferred_fields()
        writes = loaded and (update_fields is None or "guidelines" in update_fields)
        if writes and getattr(self, "_guidelines_rendered", None) != self.guidelines:
            self.guidelines_html = guidelines.render(self.guidelines)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "guidelines_html"}
        super().save(*args, **kwargs)
        if writes:
            self._guidelines_rendered = self.guidelines

    @classmethod
    def from_db(cls, db, field_names, values):
        project = super().from_db(db, field_names, values)
        if "guidelines" not in project.get_deferred_fields():
            project._guidelines_rendered = project.guidelines
        return project

    def guidelines_as_html(self) -> SafeString:
        """The guidelines as HTML, as rendered when they last changed."""
        # Written only by save(), from annotate.guidelines.render, which escapes raw HTML.
        return mark_safe(self.guidelines_html)  # noqa: S308

    @property
    def review_threshold(self) -> int:
        """Submitted annotations that make an article reviewable (see `reviewable_after`)."""
        return self.reviewable_after or self.overlap

    def role_of(self, user) -> str | None:
        """The user's role here; superusers count as managers everywhere."""
        if not user.is_authenticated:
            return None
        if user.is_superuser:
            return Role.MANAGER
        return self.memberships.filter(user=user).values_list("role", flat=True).first()


class Label(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    key = models.CharField(
        max_length=32,
        validators=[RegexValidator(LABEL_KEY_RE, "Use A-Z, digits and _, starting with a letter.")],
    )
    name = models.CharField(max_length=100)
    color = models.CharField(
        max_length=7, default="#ffd966", validators=[RegexValidator(COLOR_RE, "Use #rrggbb.")]
    )
    hotkey = models.CharField(max_length=1, blank=True)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["project", "order", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "key"],
                name="label_key_unique_in_project",
                violation_error_message="A label with this key already exists in the project.",
            ),
            models.UniqueConstraint(
                fields=["project", "hotkey"],
                condition=~Q(hotkey=""),
                name="label_hotkey_unique_in_project",
                violation_error_message="Another label of the project uses this hotkey.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.project.slug})" if self.project_id else self.key


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"],
                name="membership_unique",
                violation_error_message="This user is already a member of the project.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.project}"


class ArticleQuerySet(models.QuerySet["Article"]):
    def visible_to(self, user) -> ArticleQuerySet:
        return self.filter(project__in=Project.objects.visible_to(user))


class Article(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="articles")
    external_id = models.CharField(max_length=200)
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField(help_text="Canonical text: UTF-8, LF line ends, NFC. Offsets index it.")
    sha256 = models.CharField(max_length=64, editable=False)
    url = models.URLField(max_length=2000, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["project", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"],
                name="article_external_id_unique_in_project",
                violation_error_message="An article with this external id already exists.",
            ),
            models.CheckConstraint(
                condition=~Q(text=""),
                name="article_text_not_empty",
                violation_error_message="The article text is empty.",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.external_id

    def save(self, *args, **kwargs) -> None:
        if self.pk:
            stored = Article.objects.filter(pk=self.pk).values_list("text", flat=True).first()
            if stored is not None and stored != self.text and self.is_annotated():
                raise ValidationError(
                    {"text": "The text cannot change once the article has annotations."}
                )
        self.sha256 = text_sha256(self.text)
        super().save(*args, **kwargs)

    def is_annotated(self) -> bool:
        from .annotations import Span

        return Span.objects.filter(annotation__article=self).exists()


class Assignment(models.Model):
    """An editor is asked to label an article; `overlap` of these per article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="assignments")
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["article", "editor__username"]
        constraints = [
            models.UniqueConstraint(fields=["article", "editor"], name="assignment_unique"),
        ]
        # An editor's queue in article order (the project page, "next article"), read a
        # page at a time: an editor of a large project has thousands of assignments.
        indexes = [models.Index(fields=["editor", "article"], name="assignment_editor_article_idx")]

    def __str__(self) -> str:
        return f"{self.article} → {self.editor}"
