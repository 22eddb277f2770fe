"""A workflow that never stalls: when an article is ready for review, who is still missing,
handing an article from one editor to another, and flags.

Ready for review ("reviewable"): at least ``project.review_threshold`` editors submitted it
(the overlap unless the project says fewer), or every editor assigned to it did. This module
is the one place that says so; the review queue and the overview both ask here.

Handing over never loses work: the editor's annotation and its versions stay where they
are; a ``Handover`` row records which version they had reached. An editor who is given the
article back finds their work as they left it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import (
    Annotation,
    Article,
    Assignment,
    Comment,
    Flag,
    Handover,
    Project,
    Role,
    Span,
)
from .annotations import AnnotationError
from .assignment import editor_loads, project_editors


class WorkflowError(AnnotationError):
    """A workflow change that cannot be made (400 unless a subclass says otherwise)."""


class WorkflowConflict(WorkflowError):
    status = 409


# --- Ready for review ----------------------------------------------------------------------


def _submitted_count() -> Coalesce:
    counts = (
        Annotation.objects.submitted()
        .filter(article=OuterRef("pk"))
        .order_by()
        .values("article")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), Value(0), output_field=IntegerField())


def _unsubmitted_assignment() -> Exists:
    submitted = Annotation.objects.submitted().filter(
        article=OuterRef("article"), annotator=OuterRef("editor")
    )
    return Exists(Assignment.objects.filter(article=OuterRef("pk")).exclude(Exists(submitted)))


def with_readiness(
    articles: QuerySet[Article], project: Project | None = None
) -> QuerySet[Article]:
    """`articles` annotated with ``submitted_count`` and ``reviewable`` (see the module).
    Without `project`, each article's own project's threshold is read in the query."""
    threshold = (
        project.review_threshold
        if project is not None
        else Coalesce(F("project__reviewable_after"), F("project__overlap"))
    )
    return articles.annotate(
        submitted_count=_submitted_count(), waiting_for_someone=_unsubmitted_assignment()
    ).annotate(
        reviewable=ExpressionWrapper(
            Q(submitted_count__gte=1)
            & (Q(submitted_count__gte=threshold) | Q(waiting_for_someone=False)),
            output_field=BooleanField(),
        )
    )


def reviewable_articles(project: Project) -> QuerySet[Article]:
    return with_readiness(project.articles.all(), project).filter(reviewable=True)


def waiting_articles(project: Project) -> QuerySet[Article]:
    """Articles with editors that are not ready for review yet and not closed."""
    final_gold = Annotation.objects.gold().filter(article=OuterRef("pk"), final=True)
    return (
        with_readiness(project.articles.all(), project)
        .filter(reviewable=False, waiting_for_someone=True)
        .exclude(Exists(final_gold))
    )


@dataclass(frozen=True)
class Missing:
    """An assigned editor who has not submitted: since when they have had the article."""

    username: str
    since: datetime
    status: str  # "not started" or "in progress"


def id_list(ids: Iterable[int] | QuerySet) -> Iterable[int] | QuerySet:
    """Ids for an ``__in`` lookup: a queryset stays a subquery, anything else a list."""
    return ids if isinstance(ids, QuerySet) else list(ids)


def missing_editors(article_ids: Iterable[int] | QuerySet) -> dict[int, list[Missing]]:
    """Each article's assigned editors who have not submitted, longest waiting first, in one
    query."""
    status = Subquery(
        Annotation.objects.editors()
        .filter(article=OuterRef("article"), annotator=OuterRef("editor"))
        .order_by()  # one row at most; the model's ordering would add joins
        .values("status")[:1]
    )
    version = Subquery(
        Annotation.objects.editors()
        .filter(article=OuterRef("article"), annotator=OuterRef("editor"))
        .order_by()
        .values("version")[:1]
    )
    rows = (
        Assignment.objects.filter(article_id__in=id_list(article_ids))
        .annotate(
            ann_status=Coalesce(status, Value(""), output_field=CharField()),
            ann_version=Coalesce(version, Value(0), output_field=IntegerField()),
        )
        .exclude(ann_status=Annotation.Status.SUBMITTED)
        .order_by("article_id", "created_at", "editor__username")
        .values_list("article_id", "editor__username", "created_at", "ann_version")
    )
    result: dict[int, list[Missing]] = defaultdict(list)
    for article_id, username, since, version in rows:
        result[article_id].append(
            Missing(username, since, "in progress" if version else "not started")
        )
    return dict(result)


# --- Handing articles over ---------------------------------------------------------------


def _hand_over(assignment: Assignment, to_editor, *, reason: str, by=None) -> Handover:
    """Move one assignment to `to_editor` (None: to nobody), recording the work left."""
    work = (
        Annotation.objects.editors()
        .filter(article_id=assignment.article_id, annotator_id=assignment.editor_id)
        .first()
    )
    handover = Handover.objects.create(
        article_id=assignment.article_id,
        from_editor_id=assignment.editor_id,
        to_editor=to_editor,
        reason=reason,
        by=by,
        annotation=work if work is not None and work.version else None,
        version=work.version if work is not None else 0,
        assigned_at=assignment.created_at,
    )
    assignment.delete()
    if to_editor is not None:
        Assignment.objects.create(article_id=assignment.article_id, editor=to_editor)
    return handover


def _is_closed(article_id: int) -> bool:
    return Annotation.objects.gold().filter(article_id=article_id, final=True).exists()


def _has_submitted(article_id: int, editor_id: int) -> bool:
    return (
        Annotation.objects.submitted()
        .filter(article_id=article_id, annotator_id=editor_id)
        .exists()
    )


@transaction.atomic
def reassign(article: Article, *, from_username: str, to_username: str, by) -> Handover:
    """A manager hands `from_username`'s article to `to_username`, an editor of the project
    who does not have it yet. Only unsubmitted work is handed over; it stays in history."""
    project = article.project
    assignment = (
        Assignment.objects.select_for_update()
        .select_related("editor")
        .filter(article=article, editor__username=from_username)
        .first()
    )
    if assignment is None:
        raise WorkflowError(f"{from_username!r} is not an editor of this article.")
    if _is_closed(article.pk):
        raise WorkflowConflict("The gold of this article is final: reopen it first.")
    if _has_submitted(article.pk, assignment.editor_id):
        raise WorkflowConflict(
            f"{from_username} has already submitted this article: their work stays in it."
        )
    to_editor = project_editors(project).filter(username=to_username).first()
    if to_editor is None:
        raise WorkflowError(f"{to_username!r} is not an active editor of this project.")
    if Assignment.objects.filter(article=article, editor=to_editor).exists():
        raise WorkflowConflict(f"{to_username} already has this article.")
    return _hand_over(assignment, to_editor, reason=Handover.Reason.REASSIGNED, by=by)


def _next_editor(project: Project, article_id: int, load: dict[int, int], avoid: set[int]):
    """The least-loaded active editor who may take the article, or None."""
    taken = set(
        Assignment.objects.filter(article_id=article_id).values_list("editor_id", flat=True)
    )
    choices = sorted(
        (pk for pk in load if pk not in taken and pk not in avoid), key=lambda pk: (load[pk], pk)
    )
    if not choices:
        return None
    load[choices[0]] += 1
    return get_user_model().objects.get(pk=choices[0])


def hand_over_orphans(project: Project, *, by=None) -> list[Handover]:
    """Hand every unsubmitted article of someone who is no longer an active editor of the
    project (removed, made reviewer, deactivated) to the least-loaded editors. An article no
    editor can take loses the assignment; it waits for the next editor who joins."""
    with transaction.atomic():
        editors = set(project_editors(project).values_list("pk", flat=True))
        orphans = list(
            Assignment.objects.select_for_update()
            .filter(article__project=project)
            .exclude(editor_id__in=editors)
            .order_by("article_id", "pk")
        )
        load = editor_loads(project)
        made = []
        for assignment in orphans:
            if _is_closed(assignment.article_id) or _has_submitted(
                assignment.article_id, assignment.editor_id
            ):
                continue
            to = _next_editor(project, assignment.article_id, load, {assignment.editor_id})
            made.append(_hand_over(assignment, to, reason=Handover.Reason.LEFT, by=by))
        return made


@transaction.atomic
def remove_member(project: Project, user, *, by=None) -> list[Handover]:
    """Take `user` out of the project; their unsubmitted articles go to other editors."""
    project.memberships.filter(user=user).delete()
    return hand_over_orphans(project, by=by)


def stale_assignments(project: Project, now: datetime | None = None) -> QuerySet[Assignment]:
    """Assignments older than the project's timeout whose editor has not saved anything."""
    if not project.assignment_timeout_hours:
        return Assignment.objects.none()
    now = now or timezone.now()
    limit = now - timedelta(hours=project.assignment_timeout_hours)
    started = Annotation.objects.editors().filter(
        article=OuterRef("article"), annotator=OuterRef("editor"), version__gt=0
    )
    final_gold = Annotation.objects.gold().filter(article=OuterRef("article"), final=True)
    return (
        Assignment.objects.filter(article__project=project, created_at__lt=limit)
        .exclude(Exists(started))
        .exclude(Exists(final_gold))
        .order_by("created_at", "pk")
    )


