"""What the labelling page shows of facts: each current span's attributes and what they read
as at a glance, its relations out and in, and what no longer fits the schema. Read-only;
the writes are ``services.labelling.set_span_attributes``, ``add_relation`` and
``remove_relation``.

The page only ever shows the editor's own annotation (blind labelling): everything here is
read from that one annotation. The queries do not grow with the number of spans or
relations: the schema (three), the attributes (one), the relations (one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..facts.display import attributes_text
from ..facts.proposals import fit_to_schema, propose
from ..facts.schema import AttributeSpec, FactSchema, RelationSpec, schema_warnings
from ..models import Annotation
from ..models.facts import load_facts
from ..versioning import RelationKey, SpanKey, State
from .labelling import PageSpan, RelationRow, current_relation_rows


@dataclass(frozen=True, slots=True)
class Link:
    """One relation as the span at one of its ends shows it: `outgoing` from this span to
    `other`, or incoming from `other`."""

    relation_id: int
    type: str
    name: str
    other: PageSpan
    outgoing: bool


@dataclass
class PageFacts:
    """The facts of an annotation's current spans, by span id."""

    schema: FactSchema
    attributes: dict[int, dict[str, object]] = field(default_factory=dict)
    summaries: dict[int, str] = field(default_factory=dict)
    links: dict[int, list[Link]] = field(default_factory=dict)
    warnings: dict[int, list[str]] = field(default_factory=dict)
    relation_count: int = 0

    def specs_for(self, label: str) -> Sequence[AttributeSpec]:
        return self.schema.specs_for(label)

    def linked_ids(self, span_id: int) -> list[int]:
        return sorted({link.other.pk for link in self.links.get(span_id, ())})

    def relation_types(self) -> list[RelationSpec]:
        return list(self.schema.relations.values())


def page_facts(annotation: Annotation, project_id: int, spans: Sequence[PageSpan]) -> PageFacts:
    """The facts of `spans` (the annotation's current spans, as ``current_span_rows`` reads
    them, attributes included) in project `project_id`."""
    schema = load_facts(project_id).schema
    facts = PageFacts(schema)
    if not annotation.pk or not spans:
        return facts
    by_key = {SpanKey(s.start, s.end, s.label): s for s in spans}
    facts.attributes = {s.pk: dict(s.attributes) for s in spans if s.attributes}
    for span in spans:
        values = facts.attributes.get(span.pk)
        if values:
            facts.summaries[span.pk] = attributes_text(values, schema.specs_for(span.label))
    # Relation types are protected while relations use them: no types, no relations.
    relations = current_relation_rows(annotation) if schema.relations else []
    facts.relation_count = len(relations)
    _add_links(facts, relations, by_key)
    _add_warnings(facts, spans, relations, by_key)
    return facts


def _add_links(
    facts: PageFacts, relations: Iterable[RelationRow], by_key: Mapping[SpanKey, PageSpan]
) -> None:
    for row in relations:
        source, target = by_key.get(row.from_span), by_key.get(row.to_span)
        if source is None or target is None:
            continue  # cannot happen: a relation's ends are current spans
        spec = facts.schema.relations.get(row.type)
        name = spec.name if spec else row.type
        facts.links.setdefault(source.pk, []).append(Link(row.pk, row.type, name, target, True))
        facts.links.setdefault(target.pk, []).append(Link(row.pk, row.type, name, source, False))


def _add_warnings(
    facts: PageFacts,
    spans: Sequence[PageSpan],
    relations: Sequence[RelationRow],
    by_key: Mapping[SpanKey, PageSpan],
) -> None:
    """What no longer fits the schema (it changed after the values were saved), under the
    span concerned (a relation's under the span it starts from)."""
    keys = {s.pk: SpanKey(s.start, s.end, s.label) for s in spans}
    state = State(
        frozenset(by_key),
        {keys[pk]: values for pk, values in facts.attributes.items() if pk in keys},
        frozenset(RelationKey(r.from_span, r.to_span, r.type) for r in relations),
    )
    for warning in schema_warnings(state, facts.schema):
        key = warning["span"] or (warning["relation"].from_span if warning["relation"] else None)
        span = by_key.get(key) if key else None
        if span is not None:
            facts.warnings.setdefault(span.pk, []).append(warning["detail"])


# One span

MAX_TARGETS = 300


@dataclass(frozen=True, slots=True)
class Field:
    """One attribute input: its spec, the value to show, whether it was proposed, and
    whether a saved choice is no longer among the choices (the schema changed)."""

    spec: AttributeSpec
    value: object
    proposed: bool
    unknown_choice: bool


@dataclass(frozen=True, slots=True)
class Target:
    """A relation the span could get, for the list form: ``TYPE>ID`` relates this span to
    span ID, ``TYPE<ID`` span ID to this one."""

    value: str
    text: str


@dataclass
class SpanFacts:
    """What the facts panel shows for one span: the attribute inputs with the values to fill
    in (the saved ones, or the proposed ones while nothing is saved), its relations, and the
    relations it could get."""

    span: PageSpan
    specs: Sequence[AttributeSpec]
    values: dict[str, object]
    proposed: bool
    summary: str
    links: list[Link]
    warnings: list[str]
    relation_types: list[RelationSpec]
    targets: list[Target]

    @property
    def fields(self) -> list[Field]:
        return [
            Field(
                spec,
                self.values.get(spec.key),
                self.proposed and spec.key in self.values,
                spec.type == "choice"
                and self.values.get(spec.key) is not None
                and self.values.get(spec.key) not in spec.choices,
            )
            for spec in self.specs
        ]


def proposed_values(span: PageSpan, specs: Sequence[AttributeSpec]) -> dict[str, object]:
    """What the words of the span tell about its attributes, fitted to the label's schema."""
    if not specs:
        return {}
    return fit_to_schema(propose(span.text), specs)


def _targets(
    span: PageSpan, types: Sequence[RelationSpec], spans: Sequence[PageSpan], links: list[Link]
) -> list[Target]:
    have = {(link.type, link.outgoing, link.other.pk) for link in links}
    found: list[Target] = []
    for t in types:
        for other in spans:
            if other.pk == span.pk or len(found) >= MAX_TARGETS:
                continue
            if t.allows(span.label, other.label) and (t.key, True, other.pk) not in have:
                found.append(Target(f"{t.key}>{other.pk}", f"{t.name} → {other.quote}"))
            if t.allows(other.label, span.label) and (t.key, False, other.pk) not in have:
                found.append(Target(f"{t.key}<{other.pk}", f"← {t.name}: {other.quote}"))
    return found


def span_facts(facts: PageFacts, span: PageSpan, spans: Sequence[PageSpan] = ()) -> SpanFacts:
    """The facts panel of `span` among the current `spans`: values are proposed only while
    the span has no saved value, and are never saved until the editor confirms them."""
    specs = facts.specs_for(span.label)
    saved = facts.attributes.get(span.pk, {})
    proposed = bool(specs) and not saved
    values = proposed_values(span, specs) if proposed else dict(saved)
    links = facts.links.get(span.pk, [])
    types = [
        t
        for t in facts.relation_types()
        if any(t.allows(span.label, o.label) or t.allows(o.label, span.label) for o in spans)
    ]
    return SpanFacts(
        span=span,
        specs=specs,
        values=values,
        proposed=proposed,
        summary=attributes_text(values, specs),
        links=links,
        warnings=facts.warnings.get(span.pk, []),
        relation_types=types,
        targets=_targets(span, types, spans, links),
    )
