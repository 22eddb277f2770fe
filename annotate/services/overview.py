"""A manager's overview of a project: where each editor stands, submissions per day, which
articles wait and why, open flags and the articles the editors agree on least."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..agreement import gold as gold_scores
from ..models import (
    AgreementUnit,
    Annotation,
    AnnotationVersion,
    Article,
    ArticleAgreement,
    Assignment,
    Flag,
    Handover,
    Project,
    Span,
)
from . import workflow
from .labelling import with_editor_state
from .workflow import Missing

DAYS = 28
LISTED = 20


@dataclass
class EditorProgress:
    username: str
    active: bool  # still an active editor of the project
    assigned: int = 0
    submitted: int = 0
    in_progress: int = 0
    flagged: int = 0
    handed_over: int = 0  # articles taken from them (reassigned, timed out, left)
    last_week: int = 0  # submissions in the last seven days

    @property
    def not_started(self) -> int:
        return self.assigned - self.submitted - self.in_progress - self.flagged

    @property
    def percent(self) -> int:
        return round(100 * (self.submitted + self.flagged) / self.assigned) if self.assigned else 0


@dataclass
class WaitingArticle:
    article_id: int
    title: str
    submitted: int
    missing: list[Missing]

    @property
    def since(self) -> datetime | None:
        return min((m.since for m in self.missing), default=None)


@dataclass
class Overview:
    articles: int
    reviewable: int
    final: int
    threshold: int
    editors: list[EditorProgress]
    days: list[tuple[date, int]]
    waiting: list[WaitingArticle]
    waiting_total: int
    short_of_editors: int  # open articles with fewer editors than the overlap
    flags: list[Flag]
    least_agreed: list[tuple[Article, float]]
    handovers: list[Handover] = field(default_factory=list)


def _editor_rows(project: Project, today: date) -> list[EditorProgress]:
    active = set(workflow.editors_of_project(project))
    rows = (
        with_editor_state(Assignment.objects.filter(article__project=project))
        .order_by()
        .values(username=F("editor__username"))
        .annotate(
            assigned=Count("pk"),
            submitted_n=Count("pk", filter=Q(ann_status=Annotation.Status.SUBMITTED)),
            flagged_n=Count(
                "pk", filter=Q(flagged=True) & ~Q(ann_status=Annotation.Status.SUBMITTED)
            ),
            in_progress_n=Count(
                "pk",
                filter=Q(ann_status=Annotation.Status.IN_PROGRESS, ann_version__gt=0)
                & Q(flagged=False),
            ),
        )
    )
    found: dict[str, EditorProgress] = {
        name: EditorProgress(name, active=True) for name in sorted(active)
    }
    for row in rows:
        progress = found.setdefault(
            row["username"], EditorProgress(row["username"], active=row["username"] in active)
        )
        progress.assigned = row["assigned"]
        progress.submitted = row["submitted_n"]
        progress.flagged = row["flagged_n"]
        progress.in_progress = row["in_progress_n"]
    for username, n in (
        Handover.objects.filter(article__project=project)
        .order_by()
        .values_list("from_editor__username")
        .annotate(n=Count("pk"))
    ):
        found.setdefault(username, EditorProgress(username, active=username in active))
        found[username].handed_over = n
    week_ago = today - timedelta(days=6)
    for username, n in (
        _submissions(project)
        .filter(day__gte=week_ago)
        .values_list("annotation__annotator__username")
        .annotate(n=Count("pk"))
    ):
        if username in found:
            found[username].last_week = n
    return sorted(found.values(), key=lambda e: (not e.active, e.username))


def _submissions(project: Project):
    """Submissions as history records them: each version that set the status to submitted,
    dated by the day (UTC) it was made."""
    return (
        AnnotationVersion.objects.filter(
            annotation__article__project=project,
            annotation__kind=Annotation.Kind.EDITOR,
            summary__status=Annotation.Status.SUBMITTED,
        )
        .annotate(day=TruncDate("created_at"))
        .order_by()
    )


def submissions_per_day(project: Project, today: date, days: int = DAYS) -> list[tuple[date, int]]:
    """Submissions on each of the last `days` days, oldest first, days without any as 0."""
    first = today - timedelta(days=days - 1)
    counts = dict(
        _submissions(project).filter(day__gte=first).values_list("day").annotate(n=Count("pk"))
    )
    return [
        (first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)
    ]


def project_overview(project: Project, *, now: datetime | None = None) -> Overview:
    """Everything the overview page shows; articles nobody started in time are handed on
    first, so the page shows the state after it."""
    now = now or timezone.now()
    workflow.release_stale_assignments(project, now)
    today = now.date()
    ready = workflow.reviewable_articles(project)
    waiting = workflow.waiting_articles(project).order_by("pk")
    waiting_ids = list(waiting.values_list("pk", flat=True)[:5000])
    missing = workflow.missing_editors(waiting_ids)
    waiting_rows = sorted(
        (
            WaitingArticle(a.pk, a.title or a.external_id, a.submitted_count, missing.get(a.pk, []))
            for a in waiting.filter(pk__in=waiting_ids)
        ),
        key=lambda w: (w.since is None, w.since or now, w.article_id),
    )
    final_gold = Annotation.objects.gold().filter(article=OuterRef("pk"), final=True)
    short = (
        Article.objects.filter(project=project)
        .exclude(Exists(final_gold))
        .annotate(n=Count("assignments"))
        .filter(n__lt=project.overlap)
        .count()
    )
    scores = (
        ArticleAgreement.objects.filter(
            article__project=project, unit=AgreementUnit.TOKEN, score__isnull=False
        )
        .select_related("article")
        .order_by("score", "article_id")[:10]
    )
    return Overview(
        articles=project.articles.count(),
        reviewable=ready.count(),
        final=Annotation.objects.gold().filter(article__project=project, final=True).count(),
        threshold=project.review_threshold,
        editors=_editor_rows(project, today),
        days=submissions_per_day(project, today),
        waiting=waiting_rows[:LISTED],
        waiting_total=len(waiting_ids),
        short_of_editors=short,
        flags=list(
            Flag.objects.open()
            .filter(article__project=project)
            .select_related("article", "raised_by")
            .order_by("created_at", "pk")[:LISTED]
        ),
        least_agreed=[(row.article, row.score) for row in scores],
        handovers=list(
            Handover.objects.filter(article__project=project)
            .select_related("article", "from_editor", "to_editor", "by")
            .order_by("-created_at", "-pk")[:10]
        ),
    )


def scores_against_gold(project: Project) -> list[gold_scores.EditorScore]:
    """Each editor's precision, recall and F1 per label against the final gold, over the
    articles whose gold is final and which the editor submitted (see agreement.gold)."""
    golds = dict(
        Annotation.objects.gold()
        .filter(article__project=project, final=True)
        .values_list("pk", "article_id")
    )
    editors = {
        pk: (username, article_id)
        for pk, username, article_id in Annotation.objects.submitted()
        .filter(article_id__in=list(golds.values()))
        .values_list("pk", "annotator__username", "article_id")
    }
    editor_spans: dict[tuple[str, int], list[gold_scores.Key]] = {}
    gold_spans: dict[int, list[gold_scores.Key]] = {}
    rows = (
        Span.objects.filter(annotation_id__in=[*golds, *editors], removed_in__isnull=True)
        .order_by()
        .values_list("annotation_id", "start", "end", "label__key")
    )
    for annotation_id, start, end, label in rows.iterator(chunk_size=5000):
        if annotation_id in golds:
            gold_spans.setdefault(golds[annotation_id], []).append((start, end, label))
        else:
            editor_spans.setdefault(editors[annotation_id], []).append((start, end, label))
    return gold_scores.scores(sorted(editors.values()), editor_spans, gold_spans)
