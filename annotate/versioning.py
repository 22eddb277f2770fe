"""Span-set arithmetic behind versioned annotations. Pure: no Django.

A span is identified by ``(start, end, label)``; an annotation state is a set of them.

Summaries. A version's summary counts every span it added and removed per label, and
breaks out relabels (a span removed and another added at the same offsets with another
label) as ``{"relabelled": {"LOCATION": {"ACTOR": 1}}}``. ``describe()`` shows a relabel once,
as ``LOCATION→ACTOR ×1``, and leaves it out of the ``+``/``−`` counts, so changing the label of
one span reads as one change, not as an addition and a removal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple


class SpanKey(NamedTuple):
    start: int
    end: int
    label: str


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