def release_stale_assignments(project: Project, now: datetime | None = None) -> list[Handover]:
    """Give articles nobody started within the timeout to other editors (least-loaded first,
    never one who already gave the article up). An article no one else can take stays where
    it is. Called wherever assignments are read or handed out, so no scheduler is needed."""
    if not project.assignment_timeout_hours:
        return []
    if not stale_assignments(project, now).exists():
        return []
    made: list[Handover] = []
    try:
        with transaction.atomic():
            load = editor_loads(project)
            for assignment in stale_assignments(project, now).select_for_update():
                gave_up = set(
                    Handover.objects.filter(article_id=assignment.article_id).values_list(
                        "from_editor_id", flat=True
                    )
                )
                to = _next_editor(
                    project, assignment.article_id, load, gave_up | {assignment.editor_id}
                )
                if to is not None:
                    made.append(_hand_over(assignment, to, reason=Handover.Reason.TIMEOUT))
    except IntegrityError:
        # Another request released the same assignments first: theirs stands.
        return []
    return made


def release_all_stale_assignments(now: datetime | None = None) -> dict[str, int]:
    """`release_stale_assignments` for every project with a timeout: {slug: handovers}."""
    result = {}
    for project in Project.objects.filter(assignment_timeout_hours__isnull=False):
        result[project.slug] = len(release_stale_assignments(project, now))
    return result


