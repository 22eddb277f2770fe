"""Annotations: spans, relations, writes, versions (an editor's and the gold)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ...facts.schema import FactSchema, schema_warnings
from ...models import (
    Annotation,
    AnnotationVersion,
    Span,
)
from ...models.facts import RELATION_KEY_FIELDS, ProjectFacts, Relation, fact_schema, relation_key
from ...services.annotations import (
    MAX_NOTE_CHARS,
    MAX_RELATIONS_PER_ANNOTATION,
    MAX_SPANS_PER_ANNOTATION,
    InvalidSpans,
    RelationInput,
    SpanInput,
    SpanRow,
)
from ...versioning import RelationKey, SpanKey, State, describe
from .articles import api_datetime
from .fields import (
    MAX_INT,
    RefuseUnknownFields,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
)


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
