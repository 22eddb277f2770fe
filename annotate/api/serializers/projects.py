"""Projects, their labels, schema (attributes, relation types) and members."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ...facts.schema import AttributeSpec
from ...models import (
    COLOR_RE,
    LABEL_KEY_RE,
    AttributeDefinition,
    Label,
    Membership,
    Project,
    RelationType,
    Role,
)
from ...models.projects import validate_guidelines
from ...services.ml_backend import url_problem
from ...services.projects import create_project
from ...services.schema import RelationTypeInput, replace_schema
from .fields import (
    MAX_INT,
    RefuseUnknownFields,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSlugField,
)


class AttributeSerializer(RefuseUnknownFields, serializers.Serializer):
    """One typed attribute of a label (``facts.schema.AttributeSpec``); the rules beyond
    the shape (choices only for a choice, min only for an integer) are the service's."""

    key = StrictCharField(max_length=32)
    name = StrictCharField(max_length=100)
    type = serializers.ChoiceField(choices=AttributeDefinition.Type.choices)
    choices = serializers.ListField(
        child=StrictCharField(max_length=100), required=False, max_length=100
    )
    min = StrictIntegerField(required=False, allow_null=True, min_value=-MAX_INT - 1)
    required = StrictBooleanField(required=False)

    def to_representation(self, attribute: AttributeDefinition) -> dict:
        return {
            "key": attribute.key,
            "name": attribute.name,
            "type": attribute.type,
            "choices": list(attribute.choices or ()),
            "min": attribute.min,
            "required": attribute.required,
        }

    @staticmethod
    def spec(data: dict) -> AttributeSpec:
        return AttributeSpec(
            key=data["key"],
            name=data["name"],
            type=data["type"],
            choices=tuple(data.get("choices") or ()),
            min=data.get("min"),
            required=data.get("required", False),
        )


ENDS = {"from": "start from", "to": "end at"}


class RelationTypeSerializer(RefuseUnknownFields, serializers.Serializer):
    """A relation type: the label keys a relation may start from and end at (null or an
    empty list: any label)."""

    key = StrictCharField(max_length=32)
    name = StrictCharField(max_length=100)

    def get_fields(self) -> dict:
        fields = super().get_fields()
        for side in ("from", "to"):  # "from" is a Python keyword: not a class attribute
            fields[side] = serializers.ListField(
                child=StrictCharField(max_length=32),
                required=False,
                allow_null=True,
                max_length=500,
                help_text=f"Label keys a relation may {ENDS[side]}; null or empty: any.",
            )
        return fields

    def to_representation(self, relation_type: RelationType) -> dict:
        ends = {
            side: sorted(label.key for label in getattr(relation_type, f"{side}_labels").all())
            or None
            for side in ("from", "to")
        }
        return {"key": relation_type.key, "name": relation_type.name, **ends}

    @staticmethod
    def input(data: dict) -> RelationTypeInput:
        return RelationTypeInput(
            data["key"], data["name"], tuple(data.get("from") or ()), tuple(data.get("to") or ())
        )


def schema_of(validated: dict) -> tuple[dict[str, list[AttributeSpec]], list | None]:
    """Attribute specs per label key (labels that gave ``attributes``) and the relation
    types (None: not given) from a validated project body, for services.schema."""
    attributes = {
        label["key"]: [AttributeSerializer.spec(item) for item in label["attributes"]]
        for label in validated.get("labels") or ()
        if label.get("attributes") is not None
    }
    relations = validated.get("relation_types")
    if relations is not None:
        relations = [RelationTypeSerializer.input(item) for item in relations]
    return attributes, relations


class LabelSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    key = StrictCharField(max_length=32)
    name = StrictCharField(max_length=100)
    color = StrictCharField(max_length=7, required=False)
    hotkey = StrictCharField(max_length=1, required=False, allow_blank=True, trim_whitespace=False)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000)
    attributes = AttributeSerializer(many=True, required=False, max_length=100)

    class Meta:
        model = Label
        fields = ["key", "name", "color", "hotkey", "description", "order", "attributes"]
        read_only_fields = ["order"]

    def validate_key(self, value: str) -> str:
        if not re.fullmatch(LABEL_KEY_RE, value):
            raise serializers.ValidationError(
                "Use A-Z, digits and _, starting with a capital letter (at most 32)."
            )
        return value

    def validate_color(self, value: str) -> str:
        if not re.fullmatch(COLOR_RE, value):
            raise serializers.ValidationError("Use a colour like #ffd966.")
        return value.lower()

    def validate_hotkey(self, value: str) -> str:
        if value and (value.isspace() or not value.isprintable()):
            raise serializers.ValidationError("A hotkey is one visible character.")
        return value


def check_label_set(labels: list[dict], existing: list[Label] = ()) -> None:
    """Keys and hotkeys unique within the project."""
    keys = [label.key for label in existing] + [item["key"] for item in labels]
    hotkeys = [label.hotkey for label in existing if label.hotkey]
    hotkeys += [item["hotkey"] for item in labels if item.get("hotkey")]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise serializers.ValidationError({"labels": [f"Label key {twice[0]} appears twice."]})
    twice = sorted({h for h in hotkeys if hotkeys.count(h) > 1})
    if twice:
        raise serializers.ValidationError(
            {"labels": [f"Hotkey {twice[0]!r} is used by two labels."]}
        )


