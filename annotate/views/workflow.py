"""The workflow pages: flagging an article instead of labelling it, deciding flags, handing
an article to another editor, and the manager's overview of a project.

The writes are plain form POSTs: on success they redirect (303) to where the form came
from, with a message; a refusal is a 4xx page that says why and leads back.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from ..charts import column_chart
from ..inputs import INT64_MAX, InputError, parse_id, parse_optional_int
from ..models import Article, Flag, Role
from ..permissions import article_for, can_manage, can_review, is_assigned, project_for
from ..services import overview as overview_service
from ..services import workflow
from ..services.workflow import WorkflowError


def _back(request: HttpRequest, default: str) -> str:
    """The `next` field if it is a path on this site, else `default`."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default


def _refused(request: HttpRequest, error: WorkflowError, title: str, back: str) -> HttpResponse:
    context = {"title": title, "message": error.detail, "back": back}
    return render(request, "workflow/refused.html", context, status=error.status)


def _queue_url(article: Article, status: str) -> str:
    return f"{reverse('review-queue', args=[article.project.slug])}?status={status}"


# --- Flags -------------------------------------------------------------------------------


@login_required
@require_POST
def flag_article(request: HttpRequest, article_id: int) -> HttpResponse:
    """An editor flags an article of theirs and goes on to the next one."""
    article, role = article_for(request.user, article_id)
    if role != Role.EDITOR or not is_assigned(request.user, article):
        raise Http404("No such article in your queue.")
    back = reverse("article", args=[article.pk])
    try:
        flag = workflow.raise_flag(
            article,
            request.user,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except WorkflowError as error:
        return _refused(request, error, "The article was not flagged", back)
    messages.success(
        request,
        f"Flagged “{article}” as {flag.get_reason_display().lower()}: it left your to-do list; "
        "a reviewer will decide.",
    )
    following = reverse("next-article", args=[article.project.slug])
    return HttpResponseRedirect(f"{following}?after={article.pk}", status=303)


@login_required
@require_POST
def resolve_flag(request: HttpRequest, article_id: int) -> HttpResponse:
    article, role = article_for(request.user, article_id)
    if not can_review(role):
        raise PermissionDenied("Only reviewers and managers decide flags.")
    back = _back(request, _queue_url(article, "flagged"))
    try:
        flag_id = parse_id(request.POST.get("flag", ""), name="flag")
    except InputError:
        return _refused(
            request, WorkflowError("The form did not say which flag."), "Nothing decided", back
        )
    try:
        flag = workflow.resolve_flag(
            flag_id,
            article,
            request.user,
            verdict=request.POST.get("verdict", ""),
            note=request.POST.get("note", ""),
        )
    except WorkflowError as error:
        return _refused(request, error, "The flag was not decided", back)
    verdict = "upheld" if flag.verdict == Flag.Verdict.UPHELD else "dismissed"
    messages.success(request, f"Flag on “{article}” {verdict}.")
    return HttpResponseRedirect(back, status=303)


# --- Handing over ------------------------------------------------------------------------


@login_required
@require_POST
def reassign(request: HttpRequest, article_id: int) -> HttpResponse:
    article, role = article_for(request.user, article_id)
    if not can_manage(role):
        raise PermissionDenied("Only managers of this project reassign articles.")
    back = _back(request, _queue_url(article, "waiting"))
    try:
        handover = workflow.reassign(
            article,
            from_username=request.POST.get("from", ""),
            to_username=request.POST.get("to", ""),
            by=request.user,
        )
    except WorkflowError as error:
        return _refused(request, error, "The article was not reassigned", back)
    kept = (
        f" Their work (version {handover.version}) stays in the history."
        if handover.version
        else ""
    )
    messages.success(
        request,
        f"“{article}” went from {handover.from_editor.username} to "
        f"{handover.to_editor.username}.{kept}",
    )
    return HttpResponseRedirect(back, status=303)


# --- Comments ----------------------------------------------------------------------------


def _commenting_article(request: HttpRequest, article_id: int) -> tuple[Article, str]:
    """The article and the caller's role: reviewers, managers and its own editors."""
    article, role = article_for(request.user, article_id)
    if role == Role.EDITOR and not is_assigned(request.user, article):
        raise Http404("No such article in your queue.")
    return article, role


def comments_context(request: HttpRequest, article: Article, role: str) -> dict[str, object]:
    """What the comments box shows: the thread the caller may read, and the spans they may
    comment on (an editor's own, or every editor and gold span for reviewers)."""
    reviewing = can_review(role)
    anonymous = reviewing and article.project.anonymous_review

    def shown(comment) -> str:
        # Editors stay anonymous where the work is blind: to other editors, and to
        # reviewers of a project that reviews anonymously.
        mine = comment.author_id == request.user.pk
        if mine or comment.author_role != Role.EDITOR or (reviewing and not anonymous):
            return comment.author.username
        return "an editor"

    return {
        "article": article,
        "comments": [(c, shown(c)) for c in workflow.visible_comments(article, request.user, role)],
        "span_choices": workflow.commentable_spans(article, request.user, role),
        "comments_url": reverse("article-comments", args=[article.pk]),
    }


@login_required
@vary_on_headers("HX-Request")
def comments(request: HttpRequest, article_id: int) -> HttpResponse:
    """GET: the thread (a fragment for htmx, else a page); POST: add a comment."""
    article, role = _commenting_article(request, article_id)
    status = 200
    error = ""
    if request.method == "POST":
        try:
            span_id = parse_optional_int(
                request.POST.get("span", ""), name="The span", low=1, high=INT64_MAX
            )
            workflow.add_comment(
                article, request.user, role, body=request.POST.get("body", ""), span_id=span_id
            )
        except InputError as exc:
            error, status = str(exc), 400
        except WorkflowError as exc:
            error, status = exc.detail, exc.status
        else:
            if not request.htmx:
                back = _back(request, reverse("article", args=[article.pk]))
                return HttpResponseRedirect(f"{back}#comments", status=303)
    elif request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    context = {**comments_context(request, article, role), "error": error}
    template = "workflow/comments.html" if request.htmx else "workflow/comments_page.html"
    return render(request, template, context, status=status)


# --- The overview ------------------------------------------------------------------------


@login_required
@require_GET
def project_overview(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_for(request.user, slug)
    if not can_manage(role):
        raise PermissionDenied("Only managers of this project see its overview.")
    data = overview_service.project_overview(project)
    chart = column_chart(
        [
            (
                day.strftime("%d %b"),
                n,
                f"{day:%a %d %b}: {n} submission{'s' if n != 1 else ''}",
            )
            for day, n in data.days
        ]
    )
    context = {
        "project": project,
        "role": role,
        "overview": data,
        "chart": chart,
        "editors": workflow.editors_of_project(project),
        "days": overview_service.DAYS,
    }
    return render(request, "workflow/overview.html", context)


urlpatterns = [
    path("projects/<slug:slug>/overview/", project_overview, name="project-overview"),
    path("articles/<int:article_id>/flag/", flag_article, name="article-flag"),
    path("articles/<int:article_id>/flags/resolve/", resolve_flag, name="flag-resolve"),
    path("articles/<int:article_id>/reassign/", reassign, name="article-reassign"),
    path("articles/<int:article_id>/comments/", comments, name="article-comments"),
]
