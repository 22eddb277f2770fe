"""POST /api/projects/<slug>/attributes/propose/: the attribute values the words of a marked
figure tell, fitted to the label's schema. Any member; writes nothing."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..facts.proposals import fit_to_schema, propose
from ..models import AttributeDefinition, Label
from .permissions import IN_PROJECT
from .serializers.fields import RefuseUnknownFields, StrictCharField

MAX_TEXT_CHARS = 2000


class ProposeSerializer(RefuseUnknownFields, serializers.Serializer):
    label = StrictCharField(max_length=32, help_text="A label key of the project.")
    text = StrictCharField(
        max_length=MAX_TEXT_CHARS,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"The marked words (at most {MAX_TEXT_CHARS} characters).",
    )


class ProposalSerializer(serializers.Serializer):
    attributes = serializers.DictField(
        help_text=(
            "Proposed values by attribute key: only attributes the label declares, with "
            "values that fit them; keys the words do not tell are left out."
        )
    )


class ProposeAttributes(APIView):
    """Proposed attribute values for a marked figure (any member of the project)."""

    permission_classes = IN_PROJECT

    @extend_schema(
        operation_id="propose_attributes",
        summary="Proposed attribute values for marked words",
        description=(
            "What the labelling page pre-fills when an editor marks a figure: the attribute "
            "values the words tell (a casualty figure's kind, low and high counts, qualifier "
            "and victims), kept to the attributes the label declares and to values that fit "
            "them. Conventions: `low` is the reported figure and `high` is set only for a "
            "range (null otherwise); tens, dozens, scores, hundreds and thousands are 10, 12, "
            "20, 100 and 1,000 'about' (ACLED); 'a dozen' is 12 exact; the headline figure "
            "is the first one ('12 killed, including five children' gives 12); 'no "
            "casualties' gives 0. Writes nothing."
        ),
        request=ProposeSerializer,
        responses={
            200: ProposalSerializer,
            400: OpenApiResponse(description="Not a label of the project, or text too long."),
            404: OpenApiResponse(description="No such project among yours."),
        },
        examples=[
            OpenApiExample(
                "A casualty figure",
                request_only=True,
                value={"label": "CASUALTY", "text": "at least six more were wounded"},
            ),
            OpenApiExample(
                "Its proposal",
                response_only=True,
                value={
                    "attributes": {
                        "kind": "wounded",
                        "low": 6,
                        "high": None,
                        "qualifier": "at_least",
                    }
                },
            ),
        ],
    )
    def post(self, request: Request, slug: str) -> Response:
        serializer = ProposeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, text = serializer.validated_data["label"], serializer.validated_data["text"]
        label = Label.objects.filter(project=self.project, key=key).first()
        if label is None:
            raise ValidationError({"label": [f"{key[:32]!r} is not a label of this project."]})
        specs = [row.spec() for row in AttributeDefinition.objects.filter(label=label)]
        return Response({"attributes": fit_to_schema(propose(text), specs)})
