"""Spans that look like a slip of the hand rather than a fact. Pure: no Django.

A fact is a few words inside one paragraph. A span that crosses a paragraph break, or is
longer than the project's limit (``Project.long_span_chars``), is most often Ctrl+A or a
stray drag: the labelling page asks the editor to confirm it, and the review page points it
out before a gold is marked final. Both are a page's guard against slips; the REST API
stores spans as given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PARAGRAPH_BREAK = "\n"


@dataclass(frozen=True)
class SpanConcern:
    """Why a span needs a second look; `reasons` are phrases ("crosses a paragraph break")."""

    start: int
    end: int
    label: str
    reasons: tuple[str, ...]

    @property
    def length(self) -> int:
        return self.end - self.start

    def sentence(self) -> str:
        """The reasons as one phrase: "is 5,492 characters long and crosses 3 paragraph …"."""
        return " and ".join(self.reasons)


def concerns(text: str, start: int, end: int, long_chars: int | None) -> tuple[str, ...]:
    """Why the span text[start:end] needs a confirmation; empty when it does not.

    `long_chars` is the project's limit (None or 0: no limit); a paragraph break is a line
    break, as articles are stored (one paragraph per line, blank lines between them).
    """
    reasons = []
    length = end - start
    if long_chars and length > long_chars:
        reasons.append(
            f"is {length:,} characters long (the project asks to confirm spans over {long_chars:,})"
        )
    covered = text[start:end]
    if PARAGRAPH_BREAK in covered:
        paragraphs = sum(1 for part in covered.split(PARAGRAPH_BREAK) if part.strip())
        reasons.append(
            f"spans {paragraphs} paragraphs" if paragraphs > 1 else "crosses a paragraph break"
        )
    return tuple(reasons)


def span_concerns(
    text: str, spans: Iterable[tuple[int, int, str]], long_chars: int | None
) -> list[SpanConcern]:
    """The spans (start, end, label) of an annotation that need a second look, in text order."""
    found = []
    for start, end, label in sorted(spans):
        reasons = concerns(text, start, end, long_chars)
        if reasons:
            found.append(SpanConcern(start, end, label, reasons))
    return found
