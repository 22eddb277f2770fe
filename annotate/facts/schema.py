"""A project's fact schema and the rules that check annotations against it. Pure: no Django.

A label may declare typed attributes (:class:`AttributeSpec`); a project declares relation
types (:class:`RelationSpec`) with the labels a relation may start from and end at. Writes
are checked strictly (:func:`check_attributes`, :func:`relation_problems`); a stored state
is never rewritten when the schema changes later, so reads list what no longer fits
(:func:`schema_warnings`) instead of failing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from ..versioning import RelationKey, SpanKey, State

ATTRIBUTE_TYPES = ("choice", "integer", "text", "boolean")
ATTRIBUTE_KEY_RE = r"^[a-z][a-z0-9_]{0,31}$"
MAX_TEXT_CHARS = 500
MAX_CHOICES = 100
MAX_CHOICE_CHARS = 100
MIN_INTEGER, MAX_INTEGER = -(2**31), 2**31 - 1


class FactError(ValueError):
    """An attribute value or a relation that does not fit the schema; the message says which
    and what is wrong, for a person."""


@dataclass(frozen=True)
class AttributeSpec:
    """One typed attribute of a label: ``choice`` (one of ``choices``), ``integer`` (at
    least ``min`` when set), ``text`` (at most MAX_TEXT_CHARS) or ``boolean``."""

    key: str
    name: str
    type: str
    choices: tuple[str, ...] = ()
    min: int | None = None
    required: bool = False


@dataclass(frozen=True)
class RelationSpec:
    """A relation type; ``None`` for ``from_labels``/``to_labels`` means any label."""

    key: str
    name: str
    from_labels: frozenset[str] | None = None
    to_labels: frozenset[str] | None = None

    def allows(self, from_label: str, to_label: str) -> bool:
        return (self.from_labels is None or from_label in self.from_labels) and (
            self.to_labels is None or to_label in self.to_labels
        )

    def why_not(self, from_label: str, to_label: str) -> str | None:
        """Why a relation of this type cannot go from a `from_label` span to a `to_label`
        span (None: it can)."""
        if self.from_labels is not None and from_label not in self.from_labels:
            return f"{self.key} cannot start from a {from_label} span ({_one_of(self.from_labels)})"
        if self.to_labels is not None and to_label not in self.to_labels:
            return f"{self.key} cannot end at a {to_label} span ({_one_of(self.to_labels)})"
        return None


def _one_of(labels: frozenset[str]) -> str:
    return f"only {', '.join(sorted(labels))}" if labels else "no label is allowed"


@dataclass(frozen=True)
class FactSchema:
    """A project's schema: attribute specs per label key, relation types by key."""

    attributes: Mapping[str, Sequence[AttributeSpec]] = field(default_factory=dict)
    relations: Mapping[str, RelationSpec] = field(default_factory=dict)

    def specs_for(self, label: str) -> Sequence[AttributeSpec]:
        return self.attributes.get(label, ())


# Defining a schema


def attribute_spec_problem(spec: AttributeSpec) -> str | None:
    """What is wrong with an attribute definition (None: nothing)."""
    if not isinstance(spec.key, str) or not re.fullmatch(ATTRIBUTE_KEY_RE, spec.key):
        return (
            f"attribute key {spec.key!r}: use a-z, digits and _, starting with a letter "
            "(at most 32)"
        )
    if spec.type not in ATTRIBUTE_TYPES:
        return f"attribute {spec.key}: type must be one of {', '.join(ATTRIBUTE_TYPES)}"
    if spec.type == "choice":
        if not spec.choices:
            return f"attribute {spec.key}: a choice attribute needs a list of choices"
        if len(spec.choices) > MAX_CHOICES:
            return f"attribute {spec.key}: at most {MAX_CHOICES} choices"
        for choice in spec.choices:
            if not isinstance(choice, str) or not choice.strip():
                return f"attribute {spec.key}: each choice must be a non-empty string"
            if len(choice) > MAX_CHOICE_CHARS:
                return f"attribute {spec.key}: a choice has at most {MAX_CHOICE_CHARS} characters"
        if len(set(spec.choices)) != len(spec.choices):
            return f"attribute {spec.key}: a choice appears twice"
    elif spec.choices:
        return f"attribute {spec.key}: only a choice attribute has choices"
    if spec.min is not None:
        if spec.type != "integer":
            return f"attribute {spec.key}: only an integer attribute has a minimum"
        if not _is_int(spec.min) or not MIN_INTEGER <= spec.min <= MAX_INTEGER:
            return f"attribute {spec.key}: min must be an integer"
    if not isinstance(spec.required, bool):
        return f"attribute {spec.key}: required must be true or false"
    return None


# Checking a write


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def value_problem(spec: AttributeSpec, value: object) -> str | None:
    """Why `value` does not fit the attribute (None: it fits). ``True`` is not an integer."""
    name = spec.key
    if spec.type == "choice":
        if not isinstance(value, str) or value not in spec.choices:
            return f"{name} must be one of {', '.join(spec.choices)}, not {_shown(value)}"
    elif spec.type == "integer":
        if not _is_int(value):
            return f"{name} must be an integer, not {_shown(value)}"
        low = MIN_INTEGER if spec.min is None else max(spec.min, MIN_INTEGER)
        if value < low:  # type: ignore[operator]
            return f"{name} must be at least {low}, not {value}"
        if value > MAX_INTEGER:  # type: ignore[operator]
            return f"{name} must be at most {MAX_INTEGER}, not {value}"
    elif spec.type == "boolean":
        if not isinstance(value, bool):
            return f"{name} must be true or false, not {_shown(value)}"
    elif spec.type == "text":
        if not isinstance(value, str):
            return f"{name} must be text, not {_shown(value)}"
        if len(value) > MAX_TEXT_CHARS:
            return f"{name} is too long: at most {MAX_TEXT_CHARS} characters, not {len(value)}"
    else:
        return f"{name} has an unknown type {spec.type!r}"
    return None


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, (int, float)):
        return str(value)
    return f"a {'list' if isinstance(value, list) else type(value).__name__}"


