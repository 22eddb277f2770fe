"""The search page: full-text search over a project's articles (annotate.services.article_search).

A plain GET form, so it works without JavaScript; with htmx, typing or paging replaces only
the results (the ``results`` partial) and the URL follows.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from ..fulltext import MAX_QUERY_CHARS, QueryError
from ..permissions import can_review, project_for
from ..services.article_search import MAX_HITS, search_articles

PAGE_SIZE = 20


@login_required
@require_GET
@vary_on_headers("HX-Request")
def search_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_for(request.user, slug)
    text = request.GET.get("q", "")[: MAX_QUERY_CHARS * 2]
    context: dict = {
        "project": project,
        "role": role,
        "q": text,
        "max_chars": MAX_QUERY_CHARS,
        "max_hits": f"{MAX_HITS:,}",
        "reviews": can_review(role),
        "page": None,
        "problem": "",
    }
    status = 200
    if text.strip():
        try:
            results = search_articles(project=project, user=request.user, role=role, text=text)
            context["page"] = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
        except QueryError as error:
            context["problem"] = str(error)
            # The page says why; htmx swaps only 2xx answers, so the fragment is a 200.
            status = 200 if request.htmx else 400
    template = "search/search.html#results" if request.htmx else "search/search.html"
    return render(request, template, context, status=status)


urlpatterns = [
    path("projects/<slug:slug>/search/", search_page, name="project-search"),
]
