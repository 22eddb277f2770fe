"""Adjudicating facts: which attribute values and relations the gold takes from the editors,
and where the editors disagree. Pure.

- **One editor's**: a span accepted "from editor X" takes X's values for it; a relation goes
  into the gold when X has it.
- **Majority**: per attribute, the value most of the editors who marked that exact span gave
  (editors who gave no value do not vote); a tie gives no value and is a disagreement. A
  relation goes into the gold when more than half of the editors who marked both its ends
  have it.

Either way a relation goes into the gold only once both its ends are there; a relation whose
second end is accepted later is *pending* until then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..versioning import RelationKey, SpanKey

MAJORITY = "majority"


@dataclass(frozen=True)
class EditorFacts:
    """One editor's spans, their attribute values and their relations."""

    spans: frozenset[SpanKey] = frozenset()
    attributes: Mapping[SpanKey, Mapping[str, object]] = field(default_factory=dict)
    relations: frozenset[RelationKey] = frozenset()


@dataclass(frozen=True)
class ChosenValues:
    """The attribute values a gold span takes, and from whom each came."""

    values: dict[str, object]
    sources: dict[str, tuple[str, ...]]  # attribute key -> the editors who gave that value
    ties: tuple[str, ...] = ()  # majority only: attributes whose votes tied (no value)


def value_votes(
    span: SpanKey, facts: Mapping[str, EditorFacts]
) -> dict[str, dict[object, list[str]]]:
    """Per attribute key, each value given for `span` and the editors (by name) who gave it."""
    votes: dict[str, dict[object, list[str]]] = {}
    for editor in sorted(facts):
        work = facts[editor]
        if span not in work.spans:
            continue
        for key, value in sorted(work.attributes.get(span, {}).items()):
            if value is not None:
                votes.setdefault(key, {}).setdefault(value, []).append(editor)
    return votes


def values_for(span: SpanKey, facts: Mapping[str, EditorFacts], source: str) -> ChosenValues:
    """The values `span` takes into the gold from `source`: an editor's name or MAJORITY."""
    if source != MAJORITY:
        work = facts.get(source)
        given = dict(work.attributes.get(span, {})) if work and span in work.spans else {}
        given = {k: v for k, v in given.items() if v is not None}
        return ChosenValues(given, dict.fromkeys(given, (source,)))
    values: dict[str, object] = {}
    sources: dict[str, tuple[str, ...]] = {}
    ties: list[str] = []
    for key, by_value in value_votes(span, facts).items():
        ranked = sorted(by_value.items(), key=lambda item: -len(item[1]))
        if len(ranked) > 1 and len(ranked[0][1]) == len(ranked[1][1]):
            ties.append(key)
            continue
        value, editors = ranked[0]
        values[key] = value
        sources[key] = tuple(editors)
    return ChosenValues(values, sources, tuple(ties))


def relation_supporters(relation: RelationKey, facts: Mapping[str, EditorFacts]) -> list[str]:
    """The editors who have `relation`, by name."""
    return [e for e in sorted(facts) if relation in facts[e].relations]


def relation_voters(relation: RelationKey, facts: Mapping[str, EditorFacts]) -> list[str]:
    """The editors who marked both ends of `relation` (whether or not they related them)."""
    ends = (relation.from_span, relation.to_span)
    return [e for e in sorted(facts) if all(end in facts[e].spans for end in ends)]


def relation_chosen(relation: RelationKey, facts: Mapping[str, EditorFacts], source: str) -> bool:
    """Whether `relation` goes into the gold under `source` (an editor's name or MAJORITY)."""
    if source != MAJORITY:
        return source in facts and relation in facts[source].relations
    have = len(relation_supporters(relation, facts))
    return have * 2 > len(relation_voters(relation, facts))


def relations_for(
    gold_spans: Iterable[SpanKey],
    facts: Mapping[str, EditorFacts],
    source: str,
    *,
    touching: Iterable[SpanKey] | None = None,
) -> dict[RelationKey, tuple[str, ...]]:
    """The editors' relations whose two ends are both in the gold and that `source` chooses,
    each with the editors who have it. `touching`: only relations with an end among these
    spans (those just accepted: the relations that were pending on them)."""
    gold = frozenset(gold_spans)
    near = None if touching is None else frozenset(touching)
    found: dict[RelationKey, tuple[str, ...]] = {}
    every = {r for work in facts.values() for r in work.relations}
    for relation in sorted(every):
        if relation.from_span not in gold or relation.to_span not in gold:
            continue
        if near is not None and relation.from_span not in near and relation.to_span not in near:
            continue
        if relation_chosen(relation, facts, source):
            found[relation] = tuple(relation_supporters(relation, facts))
    return found


def pending_relations(
    gold_spans: Iterable[SpanKey], facts: Mapping[str, EditorFacts]
) -> list[RelationKey]:
    """Editors' relations with exactly one end in the gold: waiting for the other end."""
    gold = frozenset(gold_spans)
    every = {r for work in facts.values() for r in work.relations}
    return sorted(r for r in every if (r.from_span in gold) != (r.to_span in gold))


@dataclass(frozen=True)
class FactView:
    """One editor's facts on one span, as the adjudication page lists them; `differs` when
    another editor who marked the same span gave something else."""

    editor: str
    values: tuple[tuple[str, object, bool], ...]  # (attribute, value, differs)
    relations: tuple[tuple[RelationKey, bool], ...]  # relations from this span, differs


def span_facts(span: SpanKey, facts: Mapping[str, EditorFacts]) -> list[FactView]:
    """Each editor's values for `span` and relations from it, the differing ones marked: a
    value differs when another editor who marked the span gave another value or none; a
    relation differs when not every editor who marked its two ends has it."""
    markers = [e for e in sorted(facts) if span in facts[e].spans]
    given = {e: dict(facts[e].attributes.get(span, {})) for e in markers}
    keys = sorted({k for values in given.values() for k in values})
    result = []
    for editor in markers:
        values = tuple(
            (key, given[editor][key], len({repr(given[e].get(key)) for e in markers}) > 1)
            for key in keys
            if given[editor].get(key) is not None
        )
        relations = tuple(
            (r, len(relation_supporters(r, facts)) < len(relation_voters(r, facts)))
            for r in sorted(facts[editor].relations)
            if r.from_span == span
        )
        result.append(FactView(editor, values, relations))
    return result
