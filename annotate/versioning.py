"""Span-set arithmetic behind versioned annotations. Pure: no Django.

A span is identified by ``(start, end, label)``; an annotation state is a set of them, plus
(facts) the attributes of each span and the relations between spans (:class:`State`).

Summaries. A version's summary counts every span it added and removed per label, and
breaks out relabels (a span removed and another added at the same offsets with another
label) as ``{"relabelled": {"LOCATION": {"ACTOR": 1}}}``. ``describe()`` shows a relabel once,
as ``LOCATION→ACTOR ×1``, and leaves it out of the ``+``/``−`` counts, so changing the label of
one span reads as one change, not as an addition and a removal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple


class SpanKey(NamedTuple):
    start: int
    end: int
    label: str


class RelationKey(NamedTuple):
    """A relation is identified by its two ends and its type, never by stored row ids, so it
    survives any reordering of spans and any change of its ends' attributes."""

    from_span: SpanKey
    to_span: SpanKey
    type: str


Attributes = Mapping[str, object]


def _pair_relabels(
    added: Iterable[SpanKey], removed: Iterable[SpanKey]
) -> list[tuple[SpanKey, SpanKey]]:
    """Pair removed and added spans at the same offsets, each span used at most once."""
    removed_at: dict[tuple[int, int], list[SpanKey]] = defaultdict(list)
    for s in sorted(removed):
        removed_at[(s.start, s.end)].append(s)
    pairs = []
    for a in sorted(added):
        candidates = removed_at.get((a.start, a.end))
        if candidates:
            pairs.append((candidates.pop(0), a))
    return pairs


@dataclass(frozen=True)
class Change:
    """What turns one span set into another."""

    added: frozenset[SpanKey]
    removed: frozenset[SpanKey]

    @property
    def relabelled(self) -> list[tuple[SpanKey, SpanKey]]:
        """Pairs (old, new) at the same offsets whose label changed, in text order.

        Each removed and each added span is in at most one pair: removing ACTOR and
        LOCATION at 0:4 and adding SOURCE there is one relabel and one removal.
        """
        return _pair_relabels(self.added, self.removed)

    def is_empty(self) -> bool:
        return not self.added and not self.removed

    def summary(self) -> dict[str, dict]:
        """Counts per label: ``{"added": {"ACTOR": 2}, "removed": {"SOURCE": 1}}``.

        ``added`` and ``removed`` count every span (a relabel is one of each); a
        ``relabelled`` key (``{OLD: {NEW: n}}``) is present only when there are relabels.
        """
        result: dict[str, dict] = {
            "added": dict(sorted(Counter(s.label for s in self.added).items())),
            "removed": dict(sorted(Counter(s.label for s in self.removed).items())),
        }
        relabels: dict[str, dict[str, int]] = {}
        for old, new in self.relabelled:
            relabels.setdefault(old.label, {}).setdefault(new.label, 0)
            relabels[old.label][new.label] += 1
        if relabels:
            result["relabelled"] = {
                old: dict(sorted(news.items())) for old, news in sorted(relabels.items())
            }
        return result


def diff(old: set[SpanKey] | frozenset[SpanKey], new: set[SpanKey] | frozenset[SpanKey]) -> Change:
    return Change(added=frozenset(new - old), removed=frozenset(old - new))


def apply(state: frozenset[SpanKey], change: Change) -> frozenset[SpanKey]:
    """The state after `change`: ``apply(old, diff(old, new)) == new``."""
    return frozenset((state - change.removed) | change.added)


def _counts(value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int) and v > 0}


def describe(summary: Mapping) -> str:
    """A short human summary like ``+2 ACTOR, −1 SOURCE, LOCATION→ACTOR ×1``.

    Relabels are shown once, as ``OLD→NEW ×n``, and not counted again in ``+``/``−``.
    Then status and finality changes, a restore and an automatic merge, when there are any.
    """
    if not isinstance(summary, Mapping):
        return "no change"
    added = Counter(_counts(summary.get("added")))
    removed = Counter(_counts(summary.get("removed")))
    relabels: list[tuple[str, str, int]] = []
    relabelled = summary.get("relabelled")
    if isinstance(relabelled, Mapping):
        for old, news in sorted(relabelled.items()):
            for new, n in sorted(_counts(news).items()):
                relabels.append((str(old), new, n))
                removed[str(old)] -= n
                added[new] -= n
    parts = [f"+{n} {label}" for label, n in sorted(added.items()) if n > 0]
    parts += [f"\u2212{n} {label}" for label, n in sorted(removed.items()) if n > 0]
    parts += [f"{old}\u2192{new} \u00d7{n}" for old, new, n in relabels]
    parts += _describe_facts(summary)
    status = summary.get("status")
    if status == "submitted":
        parts.append("submitted")
    elif status == "in_progress":
        parts.append("back in progress")
    if summary.get("final") is True:
        parts.append("made final")
    elif summary.get("final") is False:
        parts.append("reopened")
    if summary.get("restored_from"):
        parts.append(f"restored v{summary['restored_from']}")
    if summary.get("merged_from_base") is not None:
        parts.append(f"merged (edited from v{summary['merged_from_base']})")
    return ", ".join(parts) or "no change"


