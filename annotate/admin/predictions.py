"""Model versions and their predicted spans: read-only (predictions come through the API or
the ML backend, which check them against the articles and the schema)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from ..models import ModelVersion, PredictedSpan
from .common import ReadOnlyAdminMixin


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "project", "article_count", "span_count", "created_by", "created_at"]
    list_filter = [("project", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["project", "created_by"]
    search_fields = ["name", "project__name", "project__slug"]
    fields = ["name", "project", "article_count", "span_count", "created_by", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ModelVersion]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_spans=Count("spans", distinct=True),
                n_articles=Count("spans__article", distinct=True),
            )
        )

    @admin.display(description="articles", ordering="n_articles")
    def article_count(self, version: ModelVersion) -> int:
        return version.n_articles

    @admin.display(description="spans", ordering="n_spans")
    def span_count(self, version: ModelVersion) -> int:
        return version.n_spans


@admin.register(PredictedSpan)
class PredictedSpanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["label", "text", "start", "end", "score", "article", "model_version"]
    list_filter = [("model_version", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["label", "article", "model_version"]
    search_fields = ["text", "article__external_id", "article__title", "model_version__name"]
    fields = [
        "model_version",
        "article",
        "label",
        "start",
        "end",
        "text",
        "score",
        "attributes",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[PredictedSpan]:
        return super().get_queryset(request).defer("article__text")
