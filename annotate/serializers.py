"""REST serializers: explicit fields, strict types, unknown fields refused.

Strict because a labelling pipeline that sends ``"start": "5"`` or ``"final": "yes"`` has a
bug that silent coercion would hide; refused (400, naming the field) rather than ignored
because a field that is silently dropped (``annotator``, ``project``, ``final`` on an
editor's annotation) looks to the caller as if it had worked. Writes go through the domain
services, which hold the rules; these classes only check shapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .facts.schema import AttributeSpec, FactSchema, schema_warnings
from .models import (
    COLOR_RE,
    LABEL_KEY_RE,
    Annotation,
    AnnotationVersion,
    Article,
    AttributeDefinition,
    Label,
    Membership,
    Project,
    RelationType,
    Release,
    Role,
    Span,
)
from .models.facts import RELATION_KEY_FIELDS, ProjectFacts, Relation, fact_schema, relation_key
from .models.projects import validate_guidelines
from .services.annotations import (
    MAX_NOTE_CHARS,
    MAX_RELATIONS_PER_ANNOTATION,
    MAX_SPANS_PER_ANNOTATION,
    InvalidSpans,
    RelationInput,
    SpanInput,
    SpanRow,
)
from .services.ml_backend import url_problem
from .services.projects import create_project
from .services.schema import RelationTypeInput, replace_schema
from .versioning import RelationKey, SpanKey, State, describe

MAX_INT = 2**31 - 1


# --- strict fields ----------------------------------------------------------------------


class StrictIntegerField(serializers.IntegerField):
    """An integer, not a string, boolean or float that looks like one."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSlugField(serializers.SlugField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.")
        return super().to_internal_value(data)


class RefuseUnknownFields:
    """Mixin: a body with fields this serializer does not know is refused, naming them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            # Read-only fields count as unknown: dropping them silently (`role`, `order`,
            # `created_at`) would look to the caller as if they had been set.
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:
                raise serializers.ValidationError(
                    {
                        key: [f"Unknown field; the fields are {', '.join(sorted(writable))}."]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)


# --- projects ---------------------------------------------------------------------------


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


class ProjectSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    name = StrictCharField(max_length=200)
    slug = StrictSlugField(max_length=80)
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
    labels = LabelSerializer(many=True)
    relation_types = RelationTypeSerializer(many=True, required=False, max_length=200)
    role = serializers.SerializerMethodField(help_text="The caller's role in the project.")
    articles = serializers.SerializerMethodField(help_text="How many articles it has.")

    class Meta:
        model = Project
        fields = [
            "slug",
            "name",
            "guidelines",
            "overlap",
            "editors_can_upload",
            "reviewable_after",
            "assignment_timeout_hours",
            "anonymous_review",
            "suggest_from_gold",
            "ml_backend_url",
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


class ProjectUpdateSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    """PATCH: the settings a manager may change (the slug names the project for good)."""

    name = StrictCharField(max_length=200, required=False)
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
            "guidelines",
            "overlap",
            "editors_can_upload",
            "reviewable_after",
            "assignment_timeout_hours",
            "anonymous_review",
            "suggest_from_gold",
            "ml_backend_url",
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


# --- articles ---------------------------------------------------------------------------


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


# --- annotations ------------------------------------------------------------------------


class SpanSerializer(serializers.Serializer):
    """A span: code-point offsets into the article text, end exclusive."""

    id = serializers.IntegerField(
        read_only=True, help_text="The stored span (a gold span's `source` names one)."
    )
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=1)
    label = serializers.CharField(help_text="A label key of the project.")
    text = serializers.CharField(
        required=False, help_text="Optional on input; when given it must match the article."
    )
    attributes = serializers.DictField(
        required=False,
        help_text="Values of the label's attributes, e.g. "
        '{"kind": "wounded", "low": 6}; null or a missing key: not given. Always present in '
        "reads ({} when none). On input, leaving it out keeps the span's current values.",
    )


class RelationSerializer(serializers.Serializer):
    """A relation between two spans of the same document: `from` and `to` index its
    `spans` list; it is identified by the two spans' (start, end, label) and its type."""

    type = serializers.CharField(help_text="A relation type key of the project.")

    def get_fields(self) -> dict:
        fields = super().get_fields()
        # "from" is a Python keyword: the two ends are declared here.
        fields["from"] = serializers.IntegerField(min_value=0, help_text="Index in spans.")
        fields["to"] = serializers.IntegerField(min_value=0, help_text="Index in spans.")
        return {name: fields[name] for name in ("from", "to", "type")}