class MergeConflict(Exception):
    """Both sides changed spans over the same stretch of text."""

    def __init__(self, positions: list[tuple[int, int]]):
        self.positions = positions
        super().__init__(f"conflicting edits at {positions}")


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def conflicts(ours: Change, theirs: Change) -> list[tuple[int, int]]:
    """Offsets of our changed spans that overlap, in the text, a span their side changed."""
    theirs_at = sorted({(s.start, s.end) for s in theirs.added | theirs.removed})
    ours_at = sorted({(s.start, s.end) for s in ours.added | ours.removed})
    return [a for a in ours_at if any(_overlaps(a, b) for b in theirs_at)]


def merge(
    base: frozenset[SpanKey], ours: frozenset[SpanKey], theirs: frozenset[SpanKey]
) -> frozenset[SpanKey]:
    """Three-way merge of span sets: both sides' changes applied to `base`.

    Refused (MergeConflict) when a span one side added or removed overlaps, in the text,
    a span the other side added or removed, even when their offsets differ: two people
    changing the same phrase is a decision for a person, not for this function.

    When no changed spans overlap, the two changes touch disjoint keys, so applying ours
    on top of theirs gives the same set as applying theirs on top of ours (the merge is
    commutative), every span either side added is in the result, and every span either
    side removed is not.
    """
    our_change, their_change = diff(base, ours), diff(base, theirs)
    clash = conflicts(our_change, their_change)
    if clash:
        raise MergeConflict(clash)
    return apply(theirs, our_change)


DiffKind = Literal["same", "added", "removed", "relabelled"]


class SpanDiff(NamedTuple):
    """One span in a comparison of two states; `was` is the old label of a relabel."""

    kind: DiffKind
    span: SpanKey
    was: str | None = None


def compare(old: Iterable[SpanKey], new: Iterable[SpanKey]) -> list[SpanDiff]:
    """Every span of either state, marked same / added / removed / relabelled, in text order.

    A relabel is reported once, with the new span and the old label (`was`).
    """
    old, new = frozenset(old), frozenset(new)
    change = diff(old, new)
    pairs = change.relabelled
    relabelled_old = {o for o, _ in pairs}
    relabelled_new = {n: o.label for o, n in pairs}
    rows = [SpanDiff("same", s) for s in old & new]
    rows += [SpanDiff("removed", s) for s in change.removed - relabelled_old]
    for s in change.added:
        if s in relabelled_new:
            rows.append(SpanDiff("relabelled", s, relabelled_new[s]))
        else:
            rows.append(SpanDiff("added", s))
    return sorted(rows, key=lambda r: (r.span.start, -r.span.end, r.span.label, r.kind))


# Facts: an annotation's state is its spans, their attributes and the relations between them.


@dataclass(frozen=True)
class State:
    """An annotation's whole content at one version.

    ``attributes`` holds only spans that have some (a span without attributes has no entry;
    values are never None: "not given" is a missing key), and only spans of ``spans``.
    """

    spans: frozenset[SpanKey] = frozenset()
    attributes: Mapping[SpanKey, Attributes] = field(default_factory=dict)
    relations: frozenset[RelationKey] = frozenset()

    def __post_init__(self) -> None:
        spans = frozenset(self.spans)
        clean = {}
        for key, values in self.attributes.items():
            kept = {k: v for k, v in values.items() if v is not None}
            if kept and key in spans:
                clean[key] = kept
        object.__setattr__(self, "spans", spans)
        object.__setattr__(self, "attributes", clean)
        object.__setattr__(self, "relations", frozenset(self.relations))

    def attributes_of(self, span: SpanKey) -> dict[str, object]:
        return dict(self.attributes.get(span, {}))


@dataclass(frozen=True)
class StateChange:
    """What turns one :class:`State` into another: the span change, the attributes of spans
    both states hold (``{span: (old, new)}``), and relations added and removed."""

    spans: Change
    attributes: Mapping[SpanKey, tuple[Attributes, Attributes]]
    relations_added: frozenset[RelationKey]
    relations_removed: frozenset[RelationKey]

    def is_empty(self) -> bool:
        return (
            self.spans.is_empty()
            and not self.attributes
            and not self.relations_added
            and not self.relations_removed
        )

    def touched(self) -> set[tuple[int, int]]:
        """The offsets of every span this change adds, removes, re-attributes or relates."""
        spans = set(self.spans.added | self.spans.removed) | set(self.attributes)
        for relation in self.relations_added | self.relations_removed:
            spans.update((relation.from_span, relation.to_span))
        return {(s.start, s.end) for s in spans}

    def summary(self) -> dict[str, dict]:
        """The span summary (:meth:`Change.summary`), plus, when there are any,
        ``"attributes": {"CASUALTY.low": {"changed": n, "from"?, "to"?}}`` (old and new value
        when one span changed it) and ``"relations": {"added": {TYPE: n}, "removed": {...}}``.
        """
        result = self.spans.summary()
        changed: dict[str, list[tuple[object, object]]] = {}
        for span, (old, new) in sorted(self.attributes.items()):
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    changed.setdefault(f"{span.label}.{key}", []).append(
                        (old.get(key), new.get(key))
                    )
        if changed:
            result["attributes"] = {}
            for name, values in changed.items():
                entry: dict[str, object] = {"changed": len(values)}
                if len(values) == 1:
                    entry["from"], entry["to"] = values[0]
                result["attributes"][name] = entry
        if self.relations_added or self.relations_removed:
            result["relations"] = {
                "added": dict(sorted(Counter(r.type for r in self.relations_added).items())),
                "removed": dict(sorted(Counter(r.type for r in self.relations_removed).items())),
            }
        return result


