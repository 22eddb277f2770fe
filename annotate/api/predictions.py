"""A model's predictions: upload them (managers), list model versions with their counts and
their quality against the final gold (reviewers and managers)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..agreement.gold import Counts, EditorScore
from ..services.predictions import ModelSummary, model_versions, upload_predictions
from .parsers import NDJSON, JSONLinesParser, NDJSONParser, RawBody
from .permissions import IN_PROJECT, IsManager, IsReviewer


class PredictedSpanSerializer(serializers.Serializer):
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(
        min_value=1, help_text="Greater than start; at most the text's length."
    )
    label = serializers.CharField(help_text="A label key of the project.")
    score = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="The model's confidence.",
    )
    text = serializers.CharField(
        required=False, help_text="If given, must be the article's text at start:end."
    )
    attributes = serializers.DictField(
        required=False, help_text="Attribute values fitting the label's schema."
    )


class PredictedRelationSerializer(serializers.Serializer):
    # "from" is a Python keyword: declared under another name and renamed below.
    from_ = serializers.IntegerField(min_value=0, help_text="Index into spans.")
    to = serializers.IntegerField(min_value=0, help_text="Index into spans.")
    type = serializers.CharField(help_text="A relation type key of the project.")
    score = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class PredictionLineSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The article's external id.")
    model = serializers.CharField(max_length=200, help_text='The model version, e.g. "ner-news@3".')
    spans = PredictedSpanSerializer(many=True)
    relations = PredictedRelationSerializer(many=True, required=False)


class PredictionResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Predicted spans stored.")
    relations = serializers.IntegerField(help_text="Predicted relations stored.")
    articles = serializers.IntegerField(help_text="Lines stored: (article, model version) pairs.")
    replaced = serializers.IntegerField(
        help_text="Spans the same model versions had predicted for these articles before, "
        "now replaced."
    )
    models = serializers.ListField(child=serializers.CharField(), help_text="The model versions.")


class CountsSerializer(serializers.Serializer):
    predicted = serializers.IntegerField(help_text="The model's spans.")
    gold = serializers.IntegerField(help_text="The final gold's spans.")
    matched = serializers.IntegerField(help_text="Spans both have (same offsets and label).")
    precision = serializers.FloatField(allow_null=True)
    recall = serializers.FloatField(allow_null=True)
    f1 = serializers.FloatField(allow_null=True)


class QualitySerializer(CountsSerializer):
    articles = serializers.IntegerField(
        help_text="Articles with final gold for which the model predicted spans."
    )
    labels = serializers.DictField(child=CountsSerializer(), help_text="The same, per label key.")


class ModelVersionSerializer(serializers.Serializer):
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    articles = serializers.IntegerField(help_text="Articles it predicted spans for.")
    spans = serializers.IntegerField()
    relations = serializers.IntegerField()
    quality = QualitySerializer(
        allow_null=True,
        help_text="Against the final gold; null while no article it predicted has one.",
    )


class BackendStatusSerializer(serializers.Serializer):
    url = serializers.CharField(allow_blank=True, help_text="Empty: the project names no backend.")
    called_at = serializers.DateTimeField(allow_null=True, help_text="When it was last asked.")
    error = serializers.CharField(allow_null=True, help_text="What went wrong then; null: nothing.")


class ModelListSerializer(serializers.Serializer):
    models = ModelVersionSerializer(many=True)
    ml_backend = BackendStatusSerializer()


UPLOAD_DESCRIPTION = """Managers. JSON Lines (`Content-Type: application/x-ndjson`), one
article and model version a line:
`{"id": external_id, "model": "ner-news@3", "spans": [{"start", "end", "label", "score"?,
"text"?, "attributes"?}], "relations"?: [{"from", "to", "type", "score"?}]}`.
`score` is a number from 0 to 1; `text`, if given, must be what the article has at the
offsets; `attributes` must fit the label's schema; a relation's `from` and `to` index the
line's `spans`, and its type must allow their labels.