class SchemaWarningSerializer(serializers.Serializer):
    """What a stored annotation no longer fits after the project's schema changed."""

    span = serializers.IntegerField(required=False, help_text="Index in spans.")
    relation = serializers.IntegerField(required=False, help_text="Index in relations.")
    detail = serializers.CharField()


class GoldSpanSerializer(SpanSerializer):
    source = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The id of the editor span this gold span was accepted from.",
    )


SPAN_KEYS = frozenset({"id", "start", "end", "label", "text", "attributes"})
RELATION_KEYS = frozenset({"from", "to", "type"})


@extend_schema_field(SpanSerializer)
class SpanField(serializers.Field):
    """A span of a write. Its shape and types are checked here (``SpanInput.from_dict``);
    its offsets and label by the domain (``validate_spans``), which names the span by
    index. ``id``, as a GET returns it, is accepted and ignored, so a read-modify-write
    needs no cleaning."""

    gold = False
    default_error_messages = {
        "not_object": "Each span must be an object with start, end and label.",
        "missing": "A span needs {fields}.",
        "unknown": "Unknown span field {fields}; a span has start, end, label, text and "
        "attributes.",
    }

    def to_internal_value(self, data) -> SpanInput:
        if not isinstance(data, dict):
            self.fail("not_object")
        allowed = SPAN_KEYS | {"source"} if self.gold else SPAN_KEYS
        unknown = sorted(str(k) for k in data if k not in allowed)
        if unknown:
            self.fail("unknown", fields=", ".join(unknown))
        missing = [k for k in ("start", "end", "label") if k not in data]
        if missing:
            self.fail("missing", fields=", ".join(missing))
        try:
            return SpanInput.from_dict(data, gold=self.gold)
        except InvalidSpans as exc:
            raise serializers.ValidationError(exc.detail) from None

    def to_representation(self, value):
        return value


@extend_schema_field(GoldSpanSerializer)
class GoldSpanField(SpanField):
    gold = True


@extend_schema_field(RelationSerializer)
class RelationField(serializers.Field):
    """A relation of a write: its shape here; its ends and type by the domain, which names
    the relation by index."""

    default_error_messages = {
        "not_object": "Each relation must be an object with from, to and type.",
        "missing": "A relation needs {fields}.",
        "unknown": "Unknown relation field {fields}; a relation has from, to and type.",
    }

    def to_internal_value(self, data) -> RelationInput:
        if not isinstance(data, dict):
            self.fail("not_object")
        unknown = sorted(str(k) for k in data if k not in RELATION_KEYS)
        if unknown:
            self.fail("unknown", fields=", ".join(unknown))
        missing = [k for k in ("from", "to", "type") if k not in data]
        if missing:
            self.fail("missing", fields=", ".join(missing))
        return RelationInput(data["from"], data["to"], data["type"])

    def to_representation(self, value):
        return value


class AnnotationWriteSerializer(RefuseUnknownFields, serializers.Serializer):
    base_version = StrictIntegerField(
        min_value=0, max_value=MAX_INT, help_text="The version this change is based on."
    )
    spans = serializers.ListField(
        child=SpanField(), max_length=MAX_SPANS_PER_ANNOTATION, help_text="The whole new set."
    )
    submit = StrictBooleanField(
        required=False, help_text="true: submitted; false: back to in progress; absent: as is."
    )
    note = StrictCharField(
        required=False, allow_blank=True, max_length=MAX_NOTE_CHARS, trim_whitespace=False
    )
    relations = serializers.ListField(
        child=RelationField(),
        required=False,
        max_length=MAX_RELATIONS_PER_ANNOTATION,
        help_text="The whole new relation set, indexing `spans`. Left out: the current "
        "relations whose two spans are still there are kept.",
    )


