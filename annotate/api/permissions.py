"""DRF permission classes: the rules of :mod:`annotate.permissions`, one query per request.

List them after ``IsAuthenticated`` so an anonymous caller gets 401, not 404:
``ProjectMember`` / ``ArticleMember`` find the object named by the URL and the caller's
role (404 outside the caller's projects) and put them on the view; the role classes then
answer 403 to members whose role is not enough.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated

from ..models import Article, Assignment, Membership, Project, Role
from ..permissions import can_manage, can_review

MAX_ID = 2**63 - 1  # larger ids in a URL cannot exist (and SQLite would overflow on them)


def _with_role(query, user, project_field: str):
    """`query` annotated with the caller's role in the project (`caller_role`): the rule of
    ``Project.role_of`` (superusers are managers everywhere), in the same query."""
    if user.is_superuser:
        return query
    role = Membership.objects.filter(project=OuterRef(project_field), user=user)
    role = role.order_by().values("role")  # order_by(): the default ordering joins two tables
    return query.annotate(caller_role=Subquery(role[:1]))


def _role(obj, user) -> str | None:
    return Role.MANAGER if user.is_superuser else obj.caller_role


def project_access(user, slug: str) -> tuple[Project, str]:
    """``annotate.permissions.project_for`` in one query: the project and the caller's role,
    or 404."""
    project = next(iter(_with_role(Project.objects.filter(slug=slug), user, "pk")[:1]), None)
    role = _role(project, user) if project else None
    if project is None or role is None:
        raise Http404("No such project.")
    return project, role


def article_access(user, article_id: int) -> tuple[Article, str, bool]:
    """``annotate.permissions.article_for`` in one query: the article (with its project),
    the caller's role, and whether the article is assigned to the caller; or 404."""
    if article_id > MAX_ID:
        raise Http404("No such article.")
    assigned = Assignment.objects.filter(article=OuterRef("pk"), editor=user)
    query = Article.objects.select_related("project").filter(pk=article_id)
    query = _with_role(query, user, "project_id").annotate(caller_assigned=Exists(assigned))
    article = next(iter(query[:1]), None)
    role = _role(article, user) if article else None
    if article is None or role is None:
        raise Http404("No such article.")
    return article, role, article.caller_assigned


class ProjectMember(BasePermission):
    """The URL's project (``slug``) is one of the caller's: sets ``view.project`` and
    ``view.role``."""

    def has_permission(self, request, view) -> bool:
        view.project, view.role = project_access(request.user, view.kwargs["slug"])
        return True


class ArticleMember(BasePermission):
    """The URL's article (``article_id``) is in one of the caller's projects: sets
    ``view.article``, ``view.project``, ``view.role`` and ``view.assigned``."""

    def has_permission(self, request, view) -> bool:
        view.article, view.role, view.assigned = article_access(
            request.user, view.kwargs["article_id"]
        )
        view.project = view.article.project
        return True


class IsReviewer(BasePermission):
    message = "Only reviewers and managers of this project can do this."

    def has_permission(self, request, view) -> bool:
        return can_review(view.role)


class IsManager(BasePermission):
    message = "Only managers of this project can do this."

    def has_permission(self, request, view) -> bool:
        return can_manage(view.role)


class ManagerToWrite(BasePermission):
    """Any member reads; managers write."""

    message = IsManager.message

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or can_manage(view.role)


IN_PROJECT = [IsAuthenticated, ProjectMember]
ON_ARTICLE = [IsAuthenticated, ArticleMember]
