"""Writing a project's fact schema: typed attributes on labels, and relation types.

The manager's schema page, the API's project POST/PATCH and the label POST all write through
here, so one set of rules holds everywhere:

- an attribute definition is checked by the pure ``facts.schema.attribute_spec_problem``
  (the admin's ``clean()`` asks the same function);
- removing an attribute that spans carry is allowed: stored versions are never rewritten,
  and reads list the values that no longer fit (``facts.schema.schema_warnings``);
- a relation type that any relation uses, current or in a stored version, cannot be removed
  (:class:`InUse`, 409, says how many): those versions would lose their meaning.

Each write locks the project row, so two managers' changes are applied one after the other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from django.db import IntegrityError, transaction

from ..facts.schema import (
    ATTRIBUTE_KEY_RE,
    ATTRIBUTE_TYPES,
    AttributeSpec,
    RelationSpec,
    attribute_spec_problem,
)
from ..models import LABEL_KEY_RE, AttributeDefinition, Label, Project, Relation, RelationType, Span
from .annotations import AnnotationError

MAX_NAME_CHARS = 100
MAX_ATTRIBUTES_PER_LABEL = 50
MAX_RELATION_TYPES = 100
MAX_ORDER = 32_767  # PositiveSmallIntegerField


class SchemaError(AnnotationError):
    """A definition that cannot be stored; ``errors`` maps each field to its messages."""

    status = 400


class InUse(AnnotationError):
    """A relation type that relations use cannot be removed; nothing was written."""

    status = 409


class RemovedMeanwhile(AnnotationError):
    """The definition being changed was removed by another request; nothing was written."""

    status = 409


@dataclass(frozen=True)
class RelationTypeInput:
    """A relation type as a manager gives it; no label keys on a side means any label."""

    key: str
    name: str
    from_labels: tuple[str, ...] = ()
    to_labels: tuple[str, ...] = ()

    def spec(self) -> RelationSpec:
        return RelationSpec(
            self.key,
            self.name,
            frozenset(self.from_labels) or None,
            frozenset(self.to_labels) or None,
        )


# --- checks -------------------------------------------------------------------------------


def _name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return "a name is required"
    if len(name) > MAX_NAME_CHARS:
        return f"a name has at most {MAX_NAME_CHARS} characters"
    return None


def attribute_problems(spec: AttributeSpec) -> dict[str, str]:
    """What is wrong with an attribute definition, per field (key, name, type, choices,
    min, required); empty when nothing is. The rule is the pure module's; this only says
    which field it is about, for a form."""
    problems: dict[str, str] = {}
    if (problem := _name_problem(spec.name)) is not None:
        problems["name"] = problem
    problem = attribute_spec_problem(spec)
    if problem is None:
        return problems
    if not isinstance(spec.key, str) or not re.fullmatch(ATTRIBUTE_KEY_RE, spec.key):
        field = "key"
    elif spec.type not in ATTRIBUTE_TYPES:
        field = "type"
    elif attribute_spec_problem(replace(spec, min=None, required=False)) is not None:
        field = "choices"  # the pure check looks at choices before min and required
    elif attribute_spec_problem(replace(spec, required=False)) is not None:
        field = "min"
    else:
        field = "required"
    problems[field] = problem
    return problems


def relation_type_problems(relation: RelationTypeInput, label_keys: set[str]) -> dict[str, str]:
    """What is wrong with a relation type, per field (key, name, from_labels, to_labels)."""
    problems: dict[str, str] = {}
    if not isinstance(relation.key, str) or not re.fullmatch(LABEL_KEY_RE, relation.key):
        problems["key"] = (
            f"relation type key {str(relation.key)[:40]!r}: use A-Z, digits and _, starting "
            "with a letter (at most 32)"
        )
    if (problem := _name_problem(relation.name)) is not None:
        problems["name"] = problem
    for field in ("from_labels", "to_labels"):
        unknown = sorted(set(getattr(relation, field)) - label_keys)
        if unknown:
            problems[field] = f"{', '.join(unknown)[:100]} is not a label of this project"
    return problems


def _refuse(problems: dict[str, str], what: str) -> None:
    if problems:
        detail = "; ".join(problems.values())
        raise SchemaError(
            f"{what}: {detail}.", {field: [message] for field, message in problems.items()}
        )


def _check_order(order: int | None) -> None:
    if order is not None and not 0 <= order <= MAX_ORDER:
        raise SchemaError(
            f"order must be from 0 to {MAX_ORDER}.", {"order": [f"from 0 to {MAX_ORDER}"]}
        )


def _lock(project: Project) -> None:
    Project.objects.select_for_update().filter(pk=project.pk).exists()


def _check_still_there(model, pk: int, what: str) -> None:
    """A change to a definition someone removed meanwhile would bring it back: refuse."""
    if not model.objects.filter(pk=pk).exists():
        raise RemovedMeanwhile(f"The {what} was removed meanwhile; nothing was saved.")


# --- usage --------------------------------------------------------------------------------


def attribute_usage(attribute: AttributeDefinition) -> int:
    """How many current spans (of any annotation) carry a value for the attribute."""
    return Span.objects.filter(
        label_id=attribute.label_id,
        removed_in__isnull=True,
        attributes__has_key=attribute.key,
    ).count()


def relation_type_usage(relation_type: RelationType) -> int:
    """How many stored relations, current or in earlier versions, are of this type."""
    return Relation.objects.filter(type=relation_type).count()


# --- attributes ---------------------------------------------------------------------------


def save_attribute(
    *,
    label: Label,
    spec: AttributeSpec,
    order: int | None = None,
    attribute: AttributeDefinition | None = None,
) -> AttributeDefinition:
    """Add an attribute to `label` (`attribute` None; at the end unless `order` is given),
    or change `attribute`. SchemaError names each field that does not fit, or a key the
    label already has. Values stored under an old key stay as they are."""
    _refuse(attribute_problems(spec), f"Attribute {str(spec.key)[:40]}")
    _check_order(order)
    with transaction.atomic():
        _lock(label.project)
        others = AttributeDefinition.objects.filter(label=label)
        if attribute is not None:
            _check_still_there(AttributeDefinition, attribute.pk, f"attribute {attribute.key}")
            others = others.exclude(pk=attribute.pk)
        existing = list(others.values_list("key", "order"))
        if spec.key in {key for key, _ in existing}:
            raise SchemaError(
                f"{label.key} already has an attribute {spec.key}.",
                {"key": [f"{label.key} already has an attribute with this key"]},
            )
        if attribute is None and len(existing) >= MAX_ATTRIBUTES_PER_LABEL:
            raise SchemaError(f"A label has at most {MAX_ATTRIBUTES_PER_LABEL} attributes.")
        if order is None:
            order = (
                attribute.order
                if attribute is not None
                else min(max((o for _, o in existing), default=-1) + 1, MAX_ORDER)
            )
        target = attribute or AttributeDefinition(label=label)
        target.key, target.name, target.type = spec.key, spec.name.strip(), spec.type
        target.choices = list(spec.choices) if spec.type == "choice" else []
        target.min = spec.min if spec.type == "integer" else None
        target.required, target.order = spec.required, order
        try:
            with transaction.atomic():
                target.save()
        except IntegrityError:
            raise SchemaError(
                f"{label.key} already has an attribute {spec.key}.",
                {"key": [f"{label.key} already has an attribute with this key"]},
            ) from None
    return target


def remove_attribute(*, attribute: AttributeDefinition) -> int:
    """Remove the definition; the values spans carry stay in every stored version (reads
    warn about them). Returns how many current spans carried a value."""
    with transaction.atomic():
        _lock(attribute.label.project)
        used = attribute_usage(attribute)
        AttributeDefinition.objects.filter(pk=attribute.pk).delete()
    return used


# --- relation types -----------------------------------------------------------------------


def save_relation_type(
    *,
    project: Project,
    relation: RelationTypeInput,
    order: int | None = None,
    relation_type: RelationType | None = None,
) -> RelationType:
    """Add a relation type to the project (`relation_type` None) or change one. Its from
    and to labels are label keys of the project; none on a side means any label. Changing
    the labels of a type in use is allowed: relations stored before are kept and reads warn
    about those that no longer fit."""
    _check_order(order)
    with transaction.atomic():
        _lock(project)
        labels = {label.key: label for label in Label.objects.filter(project=project)}
        _refuse(relation_type_problems(relation, set(labels)), f"Relation type {relation.key}")
        others = RelationType.objects.filter(project=project)
        if relation_type is not None:
            _check_still_there(RelationType, relation_type.pk, f"relation type {relation_type.key}")
            others = others.exclude(pk=relation_type.pk)
        existing = list(others.values_list("key", "order"))
        if relation.key in {key for key, _ in existing}:
            raise SchemaError(
                f"The project already has a relation type {relation.key}.",
                {"key": ["the project already has a relation type with this key"]},
            )
        if relation_type is None and len(existing) >= MAX_RELATION_TYPES:
            raise SchemaError(f"A project has at most {MAX_RELATION_TYPES} relation types.")
        if order is None:
            order = (
                relation_type.order
                if relation_type is not None
                else min(max((o for _, o in existing), default=-1) + 1, MAX_ORDER)
            )
        target = relation_type or RelationType(project=project)
        target.key, target.name, target.order = relation.key, relation.name.strip(), order
        try:
            with transaction.atomic():
                target.save()
        except IntegrityError:
            raise SchemaError(
                f"The project already has a relation type {relation.key}.",
                {"key": ["the project already has a relation type with this key"]},
            ) from None
        target.from_labels.set([labels[key] for key in relation.from_labels])
        target.to_labels.set([labels[key] for key in relation.to_labels])
    return target


def remove_relation_type(*, relation_type: RelationType) -> None:
    """Remove a relation type no relation uses; InUse (nothing written) otherwise."""
    with transaction.atomic():
        _lock(relation_type.project)
        used = relation_type_usage(relation_type)
        if used:
            raise InUse(
                f"{relation_type.key} cannot be removed: {used} relation"
                f"{'s use' if used != 1 else ' uses'} it (counting earlier versions, which "
                "are never rewritten). Rename it or change its labels instead."
            )
        relation_type.delete()


# --- the whole schema, as the API gives it ------------------------------------------------


def replace_schema(
    *,
    project: Project,
    attributes: Mapping[str, Sequence[AttributeSpec]] | None = None,
    relation_types: Sequence[RelationTypeInput] | None = None,
) -> None:
    """Make the schema what the API sent, in one transaction: for each label key in
    `attributes`, its attributes become that list (in that order; kept by key, added,
    changed, removed); `relation_types` (None: unchanged) becomes the project's list the
    same way. SchemaError lists every problem by path; InUse when a type to be removed is
    in use. Nothing is written unless everything is."""
    with transaction.atomic():
        _lock(project)
        labels = {label.key: label for label in Label.objects.filter(project=project)}
        errors: dict[str, list[str]] = {}
        for label_key, specs in (attributes or {}).items():
            _check_attribute_list(label_key, specs, labels, errors)
        if relation_types is not None:
            _check_relation_list(relation_types, set(labels), errors)
        if errors:
            first = next(iter(errors.items()))
            raise SchemaError(f"{first[0]}: {first[1][0]}.", errors)
        for label_key, specs in (attributes or {}).items():
            _replace_attributes(labels[label_key], specs)
        if relation_types is not None:
            _replace_relation_types(project, relation_types)


def _check_attribute_list(
    label_key: str,
    specs: Sequence[AttributeSpec],
    labels: Mapping[str, Label],
    errors: dict[str, list[str]],
) -> None:
    where = f"labels.{label_key}.attributes"
    if label_key not in labels:
        errors[f"labels.{label_key}"] = [f"{label_key} is not a label of this project"]
        return
    if len(specs) > MAX_ATTRIBUTES_PER_LABEL:
        errors[where] = [f"a label has at most {MAX_ATTRIBUTES_PER_LABEL} attributes"]
        return
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        for field, problem in attribute_problems(spec).items():
            errors.setdefault(f"{where}[{index}].{field}", []).append(problem)
        if spec.key in seen:
            errors.setdefault(f"{where}[{index}].key", []).append(
                f"attribute {spec.key} appears twice"
            )
        seen.add(spec.key)


def _check_relation_list(
    relation_types: Sequence[RelationTypeInput], label_keys: set[str], errors: dict[str, list[str]]
) -> None:
    if len(relation_types) > MAX_RELATION_TYPES:
        errors["relation_types"] = [f"a project has at most {MAX_RELATION_TYPES} relation types"]
        return
    seen: set[str] = set()
    for index, relation in enumerate(relation_types):
        for field, problem in relation_type_problems(relation, label_keys).items():
            field = {"from_labels": "from", "to_labels": "to"}.get(field, field)
            errors.setdefault(f"relation_types[{index}].{field}", []).append(problem)
        if relation.key in seen:
            errors.setdefault(f"relation_types[{index}].key", []).append(
                f"relation type {relation.key} appears twice"
            )
        seen.add(relation.key)


def _replace_attributes(label: Label, specs: Sequence[AttributeSpec]) -> None:
    current = {a.key: a for a in AttributeDefinition.objects.filter(label=label)}
    wanted = {spec.key for spec in specs}
    AttributeDefinition.objects.filter(label=label).exclude(key__in=wanted).delete()
    for order, spec in enumerate(specs):
        save_attribute(label=label, spec=spec, order=order, attribute=current.get(spec.key))


def _replace_relation_types(project: Project, relation_types: Sequence[RelationTypeInput]) -> None:
    current = {t.key: t for t in RelationType.objects.filter(project=project)}
    wanted = {relation.key for relation in relation_types}
    for key, relation_type in current.items():
        if key not in wanted:
            remove_relation_type(relation_type=relation_type)
    for order, relation in enumerate(relation_types):
        save_relation_type(
            project=project, relation=relation, order=order, relation_type=current.get(relation.key)
        )