def diff_states(old: State, new: State) -> StateChange:
    both = old.spans & new.spans
    attributes = {
        span: (old.attributes_of(span), new.attributes_of(span))
        for span in both
        if old.attributes_of(span) != new.attributes_of(span)
    }
    return StateChange(
        spans=diff(old.spans, new.spans),
        attributes=attributes,
        relations_added=new.relations - old.relations,
        relations_removed=old.relations - new.relations,
    )


def merge_states(base: State, ours: State, theirs: State) -> State:
    """Three-way merge of whole states, like :func:`merge` for span sets.

    Refused (MergeConflict) when anything our side touched (a span added or removed, a
    span's attributes, a relation's two ends) overlaps in the text anything their side
    touched. Otherwise both changes concern disjoint spans and are both kept.
    """
    our, their = diff_states(base, ours), diff_states(base, theirs)
    their_at = sorted(their.touched())
    clash = sorted(a for a in our.touched() if any(_overlaps(a, b) for b in their_at))
    if clash:
        raise MergeConflict(clash)
    spans = apply(theirs.spans, our.spans)
    attributes = {k: v for k, v in theirs.attributes.items() if k not in our.spans.removed}
    for span in our.spans.added:
        attributes[span] = ours.attributes_of(span)
    for span, (_, new) in our.attributes.items():
        attributes[span] = new
    relations = (theirs.relations - our.relations_removed) | our.relations_added
    relations = frozenset(r for r in relations if r.from_span in spans and r.to_span in spans)
    return State(spans, attributes, relations)


def _value_text(value: object) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "\u2026"


def _describe_facts(summary: Mapping) -> list[str]:
    """``CASUALTY.low 6→7`` (or ``CASUALTY.low ×3`` over several spans), ``+SAID_BY ×1``."""
    parts = []
    attributes = summary.get("attributes")
    if isinstance(attributes, Mapping):
        for name, entry in sorted(attributes.items()):
            if not isinstance(entry, Mapping):
                continue
            n = entry.get("changed")
            if n == 1 and "to" in entry:
                was, now = _value_text(entry.get("from")), _value_text(entry.get("to"))
                parts.append(f"{name} {was}\u2192{now}")
            elif isinstance(n, int) and n > 0:
                parts.append(f"{name} \u00d7{n}")
    relations = summary.get("relations")
    if isinstance(relations, Mapping):
        added, removed = _counts(relations.get("added")), _counts(relations.get("removed"))
        parts += [f"+{kind} \u00d7{n}" for kind, n in sorted(added.items())]
        parts += [f"\u2212{kind} \u00d7{n}" for kind, n in sorted(removed.items())]
    return parts


def has_content_change(summary: Mapping) -> bool:
    """Whether a version's summary records a change of content (spans, attributes or
    relations), not only of status or finality."""
    if not isinstance(summary, Mapping):
        return False
    return bool(
        summary.get("added")
        or summary.get("removed")
        or summary.get("attributes")
        or summary.get("relations")
    )


class AttributeDiff(NamedTuple):
    """One attribute of a span both states hold, whose value changed (None: not given)."""

    span: SpanKey
    key: str
    was: object
    now: object


def compare_attributes(old: State, new: State) -> list[AttributeDiff]:
    """Every attribute value that changed on a span present in both states, in text order."""
    rows = []
    for span, (was, now) in diff_states(old, new).attributes.items():
        for key in sorted(set(was) | set(now)):
            if was.get(key) != now.get(key):
                rows.append(AttributeDiff(span, key, was.get(key), now.get(key)))
    return sorted(rows, key=lambda r: (r.span.start, -r.span.end, r.span.label, r.key))


RelationDiffKind = Literal["same", "added", "removed"]


class RelationDiff(NamedTuple):
    kind: RelationDiffKind
    relation: RelationKey


def compare_relations(old: State, new: State) -> list[RelationDiff]:
    """Every relation of either state, marked same / added / removed, in text order."""
    rows = [RelationDiff("same", r) for r in old.relations & new.relations]
    rows += [RelationDiff("added", r) for r in new.relations - old.relations]
    rows += [RelationDiff("removed", r) for r in old.relations - new.relations]
    return sorted(rows, key=lambda r: (r.relation.from_span, r.relation.to_span, r.relation.type))