A line replaces everything the same model version predicted for that article before
(spans and relations), so sending a corrected file again is harmless; an empty `spans`
list clears them. Predictions are offers for editors, never part of an annotation.

`created` counts the predicted spans stored. Any bad line: 400 with
`errors: [{"line", "detail"}]` and nothing stored; more than MAX_IMPORT_ITEMS lines or a body
over MAX_UPLOAD_BYTES: 413; another content type: 415."""


class PredictionUpload(APIView):
    permission_classes = [*IN_PROJECT, IsManager]
    parser_classes = [NDJSONParser, JSONLinesParser]

    @extend_schema(
        operation_id="upload_predictions",
        summary="Upload a model's predictions (JSON Lines)",
        description=UPLOAD_DESCRIPTION,
        request={NDJSON: PredictionLineSerializer},
        responses={
            201: PredictionResultSerializer,
            400: OpenApiResponse(description="A bad line; `errors` lists each by line."),
            403: OpenApiResponse(description="Only managers upload predictions."),
            404: OpenApiResponse(description="No such project among yours."),
            413: OpenApiResponse(description="Too many lines or too large a body."),
            415: OpenApiResponse(description="Not JSON Lines."),
        },
        examples=[
            OpenApiExample(
                "One article",
                request_only=True,
                media_type=NDJSON,
                value={
                    "id": "a-17",
                    "model": "ner-news@3",
                    "spans": [{"start": 0, "end": 9, "label": "ACTOR", "score": 0.93}],
                },
            )
        ],
    )
    def post(self, request: Request, slug: str) -> Response:
        body = request.data
        if not isinstance(body, RawBody) or not body or body.isspace():
            raise ValidationError(
                "The request body is empty: send JSON Lines (application/x-ndjson), one "
                "article's predictions a line."
            )
        result = upload_predictions(project=self.project, data=bytes(body), user=request.user)
        data = {
            "created": result.created,
            "relations": result.relations,
            "articles": result.articles,
            "replaced": result.replaced,
            "models": result.models,
        }
        return Response(data, status=status.HTTP_201_CREATED)


class ModelList(APIView):
    permission_classes = [*IN_PROJECT, IsReviewer]

    @extend_schema(
        operation_id="list_models",
        summary="Model versions, with their quality against the final gold",
        description="Reviewers and managers. Each model version whose predictions the "
        "project holds, by name, with how many articles, spans and relations it predicted "
        "and its `quality`: precision, recall and F1 against the final gold, overall and per "
        "label, over the articles whose gold is final and for which it predicted spans "
        "(exact match: same offsets and label). `ml_backend` tells how the project's ML "
        "backend last answered.",
        responses={200: ModelListSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        if request.query_params:
            raise ValidationError(
                {name: ["Unknown query parameter."] for name in sorted(request.query_params)}
            )
        project = self.project
        return Response(
            {
                "models": [model_data(row) for row in model_versions(project)],
                "ml_backend": {
                    "url": project.ml_backend_url,
                    "called_at": project.ml_backend_called_at,
                    "error": project.ml_backend_error or None,
                },
            }
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def counts_data(counts: Counts) -> dict[str, object]:
    return {
        "predicted": counts.editor,
        "gold": counts.gold,
        "matched": counts.matched,
        "precision": _round(counts.precision),
        "recall": _round(counts.recall),
        "f1": _round(counts.f1),
    }


def quality_data(score: EditorScore) -> dict[str, object]:
    return {
        "articles": score.articles,
        **counts_data(score.overall),
        "labels": {label: counts_data(counts) for label, counts in score.by_label},
    }


def model_data(row: ModelSummary) -> dict[str, object]:
    return {
        "name": row.name,
        "created_at": row.created_at,
        "articles": row.articles,
        "spans": row.spans,
        "relations": row.relations,
        "quality": None if row.quality is None else quality_data(row.quality),
    }
