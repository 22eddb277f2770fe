"""GET /api/articles/<id>/suggestions/: what the labelling page offers in an article (spans
of final gold found in it, a model's predictions), less what the caller already has or
rejected. The editors assigned to the article, and reviewers and managers; writes nothing."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Role
from ..services.annotations import InvalidSpans
from ..services.suggestions import parse_score, suggestions_for
from .permissions import ON_ARTICLE

PARAMS = frozenset({"model", "min_score"})
MAX_MODEL_CHARS = 200


class SuggestionSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text="Code-point offset, inclusive.")
    end = serializers.IntegerField(help_text="Code-point offset, exclusive.")
    label = serializers.CharField(help_text="A label key of the project.")
    text = serializers.CharField(help_text="The article's text at [start, end).")
    origin = serializers.ChoiceField(
        choices=["gold", "model"],
        help_text="gold: final gold of the project marks these words; model: a prediction.",
    )
    model = serializers.CharField(
        required=False, help_text="Model suggestions only: the model version's name."
    )
    score = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="Model suggestions only: the prediction's score (0–1), null if none.",
    )


class SuggestionListSerializer(serializers.Serializer):
    suggestions = SuggestionSerializer(many=True)


def _query(request: Request) -> tuple[str | None, float | None]:
    params = request.query_params
    unknown = sorted(set(params) - PARAMS)
    if unknown:
        raise ValidationError(
            {name: ["Unknown query parameter; use model, min_score."] for name in unknown}
        )
    model = params.get("model")
    if model is not None and not 0 < len(model) <= MAX_MODEL_CHARS:
        raise ValidationError(
            {"model": [f"A model version name of 1–{MAX_MODEL_CHARS} characters."]}
        )
    min_score = params.get("min_score")
    if min_score is None:
        return model, None
    try:
        return model, parse_score(min_score)
    except InvalidSpans as error:
        raise ValidationError({"min_score": [error.detail]}) from None


class SuggestionList(APIView):
    permission_classes = ON_ARTICLE

    @extend_schema(
        operation_id="article_suggestions",
        summary="Suggestions for an article",
        description=(
            "What the labelling page offers: the places where the article says, word for "
            "word, what final gold of the same project marks (`origin: gold`; never from "
            "an editor's own work or a gold still under review; none when the project "
            "turned gold suggestions off), and the predictions of one model version "
            "(`origin: model`: the newest with predictions for the article, or `?model=`), "
            "at least `?min_score=` if given. For an editor, less what their annotation "
            "already has (same start, end and label) and what they rejected; nothing once "
            "the article's gold is final. A suggestion is not part of any annotation until "
            "an editor saves it as a span. Editors assigned to the article, reviewers and "
            "managers."
        ),
        parameters=[
            OpenApiParameter(
                "model",
                str,
                description="The model version whose predictions to offer (its name).",
            ),
            OpenApiParameter(
                "min_score",
                float,
                description="Leave out predictions scored below this (0–1); unscored ones too.",
            ),
        ],
        responses={
            200: SuggestionListSerializer,
            400: OpenApiResponse(description="Unknown parameter, bad score or no such model."),
            404: OpenApiResponse(description="No such article among yours."),
        },
        examples=[
            OpenApiExample(
                "A gold and a model suggestion",
                response_only=True,
                value={
                    "suggestions": [
                        {
                            "start": 11,
                            "end": 27,
                            "label": "ACTOR",
                            "text": "Kataeb Hezbollah",
                            "origin": "gold",
                        },
                        {
                            "start": 3,
                            "end": 9,
                            "label": "LOCATION",
                            "text": "Aleppo",
                            "origin": "model",
                            "model": "ner-news@3",
                            "score": 0.93,
                        },
                    ]
                },
            )
        ],
    )
    def get(self, request: Request, article_id: int) -> Response:
        if self.role == Role.EDITOR and not self.assigned:
            raise Http404("No such article in your queue.")
        model, min_score = _query(request)
        try:
            found = suggestions_for(
                self.article, request.user, self.role, model=model, min_score=min_score
            )
        except InvalidSpans as error:
            raise ValidationError({"model": [error.detail]}) from None
        return Response({"suggestions": [s.as_dict() for s in found]})
