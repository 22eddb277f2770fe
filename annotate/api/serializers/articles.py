"""Articles: the import's items and answer, the list and the detail."""

from __future__ import annotations

from rest_framework import serializers

from ...models import (
    Article,
)


class ArticleInputSerializer(serializers.Serializer):
    """One article of an import (documentation only: the importer checks the items and
    reports errors by index or line)."""

    external_id = serializers.CharField(max_length=200)
    title = serializers.CharField(max_length=500, required=False)
    text = serializers.CharField()
    url = serializers.URLField(required=False)
    published_at = serializers.DateTimeField(required=False)
    meta = serializers.DictField(required=False)


class BackendOutcomeSerializer(serializers.Serializer):
    articles = serializers.IntegerField(help_text="Articles sent to the backend.")
    created = serializers.IntegerField(help_text="Predicted spans stored.")
    error = serializers.CharField(
        allow_null=True, help_text="Why no (or not all) predictions were stored; null: none."
    )


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    skipped = serializers.ListField(
        child=serializers.CharField(), help_text="External ids the project already had."
    )
    assigned = serializers.IntegerField(help_text="Assignments made for the new articles.")
    predictions = BackendOutcomeSerializer(
        required=False,
        help_text="Only when the project names an ML backend: what it gave for the new "
        "articles. The import stands whatever it answered.",
    )


STATUS_FIELDS = (
    "status",
    "version",
    "editors_assigned",
    "editors_submitted",
    "gold_version",
    "gold_final",
)


class ArticleListSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="See the list's description.")
    # Not read_only: the schema would mark them required, and each row has only some.
    # (This serializer only ever writes responses.)
    version = serializers.IntegerField(required=False)
    editors_assigned = serializers.IntegerField(required=False)
    editors_submitted = serializers.IntegerField(required=False)
    gold_version = serializers.IntegerField(required=False)
    gold_final = serializers.BooleanField(required=False)
    length = serializers.IntegerField(read_only=True, help_text="Characters (code points).")

    class Meta:
        model = Article
        fields = [
            "id",
            "external_id",
            "title",
            "url",
            "published_at",
            "created_at",
            "sha256",
            "length",
            *STATUS_FIELDS,
        ]

    def to_representation(self, article: Article) -> dict:
        data = super().to_representation(article)
        # Editors' rows carry `version`, reviewers' the counts: drop what does not apply.
        return {k: v for k, v in data.items() if k not in STATUS_FIELDS or hasattr(article, k)}


class ArticleSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Article
        fields = [
            "id",
            "project",
            "external_id",
            "title",
            "url",
            "published_at",
            "meta",
            "created_at",
            "sha256",
            "text",
        ]


def api_datetime(value) -> str | None:
    """A datetime as DRF's DateTimeField writes it in UTC: ISO 8601 with ``Z``."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def article_data(article: Article) -> dict:
    """``ArticleSerializer``'s output, built directly: reading one article is a hot path and
    a ModelSerializer builds its fields anew on every request."""
    return {
        "id": article.pk,
        "project": article.project.slug,
        "external_id": article.external_id,
        "title": article.title,
        "url": article.url,
        "published_at": api_datetime(article.published_at),
        "meta": article.meta,
        "created_at": api_datetime(article.created_at),
        "sha256": article.sha256,
        "text": article.text,
    }