class GoldWriteSerializer(AnnotationWriteSerializer):
    spans = serializers.ListField(
        child=GoldSpanField(), max_length=MAX_SPANS_PER_ANNOTATION, help_text="The whole new set."
    )
    final = StrictBooleanField(
        required=False, help_text="Close (true) or reopen (false) adjudication."
    )


class RestoreSerializer(RefuseUnknownFields, serializers.Serializer):
    base_version = StrictIntegerField(min_value=0, max_value=MAX_INT)
    note = StrictCharField(
        required=False, allow_blank=True, max_length=MAX_NOTE_CHARS, trim_whitespace=False
    )


def span_data(span, *, gold: bool = False) -> dict:
    data = {
        "id": span.pk,
        "start": span.start,
        "end": span.end,
        "label": span.label.key,
        "text": span.text,
        "attributes": span.attributes or {},
    }
    if gold:
        data["source"] = span.source_id
    return data


def span_row_data(row: SpanRow, *, gold: bool = False) -> dict:
    """``span_data`` of a span a write answers with (``SaveResult.spans``)."""
    data = {"id": row.id, "start": row.start, "end": row.end, "label": row.label, "text": row.text}
    data["attributes"] = row.attributes or {}
    if gold:
        data["source"] = row.source
    return data


class AnnotationSerializer(serializers.Serializer):
    """An annotation's current state (``version`` 0 and no spans before the first save)."""

    article = serializers.IntegerField()
    annotator = serializers.CharField(allow_null=True, help_text="null for the gold.")
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Annotation.Status.choices)
    final = serializers.BooleanField(required=False, help_text="Gold only.")
    updated_at = serializers.DateTimeField(allow_null=True)
    spans = SpanSerializer(many=True)
    relations = RelationSerializer(many=True)
    warnings = SchemaWarningSerializer(
        many=True, help_text="Where the stored state no longer fits the project's schema."
    )


def current_span_data(annotations: list[Annotation]) -> dict[int, list[dict]]:
    """The current spans of saved annotations, as API dicts, in one query (values, not
    model instances: this is the hot path of every annotation read)."""
    ids = [a.pk for a in annotations if a.pk]
    gold = {a.pk for a in annotations if a.pk and a.is_gold}
    result: dict[int, list[dict]] = {pk: [] for pk in ids}
    if not ids:
        return result
    rows = (
        Span.objects.filter(annotation_id__in=ids, removed_in__isnull=True)
        .order_by("annotation_id", "start", "end", "label__order", "label__key")
        .values_list(
            "annotation_id", "id", "start", "end", "label__key", "text", "source_id", "attributes"
        )
    )
    for annotation_id, pk, start, end, label, text, source, attributes in rows:
        item = {"id": pk, "start": start, "end": end, "label": label, "text": text}
        item["attributes"] = attributes or {}
        if annotation_id in gold:
            item["source"] = source
        result[annotation_id].append(item)
    return result


def current_relations(annotations: list[Annotation]) -> dict[int, list[RelationKey]]:
    """The current relations of saved annotations, in one query."""
    ids = [a.pk for a in annotations if a.pk]
    result: dict[int, list[RelationKey]] = {pk: [] for pk in ids}
    if ids:
        rows = Relation.objects.filter(annotation_id__in=ids).current()
        for row in rows.values_list("annotation_id", *RELATION_KEY_FIELDS):
            result[row[0]].append(relation_key(row[1:]))
    return result


def _key(span: dict) -> SpanKey:
    return SpanKey(span["start"], span["end"], span["label"])


