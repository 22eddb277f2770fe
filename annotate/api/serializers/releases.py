"""Releases: making one, listing them, one in detail."""

from __future__ import annotations

from rest_framework import serializers

from ...models import (
    Release,
)
from .fields import RefuseUnknownFields, StrictCharField


class ReleaseCreateSerializer(RefuseUnknownFields, serializers.Serializer):
    name = StrictCharField(max_length=64, help_text="e.g. v1; letters, digits, . _ -")
    note = StrictCharField(required=False, allow_blank=True, max_length=2000)


class ReleaseSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    articles = serializers.IntegerField(source="article_count")
    spans = serializers.IntegerField(source="span_count")
    labels = serializers.JSONField(source="label_counts", help_text="{KEY: span count}.")
    agreement = serializers.JSONField(
        allow_null=True, help_text="The agreement report at release time (null if none)."
    )
    changes = serializers.JSONField(
        help_text='Since the previous release: {"previous", "added", "removed", "changed"} '
        "(external ids)."
    )

    class Meta:
        model = Release
        fields = [
            "name",
            "note",
            "created_at",
            "created_by",
            "articles",
            "spans",
            "sha256",
            "labels",
            "agreement",
            "changes",
        ]


class ReleaseDetailSerializer(ReleaseSerializer):
    manifest = serializers.JSONField(
        help_text="Per article: id, external id, gold version, text and spans sha256."
    )

    class Meta(ReleaseSerializer.Meta):
        fields = [*ReleaseSerializer.Meta.fields, "manifest"]
