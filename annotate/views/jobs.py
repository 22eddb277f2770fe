"""Background jobs in the browser: a job's page (its progress polled by htmx, refreshed by
the browser without JavaScript), a project's jobs for its managers, the agreement recompute
and the release page, whose work runs as jobs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from ..models import Job, Project, Release
from ..permissions import can_manage, can_review, can_see_job, job_for, project_for
from ..services.jobs import start_recompute, start_release
from ..services.releases import ReleaseError

PAGE = "jobs/job.html"
SHOWN_JOBS = 100
SHOWN_SKIPPED = 20
POLL_SECONDS = 2


def job_url(job: Job) -> str:
    return reverse("job", args=[job.project.slug, job.pk])


def _manager_project(request: HttpRequest, slug: str) -> Project:
    project, role = project_for(request.user, slug)
    if not can_manage(role):
        raise PermissionDenied("Only the project's managers can do this.")
    return project


@login_required
@require_GET
@vary_on_headers("HX-Request")
def job_detail(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    job, role = job_for(request.user, job_id)
    if job.project.slug != slug:
        raise Http404("No such job.")
    if not can_see_job(request.user, role, job):
        raise PermissionDenied(
            "Only the person who started this job and the project's managers can see it."
        )
    context = {
        "project": job.project,
        "job": job,
        "poll_seconds": POLL_SECONDS,
        "skipped": (job.result or {}).get("skipped", [])[:SHOWN_SKIPPED],
    }
    template = f"{PAGE}#status" if request.htmx else PAGE
    return render(request, template, context)


@login_required
@require_GET
def project_jobs(request: HttpRequest, slug: str) -> HttpResponse:
    project = _manager_project(request, slug)
    jobs = project.jobs.select_related("started_by").defer("payload", "result")[:SHOWN_JOBS]
    return render(request, "jobs/list.html", {"project": project, "jobs": jobs})


@login_required
@require_POST
def agreement_recompute(request: HttpRequest, slug: str) -> HttpResponse:
    project = _manager_project(request, slug)
    return redirect(job_url(start_recompute(project=project, user=request.user)))


@login_required
@require_http_methods(["GET", "POST"])
def releases(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_for(request.user, slug)
    if not can_review(role):
        raise PermissionDenied("Only reviewers and managers make releases.")
    error = ""
    if request.method == "POST":
        try:
            job = start_release(
                project=project,
                user=request.user,
                name=request.POST.get("name", "").strip(),
                note=request.POST.get("note", ""),
            )
        except ReleaseError as exc:
            error = exc.detail
        else:
            return redirect(job_url(job))
    context = {
        "project": project,
        "releases": Release.objects.filter(project=project)
        .select_related("created_by")
        .defer("manifest", "changes", "agreement")
        .order_by("-created_at", "-id"),
        "running": Job.objects.filter(project=project, kind=Job.Kind.RELEASE)
        .unfinished()
        .visible_to(request.user, role),
        "error": error,
        "name": request.POST.get("name", "") if error else "",
        "note": request.POST.get("note", "") if error else "",
    }
    return render(request, "jobs/releases.html", context, status=400 if error else 200)


urlpatterns = [
    path("projects/<slug:slug>/jobs/", project_jobs, name="project-jobs"),
    path("projects/<slug:slug>/jobs/<int:job_id>/", job_detail, name="job"),
    path(
        "projects/<slug:slug>/agreement/recompute/",
        agreement_recompute,
        name="agreement-recompute",
    ),
    path("projects/<slug:slug>/releases/", releases, name="releases"),
]