def handovers_of(article: Article) -> QuerySet[Handover]:
    return Handover.objects.filter(article=article).select_related("from_editor", "to_editor", "by")


# --- Flags -------------------------------------------------------------------------------

NOTE_LIMIT = 2000


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise WorkflowError(f"The note is longer than {NOTE_LIMIT} characters.")
    return note


@transaction.atomic
def raise_flag(article: Article, editor, *, reason: str, note: str = "") -> Flag:
    """An assigned editor flags the article instead of labelling it: it leaves their to-do
    list until a reviewer dismisses the flag."""
    if reason not in Flag.Reason.values:
        choices = ", ".join(Flag.Reason.values)
        raise WorkflowError(f"Choose a reason for the flag: one of {choices}.")
    if not Assignment.objects.filter(article=article, editor=editor).exists():
        raise WorkflowError("Only editors of this article can flag it.")
    if Flag.objects.open().filter(article=article, raised_by=editor).exists():
        raise WorkflowConflict("You have already flagged this article; a reviewer will look.")
    return Flag.objects.create(article=article, raised_by=editor, reason=reason, note=_note(note))


@transaction.atomic
def resolve_flag(flag_id: int, article: Article, by, *, verdict: str, note: str = "") -> Flag:
    """A reviewer decides a flag: upheld (the article stays out of the editor's work and of
    exports that leave flagged articles out) or dismissed (the editor labels it after all)."""
    flag = Flag.objects.select_for_update().filter(pk=flag_id, article=article).first()
    if flag is None:
        raise WorkflowError("There is no such flag on this article.")
    if verdict not in (Flag.Verdict.UPHELD, Flag.Verdict.DISMISSED):
        raise WorkflowError("Decide the flag: upheld or dismissed.")
    if not flag.is_open:
        raise WorkflowConflict(f"This flag was already decided: {flag.get_verdict_display()}.")
    flag.verdict = verdict
    flag.resolved_by = by
    flag.resolved_at = timezone.now()
    flag.resolution_note = _note(note)
    flag.save(update_fields=["verdict", "resolved_by", "resolved_at", "resolution_note"])
    return flag