class MLBackendURLField(serializers.CharField):
    """A project's ML backend: an http(s) URL, or "" / null for none. Only managers read it
    (null for others), since it may carry a token."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault(
            "help_text",
            "An HTTP endpoint asked for predictions when articles are imported (see the "
            "README, ML backend); empty or null: none. Only managers read it; null for others.",
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Give a URL as a string, or null for none.")
        value = super().to_internal_value(data)
        problem = url_problem(value) if value else None
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_empty_values(self, data):
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


class ProjectSettings(serializers.Serializer):
    """The settings a project is created with and a manager may change later."""

    guidelines = StrictCharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        validators=[validate_guidelines],
    )
    overlap = StrictIntegerField(required=False, min_value=1, max_value=50)
    editors_can_upload = StrictBooleanField(required=False)
    reviewable_after = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=50,
        help_text="Submitted annotations that make an article ready for review; null: the "
        "overlap. An article whose assigned editors have all submitted is ready anyway.",
    )
    assignment_timeout_hours = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=24 * 365,
        help_text="Hours after which an article its editor has not started goes to another "
        "editor; null: never.",
    )
    anonymous_review = StrictBooleanField(
        required=False, help_text="Reviewers see editors as Editor A, B, … when adjudicating."
    )
    suggest_from_gold = StrictBooleanField(
        required=False,
        help_text="Offer editors the spans that final gold of the project marks, as "
        "suggestions in the articles they open (default true).",
    )
    ml_backend_url = MLBackendURLField()


SETTINGS = [
    "guidelines",
    "overlap",
    "editors_can_upload",
    "reviewable_after",
    "assignment_timeout_hours",
    "anonymous_review",
    "suggest_from_gold",
    "ml_backend_url",
]


class ProjectSerializer(RefuseUnknownFields, ProjectSettings, serializers.ModelSerializer):
    name = StrictCharField(max_length=200)
    slug = StrictSlugField(max_length=80)
    labels = LabelSerializer(many=True)
    relation_types = RelationTypeSerializer(many=True, required=False, max_length=200)
    role = serializers.SerializerMethodField(help_text="The caller's role in the project.")
    articles = serializers.SerializerMethodField(help_text="How many articles it has.")

    class Meta:
        model = Project
        fields = [
            "slug",
            "name",
            *SETTINGS,
            "labels",
            "relation_types",
            "role",
            "articles",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, project: Project) -> str | None:
        role = getattr(project, "caller_role", None)
        request = self.context.get("request")
        if role is None and request is not None:
            role = project.role_of(request.user)
        return role

    def get_articles(self, project: Project) -> int:
        count = getattr(project, "article_count", None)
        return project.articles.count() if count is None else count

    def to_representation(self, project: Project) -> dict:
        data = super().to_representation(project)
        if data.get("role") != Role.MANAGER:
            data["ml_backend_url"] = None
        return data

    def validate_slug(self, value: str) -> str:
        if Project.objects.filter(slug=value).exists():
            raise serializers.ValidationError("A project with this slug already exists.")
        return value

    def validate_labels(self, value: list[dict]) -> list[dict]:
        if not value:
            raise serializers.ValidationError("A project needs at least one label.")
        check_label_set(value)
        return value

    def create(self, validated_data: dict) -> Project:
        attributes, relations = schema_of(validated_data)
        validated_data.pop("relation_types", None)
        labels = [
            {k: v for k, v in label.items() if k != "attributes"}
            for label in validated_data.pop("labels")
        ]
        creator = self.context["request"].user
        with transaction.atomic():
            project = create_project(creator=creator, labels=labels, **validated_data)
            replace_schema(project=project, attributes=attributes, relation_types=relations)
        return project


class LabelSchemaSerializer(RefuseUnknownFields, serializers.Serializer):
    """PATCH: a label named by key and its attributes, which replace the ones it has."""

    key = StrictCharField(max_length=32)
    attributes = AttributeSerializer(many=True, max_length=100)


class ProjectUpdateSerializer(RefuseUnknownFields, ProjectSettings, serializers.ModelSerializer):
    """PATCH: the settings a manager may change (the slug names the project for good)."""

    name = StrictCharField(max_length=200, required=False)
    labels = LabelSchemaSerializer(
        many=True,
        required=False,
        max_length=500,
        help_text="Labels (by key) whose attributes become the list given; labels not "
        "named keep theirs. Labels are added at /labels/.",
    )
    relation_types = RelationTypeSerializer(
        many=True,
        required=False,
        max_length=200,
        help_text="The project's relation types become this list (matched by key); a type "
        "that stored relations use cannot be removed (409).",
    )

    class Meta:
        model = Project
        fields = [
            "name",
            *SETTINGS,
            "labels",
            "relation_types",
        ]

    def update(self, project: Project, validated_data: dict) -> Project:
        attributes, relations = schema_of(validated_data)
        validated_data.pop("labels", None)
        validated_data.pop("relation_types", None)
        with transaction.atomic():
            project = super().update(project, validated_data)
            replace_schema(project=project, attributes=attributes, relation_types=relations)
        return project


class MemberSerializer(RefuseUnknownFields, serializers.Serializer):
    username = StrictCharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)
    created_at = serializers.DateTimeField(read_only=True)

    def validate_username(self, value: str):
        user = get_user_model().objects.filter(username=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(f"There is no active user named {value!r}.")
        return user

    def to_representation(self, membership: Membership) -> dict:
        return {
            "username": membership.user.username,
            "role": membership.role,
            "created_at": serializers.DateTimeField().to_representation(membership.created_at),
        }
