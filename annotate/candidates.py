"""Adjudication arithmetic: several editors' spans of one article, grouped and compared. Pure.

Spans are identical when their offsets and label are (``SpanKey``). Each distinct span any
editor marked is a *candidate* for the gold, supported by the editors who marked it:

- agreement ``all``: every editor marked it (needs at least two editors);
- ``majority``: more than half of the editors, but not all;
- ``some``: two or more editors, but no more than half;
- ``single``: one editor.

Two candidates *conflict* when they cannot both be right as far as we can tell from the
offsets: a **label** conflict is another label at exactly the same offsets; an **overlap**
(boundary) conflict is the same label over an overlapping but different stretch of text.
Nested spans with different labels (a LOCATION inside an ACTOR) are not conflicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .versioning import SpanKey

Agreement = Literal["all", "majority", "some", "single"]
ConflictKind = Literal["label", "overlap"]


@dataclass(frozen=True)
class EditorSpan:
    """One editor's span: `id` is the stored span's primary key (a gold span's source)."""

    id: int
    editor: str
    start: int
    end: int
    label: str

    @property
    def key(self) -> SpanKey:
        return SpanKey(self.start, self.end, self.label)


@dataclass
class Candidate:
    """A distinct span (offsets and label) and the editors who marked it."""

    key: SpanKey
    spans: tuple[EditorSpan, ...]
    total: int
    label_conflicts: list[SpanKey] = field(default_factory=list)
    overlap_conflicts: list[SpanKey] = field(default_factory=list)
    in_gold: bool = False

    @property
    def id(self) -> str:
        """Stable across page loads, usable as an HTML id."""
        return f"c{self.key.start}-{self.key.end}-{self.key.label}"

    @property
    def editors(self) -> tuple[str, ...]:
        return tuple(s.editor for s in self.spans)

    @property
    def support(self) -> int:
        return len(self.spans)

    @property
    def agreement(self) -> Agreement:
        return agreement_of(self.support, self.total)

    @property
    def conflicted(self) -> bool:
        return bool(self.label_conflicts or self.overlap_conflicts)

    @property
    def source(self) -> EditorSpan:
        """The span a gold copy records as its origin: the first supporter's (by name)."""
        return self.spans[0]


def agreement_of(support: int, total: int) -> Agreement:
    """How many of `total` editors marked a span, in words (see the module docstring)."""
    if support >= total and total >= 2:
        return "all"
    if support * 2 > total and support >= 2:
        return "majority"
    if support >= 2:
        return "some"
    return "single"


def conflict_between(a: SpanKey, b: SpanKey) -> ConflictKind | None:
    """Whether two different spans disagree: `label`, `overlap` (boundaries) or not at all."""
    if a == b:
        return None
    if (a.start, a.end) == (b.start, b.end):
        return "label"
    if a.label == b.label and a.start < b.end and b.start < a.end:
        return "overlap"
    return None


def candidates(
    spans_by_editor: Mapping[str, Iterable[EditorSpan]], gold: Iterable[SpanKey] = ()
) -> list[Candidate]:
    """Every distinct span of the editors, in text order, with support and conflicts.

    `spans_by_editor` names every editor whose work is compared, including editors with no
    spans (they count in the total). `gold` marks the candidates already accepted.
    """
    total = len(spans_by_editor)
    gold_keys = frozenset(gold)
    grouped: dict[SpanKey, dict[str, EditorSpan]] = {}
    for editor in sorted(spans_by_editor):
        for span in spans_by_editor[editor]:
            # An editor counts once per key, whatever duplicates the input holds.
            grouped.setdefault(span.key, {}).setdefault(editor, span)
    keys = sorted(grouped, key=_text_order)
    result = [
        Candidate(
            key=key,
            spans=tuple(grouped[key][e] for e in sorted(grouped[key])),
            total=total,
            in_gold=key in gold_keys,
        )
        for key in keys
    ]
    _mark_conflicts(result)
    return result


def _text_order(key: SpanKey) -> tuple[int, int, str]:
    return (key.start, -key.end, key.label)


def _mark_conflicts(found: Sequence[Candidate]) -> None:
    by_start = sorted(found, key=lambda c: (c.key.start, c.key.end))
    for i, a in enumerate(by_start):
        # Only later-starting candidates that begin before `a` ends can overlap it.
        for b in by_start[i + 1 :]:
            if b.key.start >= a.key.end:
                break
            kind = conflict_between(a.key, b.key)
            if kind == "label":
                a.label_conflicts.append(b.key)
                b.label_conflicts.append(a.key)
            elif kind == "overlap":
                a.overlap_conflicts.append(b.key)
                b.overlap_conflicts.append(a.key)


@dataclass
class Selection:
    """What "accept everything agreed by at least k editors" takes, and what it leaves."""

    accepted: list[Candidate]
    held_back: list[tuple[Candidate, str]]


def majority_selection(
    found: Sequence[Candidate], min_editors: int, gold: Iterable[SpanKey] = ()
) -> Selection:
    """Candidates marked by at least `min_editors` editors that are safe to accept at once.

    A qualifying candidate is held back, for the reviewer to decide, when it conflicts with
    a span already in the gold, or with another candidate that has as much support or more
    (a tie is not a decision; a stronger rival wins). Candidates already in the gold are
    neither accepted nor held back.
    """
    gold_keys = frozenset(gold)
    support = {c.key: c.support for c in found}
    accepted: list[Candidate] = []
    held_back: list[tuple[Candidate, str]] = []
    for c in found:
        if c.key in gold_keys or c.support < min_editors:
            continue
        decided = [g for g in gold_keys if conflict_between(c.key, g)]
        rivals = [k for k in (*c.label_conflicts, *c.overlap_conflicts) if support[k] >= c.support]
        if decided:
            held_back.append((c, "the gold already has a different span here"))
        elif rivals:
            held_back.append((c, "another span here has as much support"))
        else:
            accepted.append(c)
    return Selection(accepted=accepted, held_back=held_back)
