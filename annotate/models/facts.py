"""Facts: typed attributes that labels declare, relation types a project declares, and the
relations between spans, versioned as a temporal table exactly like ``Span``.

A relation is identified by its two ends' ``(start, end, label)`` and its type, not by span
row ids: a span whose attributes change gets a new row under the same key, and its relations
stay as they are. A relation row is immutable except for being closed (``removed_in``).
"""

from __future__ import annotations

from functools import cached_property

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from ..facts.schema import (
    ATTRIBUTE_KEY_RE,
    ATTRIBUTE_TYPES,
    AttributeSpec,
    FactSchema,
    RelationSpec,
    attribute_spec_problem,
)
from ..versioning import RelationKey, SpanKey
from .annotations import Annotation
from .projects import LABEL_KEY_RE, Label, Project


class AttributeDefinition(models.Model):
    """A typed attribute that spans of `label` may carry. Removing one never rewrites stored
    versions: values already given stay, and reads warn that they no longer fit."""

    class Type(models.TextChoices):
        CHOICE = "choice", "Choice"
        INTEGER = "integer", "Integer"
        TEXT = "text", "Text"
        BOOLEAN = "boolean", "Yes/no"

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="attributes")
    key = models.CharField(
        max_length=32,
        validators=[RegexValidator(ATTRIBUTE_KEY_RE, "Use a-z, digits and _, starting with a-z.")],
    )
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=8, choices=Type.choices)
    choices = models.JSONField(default=list, blank=True, help_text="Choice attributes only.")
    min = models.IntegerField(null=True, blank=True, help_text="Integer attributes only.")
    required = models.BooleanField(
        default=False, help_text="Needed to submit an annotation or make the gold final."
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["label", "order", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["label", "key"],
                name="attribute_key_unique_per_label",
                violation_error_message="The label already has an attribute with this key.",
            ),
            models.CheckConstraint(
                condition=Q(type__in=ATTRIBUTE_TYPES),
                name="attribute_type_known",
                violation_error_message="Unknown attribute type.",
            ),
            models.CheckConstraint(
                condition=Q(min__isnull=True) | Q(type="integer"),
                name="attribute_min_only_for_integers",
                violation_error_message="Only integer attributes have a minimum.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label.key}.{self.key}" if self.label_id else self.key

    def spec(self) -> AttributeSpec:
        return AttributeSpec(
            key=self.key,
            name=self.name,
            type=self.type,
            choices=tuple(self.choices or ()),
            min=self.min,
            required=self.required,
        )

    def clean(self) -> None:
        problem = attribute_spec_problem(self.spec())
        if problem:
            raise ValidationError(problem)


class RelationType(models.Model):
    """A kind of relation between two spans of a project, e.g. SAID_BY from a CASUALTY to a
    SOURCE. No labels in `from_labels` (or `to_labels`) means any label."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="relation_types")
    key = models.CharField(
        max_length=32,
        validators=[RegexValidator(LABEL_KEY_RE, "Use A-Z, digits and _, starting with a letter.")],
    )
    name = models.CharField(max_length=100)
    from_labels = models.ManyToManyField(Label, blank=True, related_name="relations_from")
    to_labels = models.ManyToManyField(Label, blank=True, related_name="relations_to")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["project", "order", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "key"],
                name="relation_type_key_unique_in_project",
                violation_error_message="A relation type with this key already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class ProjectFacts:
    """A project's fact schema, each half read on first use: the attribute specs per label
    key (one query) and the relation types with their ids (two queries). A write that
    touches no attribute and no relation reads neither."""

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id

    @cached_property
    def attributes(self) -> dict[str, list[AttributeSpec]]:
        result: dict[str, list[AttributeSpec]] = {}
        rows = (
            AttributeDefinition.objects.filter(label__project_id=self.project_id)
            .order_by("label__order", "label__key", "order", "key")
            .values_list("label__key", "key", "name", "type", "choices", "min", "required")
        )
        for label, key, name, kind, choices, low, required in rows:
            spec = AttributeSpec(key, name, kind, tuple(choices or ()), low, required)
            result.setdefault(label, []).append(spec)
        return result

    def specs_for(self, label: str) -> list[AttributeSpec]:
        return self.attributes.get(label, [])

    @cached_property
    def _types(self) -> tuple[dict[str, RelationSpec], dict[str, int]]:
        # One query: each type with each of its from and to labels (a few rows per type).
        rows = (
            RelationType.objects.filter(project_id=self.project_id)
            .order_by("order", "key")
            .values_list("pk", "key", "name", "from_labels__key", "to_labels__key")
        )
        found: dict[str, tuple[int, str, set[str], set[str]]] = {}
        for pk, key, name, from_label, to_label in rows:
            _, _, from_labels, to_labels = found.setdefault(key, (pk, name, set(), set()))
            if from_label is not None:
                from_labels.add(from_label)
            if to_label is not None:
                to_labels.add(to_label)
        specs = {
            key: RelationSpec(
                key,
                name,
                frozenset(from_labels) if from_labels else None,
                frozenset(to_labels) if to_labels else None,
            )
            for key, (_, name, from_labels, to_labels) in found.items()
        }
        return specs, {key: pk for key, (pk, *_) in found.items()}

    @property
    def relations(self) -> dict[str, RelationSpec]:
        return self._types[0]

    @property
    def type_ids(self) -> dict[str, int]:
        return self._types[1]

    @property
    def schema(self) -> FactSchema:
        return FactSchema(attributes=self.attributes, relations=self.relations)


def load_facts(project_id: int) -> ProjectFacts:
    """The project's fact schema, read lazily (see :class:`ProjectFacts`)."""
    return ProjectFacts(project_id)


def fact_schema(project_id: int) -> FactSchema:
    """The project's whole fact schema, read now (at most three queries)."""
    return ProjectFacts(project_id).schema


class RelationQuerySet(models.QuerySet["Relation"]):
    """Relations are history: the one change a row may get is being closed (`removed_in`)."""

    def update(self, **kwargs):
        if set(kwargs) != {"removed_in"}:
            raise ValidationError("Relations are immutable; only removed_in may be set.")
        return super().update(**kwargs)

    def delete(self):
        raise ValidationError("Relations are immutable; a removal is a new version.")

    def current(self) -> RelationQuerySet:
        return self.filter(removed_in__isnull=True)

    def at(self, number: int) -> RelationQuerySet:
        return self.filter(added_in__lte=number).filter(
            Q(removed_in__isnull=True) | Q(removed_in__gt=number)
        )


class Relation(models.Model):
    """A typed link from one span to another of the same annotation, alive from version
    `added_in` until `removed_in`; its ends are span keys, not span rows."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="relations")
    type = models.ForeignKey(RelationType, on_delete=models.PROTECT, related_name="relations")
    from_start = models.PositiveIntegerField()
    from_end = models.PositiveIntegerField()
    from_label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="+")
    to_start = models.PositiveIntegerField()
    to_end = models.PositiveIntegerField()
    to_label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="+")
    added_in = models.PositiveIntegerField()
    removed_in = models.PositiveIntegerField(null=True, blank=True)

    objects = RelationQuerySet.as_manager()

    class Meta:
        ordering = ["annotation", "from_start", "from_end", "to_start", "to_end"]
        constraints = [
            models.CheckConstraint(
                condition=Q(from_end__gt=F("from_start")) & Q(to_end__gt=F("to_start")),
                name="relation_ends_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(removed_in__isnull=True) | Q(removed_in__gt=F("added_in")),
                name="relation_removed_after_added",
            ),
            models.UniqueConstraint(
                fields=[
                    "annotation",
                    "type",
                    "from_start",
                    "from_end",
                    "from_label",
                    "to_start",
                    "to_end",
                    "to_label",
                ],
                condition=Q(removed_in__isnull=True),
                name="relation_unique_while_current",
            ),
        ]
        indexes = [
            models.Index(fields=["annotation", "removed_in"], name="relation_current_idx"),
            models.Index(fields=["annotation", "added_in"], name="relation_added_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.type_id}: [{self.from_start}:{self.from_end}] → [{self.to_start}:{self.to_end}]"
        )

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("Relations are immutable; a change is a new version.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Relations are immutable; a removal is a new version.")


RELATION_KEY_FIELDS = (
    "from_start",
    "from_end",
    "from_label__key",
    "to_start",
    "to_end",
    "to_label__key",
    "type__key",
)


def relation_key(row: tuple) -> RelationKey:
    """A RelationKey from a ``values_list(*RELATION_KEY_FIELDS)`` row."""
    fs, fe, fl, ts, te, tl, kind = row
    return RelationKey(SpanKey(fs, fe, fl), SpanKey(ts, te, tl), kind)
