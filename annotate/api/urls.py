"""REST API routes (see the shared API contract, version 1)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import (
    agreement,
    annotations,
    articles,
    errors,
    exports,
    jobs,
    predictions,
    projects,
    proposals,
    search,
    suggestions,
)

A = "articles/<int:article_id>/"
EDITOR = A + "annotations/<str:username>/"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Projects
    path("projects/", projects.ProjectList.as_view(), name="api-projects"),
    path("projects/<slug:slug>/", projects.ProjectDetail.as_view(), name="api-project"),
    path("projects/<slug:slug>/labels/", projects.LabelList.as_view(), name="api-labels"),
    path("projects/<slug:slug>/members/", projects.MemberList.as_view(), name="api-members"),
    path(
        "projects/<slug:slug>/members/<str:username>/",
        projects.MemberDetail.as_view(),
        name="api-member",
    ),
    # Articles
    path("projects/<slug:slug>/articles/", articles.ArticleList.as_view(), name="api-articles"),
    path("projects/<slug:slug>/import/", articles.DatasetImport.as_view(), name="api-import"),
    path(A, articles.ArticleDetail.as_view(), name="api-article"),
    path(A + "suggestions/", suggestions.SuggestionList.as_view(), name="api-suggestions"),
    path("projects/<slug:slug>/search/", search.ArticleSearch.as_view(), name="api-search"),
    # The caller's own annotation
    path(A + "annotation/", annotations.AnnotationDetail.as_view(), name="api-annotation"),
    path(A + "annotation/versions/", annotations.VersionList.as_view(), name="api-versions"),
    path(
        A + "annotation/versions/<int:number>/",
        annotations.VersionDetail.as_view(),
        name="api-version",
    ),
    path(
        A + "annotation/versions/<int:number>/restore/",
        annotations.RestoreVersion.as_view(),
        name="api-restore",
    ),
    # Review and gold
    path(A + "annotations/", annotations.EditorAnnotationList.as_view(), name="api-annotations"),
    path(EDITOR, annotations.EditorAnnotationDetail.as_view(), name="api-editor-annotation"),
    path(
        EDITOR + "versions/",
        annotations.VersionList.as_view(which="editor"),
        name="api-editor-versions",
    ),
    path(
        EDITOR + "versions/<int:number>/",
        annotations.VersionDetail.as_view(which="editor"),
        name="api-editor-version",
    ),
    path(A + "gold/", annotations.GoldDetail.as_view(), name="api-gold"),
    path(
        A + "gold/versions/",
        annotations.VersionList.as_view(which="gold"),
        name="api-gold-versions",
    ),
    path(
        A + "gold/versions/<int:number>/",
        annotations.VersionDetail.as_view(which="gold"),
        name="api-gold-version",
    ),
    path(
        A + "gold/versions/<int:number>/restore/",
        annotations.RestoreVersion.as_view(which="gold"),
        name="api-gold-restore",
    ),
    path(
        "projects/<slug:slug>/agreement/", agreement.AgreementReport.as_view(), name="api-agreement"
    ),
    path(
        "projects/<slug:slug>/attributes/propose/",
        proposals.ProposeAttributes.as_view(),
        name="api-propose-attributes",
    ),
    # Model predictions
    path(
        "projects/<slug:slug>/predictions/",
        predictions.PredictionUpload.as_view(),
        name="api-predictions",
    ),
    path("projects/<slug:slug>/models/", predictions.ModelList.as_view(), name="api-models"),
    path(
        "projects/<slug:slug>/agreement/recompute/",
        jobs.AgreementRecompute.as_view(),
        name="api-agreement-recompute",
    ),
    # Background jobs
    path("projects/<slug:slug>/jobs/", jobs.JobList.as_view(), name="api-jobs"),
    path("jobs/<int:job_id>/", jobs.JobDetail.as_view(), name="api-job"),
    # Exports and releases
    path("projects/<slug:slug>/export/", exports.Export.as_view(), name="api-export"),
    path("projects/<slug:slug>/releases/", exports.ReleaseList.as_view(), name="api-releases"),
    path(
        "projects/<slug:slug>/releases/<str:name>/",
        exports.ReleaseDetail.as_view(),
        name="api-release",
    ),
    path(
        "projects/<slug:slug>/releases/<str:name>/download/",
        exports.ReleaseDownload.as_view(),
        name="api-release-download",
    ),
    # Keep last: any other URL under /api/ ending in "/" is a JSON 404, not an HTML page
    # (URLs without the slash still get APPEND_SLASH's redirect first).
    # [\s\S], not ".": a path may hold an encoded newline.
    re_path(r"^(?:[\s\S]*/)?$", errors.not_found, name="api-not-found"),
]