def check_attributes(
    label: str, values: object, specs: Sequence[AttributeSpec]
) -> dict[str, object]:
    """The attribute values of one span of `label`, normalised: nulls (and empty text)
    dropped, keys in the schema's order. FactError names the attribute and what is wrong:
    an unknown key, a value of the wrong type, a choice not in the list, a number below the
    minimum, a text too long."""
    if not isinstance(values, Mapping):
        raise FactError("attributes must be an object of attribute keys and values")
    by_key = {spec.key: spec for spec in specs}
    for key in values:
        if key not in by_key:
            known = ", ".join(by_key) if by_key else "none"
            raise FactError(
                f"attribute {str(key)[:40]!r} is not an attribute of {label} (its attributes: "
                f"{known})"
            )
    result: dict[str, object] = {}
    for spec in specs:
        value = values.get(spec.key)
        if value is None or (spec.type == "text" and value == ""):
            continue
        problem = value_problem(spec, value)
        if problem:
            raise FactError(f"attribute {problem}")
        result[spec.key] = value
    return result


def missing_required(values: Mapping[str, object], specs: Sequence[AttributeSpec]) -> list[str]:
    """The keys of required attributes that `values` does not give."""
    return [s.key for s in specs if s.required and values.get(s.key) is None]


def relation_problems(
    relations: Sequence[tuple[object, object, object]],
    spans: Sequence[SpanKey],
    types: Mapping[str, RelationSpec],
) -> list[tuple[int, str]]:
    """Every problem of relations given as ``(from index, to index, type key)`` into
    `spans`, as ``(relation index, detail)``: an end that is not a span index, a type the
    project does not have, labels the type does not allow, a self-loop, a relation given
    twice."""
    problems: list[tuple[int, str]] = []
    seen: set[RelationKey] = set()
    for index, (source, target, kind) in enumerate(relations):
        problem = None
        for name, end in (("from", source), ("to", target)):
            if not _is_int(end) or not 0 <= end < len(spans):  # type: ignore[operator]
                problem = f"{name} must be the index of a span (0 to {len(spans) - 1}), not " + (
                    _shown(end)
                )
                break
        if problem is None and (not isinstance(kind, str) or kind not in types):
            known = ", ".join(sorted(types)) or "none"
            problem = f"type {_shown(kind)} is not a relation type of this project ({known})"
        if problem is None and source == target:
            problem = "a relation cannot go from a span to itself"
        if problem is None:
            key = RelationKey(spans[source], spans[target], kind)  # type: ignore[index]
            problem = types[kind].why_not(key.from_span.label, key.to_span.label)  # type: ignore[index]
            if problem is None and key in seen:
                problem = "the same relation (ends and type) appears twice"
            seen.add(key)
        if problem:
            problems.append((index, problem))
    return problems


def relation_fits(relation: RelationKey, types: Mapping[str, RelationSpec]) -> bool:
    """Whether a stored relation still fits the schema (its type exists and allows its
    ends' labels)."""
    spec = types.get(relation.type)
    return spec is not None and spec.allows(relation.from_span.label, relation.to_span.label)


# Reading a stored state


class SchemaWarning(TypedDict):
    span: SpanKey | None
    relation: RelationKey | None
    detail: str


def schema_warnings(state: State, schema: FactSchema) -> list[SchemaWarning]:
    """What a stored state no longer fits after the schema changed: an attribute the label
    no longer has, a value the attribute no longer accepts (a choice removed, a new
    minimum, another type), a relation type no longer allowed between those labels. For
    display: stored versions are never rewritten."""
    warnings: list[SchemaWarning] = []
    for span in sorted(state.attributes):
        by_key = {spec.key: spec for spec in schema.specs_for(span.label)}
        for key, value in sorted(state.attributes[span].items()):
            spec = by_key.get(key)
            where = f"{span.label} {span.start}:{span.end}"
            if spec is None:
                detail = f"{where}: attribute {key} is no longer in the schema of {span.label}"
            else:
                problem = value_problem(spec, value)
                if problem is None:
                    continue
                detail = f"{where}: {problem} (the schema changed)"
            warnings.append({"span": span, "relation": None, "detail": detail})
    for relation in sorted(state.relations):
        spec = schema.relations.get(relation.type)
        why = (
            f"relation type {relation.type} no longer exists"
            if spec is None
            else spec.why_not(relation.from_span.label, relation.to_span.label)
        )
        if why:
            f, t = relation.from_span, relation.to_span
            detail = (
                f"{relation.type} from {f.label} {f.start}:{f.end} to {t.label} "
                f"{t.start}:{t.end}: {why} (the schema changed)"
            )
            warnings.append({"span": None, "relation": relation, "detail": detail})
    return warnings
