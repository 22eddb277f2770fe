"""Web pages: each area keeps its own routes in its own module."""

from django.urls import include, path

urlpatterns = [
    path("", include("annotate.views.accounts")),
    path("", include("annotate.views.home")),
    path("", include("annotate.views.styles")),
    path("", include("annotate.views.labelling")),
    path("", include("annotate.views.every_occurrence")),
    path("", include("annotate.views.suggestions")),
    path("", include("annotate.views.facts")),
    path("", include("annotate.views.imports")),
    path("", include("annotate.views.jobs")),
    path("", include("annotate.views.history")),
    path("", include("annotate.views.review")),
    path("", include("annotate.views.agreement")),
    path("", include("annotate.views.workflow")),
    path("", include("annotate.views.schema")),
    path("", include("annotate.views.search")),
]