def facts_data(
    spans: list[dict],
    relations: Iterable[RelationKey],
    project_id: int | Callable[[], int],
    schema: FactSchema | ProjectFacts | None = None,
) -> dict:
    """``relations`` as the API writes them (``from``/``to`` index `spans`, in that order)
    and ``warnings`` where the state no longer fits the project's schema (read only when
    there are attributes or relations to check; `project_id` may be a function, called then).
    """
    index = {_key(span): i for i, span in enumerate(spans)}
    ordered = sorted(
        (r for r in relations if r.from_span in index and r.to_span in index),
        key=lambda r: (index[r.from_span], index[r.to_span], r.type),
    )
    data: dict[str, list] = {
        "relations": [
            {"from": index[r.from_span], "to": index[r.to_span], "type": r.type} for r in ordered
        ],
        "warnings": [],
    }
    attributes = {_key(span): span["attributes"] for span in spans if span.get("attributes")}
    if not attributes and not ordered:
        return data
    if schema is None:
        schema = fact_schema(project_id() if callable(project_id) else project_id)
    position = {r: j for j, r in enumerate(ordered)}
    state = State(frozenset(index), attributes, frozenset(ordered))
    for warning in schema_warnings(state, schema):
        if warning["span"] is not None:
            data["warnings"].append({"span": index[warning["span"]], "detail": warning["detail"]})
        else:
            where = position[warning["relation"]]
            data["warnings"].append({"relation": where, "detail": warning["detail"]})
    return data


def annotation_data(
    annotation: Annotation,
    spans: list[dict] | None = None,
    relations: Iterable[RelationKey] | None = None,
    schema: FactSchema | ProjectFacts | None = None,
) -> dict:
    """An annotation's state in the API's shape; `spans` from :func:`current_span_data` and
    `relations` from :func:`current_relations` (read here when not given)."""
    if spans is None:
        spans = current_span_data([annotation]).get(annotation.pk, [])
    if relations is None:
        relations = current_relations([annotation]).get(annotation.pk, [])
    data = {
        "article": annotation.article_id,
        "annotator": annotation.annotator.username if annotation.annotator_id else None,
        "version": annotation.version,
        "status": annotation.status,
        "updated_at": api_datetime(annotation.updated_at) if annotation.pk else None,
        "spans": spans,
        **facts_data(spans, relations, lambda: annotation.article.project_id, schema),
    }
    if annotation.is_gold:
        data["final"] = annotation.final
    return data


class VersionSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    description = serializers.SerializerMethodField(help_text='E.g. "+2 ACTOR, −1 SOURCE".')

    class Meta:
        model = AnnotationVersion
        fields = [
            "number",
            "author",
            "created_at",
            "status",
            "final",
            "note",
            "summary",
            "description",
            "span_count",
            "restored_from",
        ]

    def get_description(self, version: AnnotationVersion) -> str:
        return describe(version.summary)


class VersionDetailSerializer(VersionSerializer):
    spans = serializers.SerializerMethodField()
    relations = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()

    class Meta(VersionSerializer.Meta):
        fields = [*VersionSerializer.Meta.fields, "spans", "relations", "warnings"]

    def _content(self, version: AnnotationVersion) -> tuple[list[dict], dict]:
        cached = getattr(version, "_api_content", None)
        if cached is None:
            annotation = version.annotation
            gold = annotation.is_gold
            spans = [span_data(s, gold=gold) for s in annotation.spans_at(version.number)]
            rows = Relation.objects.filter(annotation=annotation).at(version.number)
            relations = [relation_key(row) for row in rows.values_list(*RELATION_KEY_FIELDS)]
            project = lambda: annotation.article.project_id  # noqa: E731
            cached = spans, facts_data(spans, relations, project)
            version._api_content = cached
        return cached

    @extend_schema_field(SpanSerializer(many=True))
    def get_spans(self, version: AnnotationVersion) -> list[dict]:
        return self._content(version)[0]

    @extend_schema_field(RelationSerializer(many=True))
    def get_relations(self, version: AnnotationVersion) -> list[dict]:
        return self._content(version)[1]["relations"]

    @extend_schema_field(SchemaWarningSerializer(many=True))
    def get_warnings(self, version: AnnotationVersion) -> list[dict]:
        return self._content(version)[1]["warnings"]


# --- exports and releases ---------------------------------------------------------------


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
