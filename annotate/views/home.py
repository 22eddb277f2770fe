"""The home page: the user's projects, their role in each, and for editors their queue."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from ..models import Assignment, Membership, Project, Role
from ..permissions import can_manage, can_review
from ..services import labelling
from ..services.labelling import Progress, QueueStatus


@dataclass
class ProjectCard:
    project: Project
    role: str
    progress: Progress
    upcoming: list[Assignment] = field(default_factory=list)

    @property
    def can_review(self) -> bool:
        return can_review(self.role)

    @property
    def can_upload(self) -> bool:
        return can_manage(self.role) or (
            self.role == Role.EDITOR and self.project.editors_can_upload
        )


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    projects = list(Project.objects.visible_to(user).order_by("name"))
    roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
    progress = labelling.progress_by_project(user)
    upcoming = labelling.open_previews(user)
    cards = [
        ProjectCard(
            project=p,
            role=Role.MANAGER if user.is_superuser else roles.get(p.pk, Role.EDITOR),
            progress=progress.get(p.pk, Progress()),
            upcoming=upcoming.get(p.pk, []),
        )
        for p in projects
    ]
    for card in cards:
        for row in card.upcoming:
            row.queue_status_label = QueueStatus.LABELS[row.queue_status]
    total = Progress(
        assigned=sum(c.progress.assigned for c in cards),
        submitted=sum(c.progress.submitted for c in cards),
        in_progress=sum(c.progress.in_progress for c in cards),
        closed=sum(c.progress.closed for c in cards),
    )
    return render(request, "home/home.html", {"cards": cards, "total": total})


urlpatterns = [path("", home, name="home")]
