"""GET /api/projects/<slug>/agreement/: the project's inter-annotator agreement report."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..agreement.facts import DEFINITIONS as FACT_DEFINITIONS
from ..agreement.report import DEFINITIONS
from ..services import agreement as service
from ..services.suggestions import OriginCounts, suggested_span_counts
from .pagination import check_params
from .permissions import IN_PROJECT, IsReviewer

PARAMS = frozenset({"unit", "labels", "editors", "articles", "articles_limit"})


def _measures(name: str) -> serializers.Serializer:
    return inline_serializer(
        name,
        {
            key: serializers.FloatField(allow_null=True, help_text=f"{title}. {text} {source}")
            for key, (title, text, source) in DEFINITIONS.items()
        },
    )


PAIR = inline_serializer(
    "AgreementPair",
    {
        "a": serializers.CharField(),
        "b": serializers.CharField(),
        "articles": serializers.IntegerField(),
        "f1_exact": serializers.FloatField(allow_null=True),
        "f1_overlap": serializers.FloatField(allow_null=True),
        "cohen_kappa": serializers.FloatField(allow_null=True),
        "precision_exact": serializers.FloatField(allow_null=True),
        "recall_exact": serializers.FloatField(allow_null=True),
        "precision_overlap": serializers.FloatField(allow_null=True),
        "recall_overlap": serializers.FloatField(allow_null=True),
        "spans_a": serializers.IntegerField(),
        "spans_b": serializers.IntegerField(),
        "relation_f1_exact": serializers.FloatField(allow_null=True),
        "relation_f1_overlap": serializers.FloatField(allow_null=True),
        "relations_a": serializers.IntegerField(),
        "relations_b": serializers.IntegerField(),
        "relation_types": serializers.DictField(
            child=serializers.DictField(), help_text="This pair's relation F1 per type."
        ),
        "attributes": serializers.DictField(
            child=serializers.DictField(), help_text="This pair's attribute agreement."
        ),
    },
)


def _help(key: str) -> str:
    title, text, source = FACT_DEFINITIONS[key]
    return f"{title}. {text} {source}"


def _relation_f1(name: str) -> serializers.Serializer:
    return inline_serializer(
        name,
        {
            "f1_exact": serializers.FloatField(
                allow_null=True, help_text=_help("relation_f1_exact")
            ),
            "f1_overlap": serializers.FloatField(
                allow_null=True, help_text=_help("relation_f1_overlap")
            ),
            "relations": serializers.IntegerField(
                help_text="Relations compared: both editors' of every pair, summed."
            ),
        },
    )


RELATIONS = inline_serializer(
    "AgreementRelations",
    {
        "f1_exact": serializers.FloatField(allow_null=True, help_text=_help("relation_f1_exact")),
        "f1_overlap": serializers.FloatField(
            allow_null=True, help_text=_help("relation_f1_overlap")
        ),
        "relations": serializers.IntegerField(),
        "types": serializers.DictField(child=_relation_f1("AgreementRelationType")),
    },
)
ATTRIBUTE = inline_serializer(
    "AgreementAttribute",
    {
        "pairs": serializers.IntegerField(
            help_text="Identically marked spans × pairs of editors where both gave a value."
        ),
        "agreement": serializers.FloatField(
            allow_null=True, help_text=_help("attribute_agreement")
        ),
        "krippendorff_alpha": serializers.FloatField(
            allow_null=True, help_text=_help("attribute_alpha")
        ),
        "one_given": serializers.IntegerField(
            help_text="Identically marked spans × pairs where only one editor gave a value."
        ),
        "level": serializers.ChoiceField(choices=["nominal", "interval"]),
        "type": serializers.ChoiceField(choices=["choice", "integer", "text", "boolean"]),
    },
)
FACTS_ARTICLE = inline_serializer(
    "AgreementFactsArticle",
    {
        "id": serializers.IntegerField(),
        "external_id": serializers.CharField(),
        "title": serializers.CharField(),
        "score": serializers.FloatField(help_text=_help("facts_score")),
        "editors": serializers.ListField(child=serializers.CharField()),
        "versions": serializers.DictField(child=serializers.IntegerField()),
    },
)
ARTICLE = inline_serializer(
    "AgreementArticle",
    {
        "id": serializers.IntegerField(),
        "external_id": serializers.CharField(),
        "title": serializers.CharField(),
        "score": serializers.FloatField(allow_null=True),
        "editors": serializers.ListField(child=serializers.CharField()),
    },
)
ORIGINS = inline_serializer(
    "SuggestedSpans",
    {
        "spans": serializers.IntegerField(help_text="Current spans of submitted annotations."),
        "gold": serializers.IntegerField(help_text="Of them, accepted gold suggestions."),
        "model": serializers.IntegerField(help_text="Of them, accepted model predictions."),
    },
)

REPORT = inline_serializer(
    "AgreementReport",
    {
        "unit": serializers.ChoiceField(choices=["token", "char"]),
        "articles_compared": serializers.IntegerField(),
        "units_compared": serializers.IntegerField(),
        "overall": _measures("AgreementMeasures"),
        "labels": serializers.DictField(child=_measures("AgreementLabelMeasures")),
        "macro": serializers.DictField(child=serializers.FloatField(allow_null=True)),
        "pairs": serializers.ListField(child=PAIR),
        "editors": serializers.ListField(child=serializers.DictField()),
        "confusion": serializers.DictField(),
        "fleiss_editors": serializers.IntegerField(allow_null=True),
        "articles": serializers.ListField(child=ARTICLE),
        "articles_total": serializers.IntegerField(),
        "versions": serializers.DictField(
            child=serializers.DictField(child=serializers.IntegerField()),
            help_text="Per listed article id: the annotation version of each editor used.",
        ),
        "computed_at": serializers.DateTimeField(allow_null=True),
        "relations": RELATIONS,
        "attributes": serializers.DictField(
            child=ATTRIBUTE, help_text='Per attribute, keyed "LABEL.key".'
        ),
        "facts_articles": serializers.ListField(
            child=FACTS_ARTICLE,
            help_text="Articles whose editors disagree most on facts, lowest facts score "
            "first, up to `articles_limit`; articles with no fact are not listed.",
        ),
        "suggested": inline_serializer(
            "SuggestedSpansReport",
            {
                "overall": ORIGINS,
                "editors": serializers.DictField(child=ORIGINS, help_text="Per username."),
            },
            help_text="How many spans of submitted annotations started as suggestions "
            "(the whole project: no filter applies).",
        ),
    },
)


class AgreementReport(APIView):
    """Agreement between the project's editors (reviewers and managers; editors get 403)."""

    permission_classes = [*IN_PROJECT, IsReviewer]

    @extend_schema(
        operation_id="project_agreement",
        summary="Inter-annotator agreement report",
        description=(
            "Computed on submitted annotations of articles that at least two editors "
            "submitted, from statistics kept up to date on every submit. `overall` and "
            "`labels` pool every unit (or span) of every compared article; "
            "`overall.cohen_kappa` is the mean over pairs. A measure undefined for the data "
            "is null. With `unit=char` every character is a unit whose category is the label "
            "of the span covering it, or none; where one editor's spans overlap, the "
            "innermost (shortest) span's label wins. `articles` lists the compared articles, "
            "worst first, up to `articles_limit`; `versions` gives the annotation versions "
            "used for each listed article. `relations` and `attributes` measure agreement on "
            "facts: relation F1 (exact, overlap) overall and per type; per attribute, over the "
            "spans two editors marked identically, the share of equal values and "
            "Krippendorff's alpha (nominal, or interval for integers)."
        ),
        parameters=[
            OpenApiParameter("unit", enum=["token", "char"], default="token"),
            OpenApiParameter(
                "labels", OpenApiTypes.STR, description="Label keys, comma-separated."
            ),
            OpenApiParameter(
                "editors", OpenApiTypes.STR, description="Usernames, comma-separated."
            ),
            OpenApiParameter(
                "articles", OpenApiTypes.STR, description="Article ids, comma-separated."
            ),
            OpenApiParameter(
                "articles_limit",
                OpenApiTypes.INT,
                description=f"Articles to list (default {service.DEFAULT_ARTICLES_LIMIT}).",
            ),
        ],
        responses={200: REPORT, 400: OpenApiResponse(description="A filter that cannot apply.")},
    )
    def get(self, request: Request, slug: str) -> Response:
        check_params(request, PARAMS)
        try:
            filters = service.parse_filters(request.query_params)
            result = service.project_report(
                self.project,
                unit=filters.unit,
                labels=filters.labels,
                editors=filters.editors,
                article_ids=filters.articles,
                articles_limit=filters.limit,
            )
        except service.AgreementQueryError as exc:
            raise ValidationError(str(exc)) from None
        overall, editors = suggested_span_counts(self.project)
        result["suggested"] = {
            "overall": _origins(overall),
            "editors": {name: _origins(counts) for name, counts in editors.items()},
        }
        return Response(result)


def _origins(counts: OriginCounts) -> dict[str, int]:
    return {"spans": counts.spans, "gold": counts.gold, "model": counts.model}