def flags_by_article(
    article_ids: Iterable[int] | QuerySet, *, open_only: bool = True
) -> dict[int, list[Flag]]:
    flags = Flag.objects.filter(article_id__in=id_list(article_ids)).select_related("raised_by")
    if open_only:
        flags = flags.open()
    result: dict[int, list[Flag]] = defaultdict(list)
    for flag in flags.order_by("article_id", "created_at", "pk"):
        result[flag.article_id].append(flag)
    return dict(result)


def flagged_articles(project: Project) -> QuerySet[Article]:
    return project.articles.filter(Exists(Flag.objects.open().filter(article=OuterRef("pk"))))


def standing_flag() -> Exists:
    """For a query on articles: an open or upheld flag keeps it out."""
    return Exists(Flag.objects.standing().filter(article=OuterRef("pk")))


def editors_of_project(project: Project) -> list[str]:
    """Usernames of the project's active editors (the choices of a reassignment)."""
    return list(project_editors(project).order_by("username").values_list("username", flat=True))


# --- Comments ------------------------------------------------------------------------------


def _gold_is_final(article: Article) -> bool:
    return Annotation.objects.gold().filter(article=article, final=True).exists()


def visible_comments(article: Article, user, role: str | None) -> QuerySet[Comment]:
    """The comments of the article `user` may read. Reviewers and managers read them all. An
    editor reads what reviewers and managers wrote on the article, their own comments, and
    the threads of their own spans; other editors' comments on the article only once the
    gold is final (blind labelling, as everywhere), and never those on others' spans."""
    comments = Comment.objects.filter(article=article).select_related("author", "span__label")
    if role in (Role.REVIEWER, Role.MANAGER):
        return comments
    own_spans = Q(span__annotation__annotator=user, span__annotation__kind="editor")
    on_article = Q(span__isnull=True) & (Q(author=user) | ~Q(author_role=Role.EDITOR))
    if _gold_is_final(article):
        on_article = Q(span__isnull=True)
    return comments.filter(on_article | own_spans)


@transaction.atomic
def add_comment(
    article: Article, author, role: str | None, *, body: str, span_id: int | None = None
) -> Comment:
    """A comment on the article, or on one of its spans: editors comment on their own spans
    only, reviewers and managers on any editor or gold span of the article."""
    body = _note(body)
    if not body:
        raise WorkflowError("Write something first.")
    span = None
    if span_id is not None:
        spans = Span.objects.filter(pk=span_id, annotation__article=article)
        if role not in (Role.REVIEWER, Role.MANAGER):
            spans = spans.filter(annotation__annotator=author, annotation__kind="editor")
        span = spans.first()
        if span is None:
            raise WorkflowError("There is no such span to comment on.")
    return Comment.objects.create(
        article=article, span=span, author=author, author_role=role or "", body=body
    )


def commentable_spans(article: Article, user, role: str | None) -> list[tuple[int, str]]:
    """(span id, description) of the current spans `user` may comment on, in text order."""
    spans = Span.objects.filter(annotation__article=article, removed_in__isnull=True)
    if role not in (Role.REVIEWER, Role.MANAGER):
        spans = spans.filter(annotation__annotator=user, annotation__kind="editor")
    rows = spans.order_by("start", "end", "annotation__kind", "pk").values_list(
        "pk", "label__key", "text", "annotation__kind"
    )
    return [
        (pk, f"{label} “{text[:40]}”{' (gold)' if kind == 'gold' else ''}")
        for pk, label, text, kind in rows
    ]
