"""Who may see or change what. Views and the API both ask here.

Objects outside the caller's projects are reported as missing (404), never as forbidden,
so their existence does not leak.
"""

from __future__ import annotations

from django.http import Http404

from .models import Annotation, Article, Assignment, Job, Project, Role

REVIEW_ROLES = frozenset({Role.REVIEWER, Role.MANAGER})


def project_for(user, slug: str) -> tuple[Project, str]:
    """The project and the user's role in it, or 404."""
    project = Project.objects.filter(slug=slug).first()
    role = project.role_of(user) if project else None
    if project is None or role is None:
        raise Http404("No such project.")
    return project, role


def article_for(user, article_id: int) -> tuple[Article, str]:
    """The article and the user's role in its project, or 404."""
    article = Article.objects.select_related("project").filter(pk=article_id).first()
    role = article.project.role_of(user) if article else None
    if article is None or role is None:
        raise Http404("No such article.")
    return article, role


def job_for(user, job_id: int) -> tuple[Job, str]:
    """The job and the user's role in its project, or 404. Whether the user may see it is
    :func:`can_see_job`."""
    job = None
    if job_id < 2**63:  # larger ids cannot exist (and SQLite would overflow on them)
        jobs = Job.objects.select_related("project", "started_by").defer("payload")
        job = jobs.filter(pk=job_id).first()
    role = job.project.role_of(user) if job else None
    if job is None or role is None:
        raise Http404("No such job.")
    return job, role


def can_see_job(user, role: str | None, job: Job) -> bool:
    """A project's managers see its jobs; anyone else only the jobs they started."""
    return role == Role.MANAGER or (job.started_by_id is not None and job.started_by_id == user.pk)


def can_review(role: str | None) -> bool:
    return role in REVIEW_ROLES


def can_manage(role: str | None) -> bool:
    return role == Role.MANAGER


def is_assigned(user, article: Article) -> bool:
    return Assignment.objects.filter(article=article, editor=user).exists()


def can_read_annotation(user, role: str | None, annotation: Annotation) -> bool:
    """Editors read only their own work; reviewers and managers read everything."""
    if can_review(role):
        return True
    return annotation.kind == Annotation.Kind.EDITOR and annotation.annotator_id == user.pk
