"""Span-set arithmetic behind versioned annotations. Pure: no Django.

A span is identified by ``(start, end, label)``; an annotation state is a set of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple


class SpanKey(NamedTuple):
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Change:
    """What turns one span set into another."""

    added: frozenset[SpanKey]
    removed: frozenset[SpanKey]

    @property
    def relabelled(self) -> list[tuple[SpanKey, SpanKey]]:
        """Pairs (old, new) at the same offsets whose label changed."""
        removed_at = {(s.start, s.end): s for s in self.removed}
        return [
            (removed_at[(a.start, a.end)], a)
            for a in sorted(self.added)
            if (a.start, a.end) in removed_at
        ]

    def is_empty(self) -> bool:
        return not self.added and not self.removed

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts per label: ``{"added": {"ACTOR": 2}, "removed": {"SOURCE": 1}}``."""
        return {
            "added": dict(sorted(Counter(s.label for s in self.added).items())),
            "removed": dict(sorted(Counter(s.label for s in self.removed).items())),
        }


def diff(old: set[SpanKey] | frozenset[SpanKey], new: set[SpanKey] | frozenset[SpanKey]) -> Change:
    return Change(added=frozenset(new - old), removed=frozenset(old - new))


def describe(summary: dict) -> str:
    """A short human summary like ``+2 ACTOR, −1 SOURCE``."""
    parts = [f"+{n} {label}" for label, n in summary.get("added", {}).items()]
    parts += [f"\u2212{n} {label}" for label, n in summary.get("removed", {}).items()]
    if summary.get("status"):
        parts.append(summary["status"])
    if summary.get("restored_from"):
        parts.append(f"restored v{summary['restored_from']}")
    return ", ".join(parts) or "no change"


class MergeConflict(Exception):
    """Both sides changed spans at the same offsets."""

    def __init__(self, positions: list[tuple[int, int]]):
        self.positions = positions
        super().__init__(f"conflicting edits at {positions}")


def merge(
    base: frozenset[SpanKey], ours: frozenset[SpanKey], theirs: frozenset[SpanKey]
) -> frozenset[SpanKey]:
    """Three-way merge of span sets; refuses when both sides touched the same offsets.

    Safe because a span set is a set: if our change and theirs touch disjoint
    ``(start, end)`` positions, applying ours on top of theirs gives the same result as
    applying theirs on top of ours, and neither side's change is lost.
    """
    our_change, their_change = diff(base, ours), diff(base, theirs)
    ours_at = {(s.start, s.end) for s in our_change.added | our_change.removed}
    theirs_at = {(s.start, s.end) for s in their_change.added | their_change.removed}
    clash = sorted(ours_at & theirs_at)
    if clash:
        raise MergeConflict(clash)
    return frozenset((theirs - our_change.removed) | our_change.added)
