"""The home page: the user's projects and, for editors, their queue."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from ..models import Project


@login_required
def home(request: HttpRequest) -> HttpResponse:
    projects = Project.objects.visible_to(request.user)
    return render(request, "home/home.html", {"projects": projects})


urlpatterns = [path("", home, name="home")]
