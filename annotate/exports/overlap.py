"""One label per character: choosing spans that do not overlap. Pure: no Django.

CoNLL's BIO column and spaCy's ``doc.ents`` hold one label per token, while annotations may
nest (a LOCATION inside an ACTOR) or cross. The rule, the same in every export that needs
it: **the longest span wins**; between spans of equal length the one that starts first, and
then the one listed first (the project's label order). A span that overlaps a span already
chosen is left out whole, never cut, so every exported entity is a span someone marked.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from typing import TypeVar

from .records import ExportSpan

S = TypeVar("S", bound=ExportSpan)


def non_overlapping(spans: Sequence[S]) -> list[S]:
    """The spans kept under the longest-wins rule, in text order."""
    if all(a["start"] < a["end"] <= b["start"] for a, b in itertools.pairwise(spans)) and (
        not spans or spans[-1]["start"] < spans[-1]["end"]
    ):
        return list(spans)  # in text order already, and none overlaps another: all kept
    order = sorted(
        range(len(spans)),
        key=lambda i: (-(spans[i]["end"] - spans[i]["start"]), spans[i]["start"], i),
    )
    starts: list[int] = []
    ends: list[int] = []
    kept: list[int] = []
    for i in order:
        start, end = spans[i]["start"], spans[i]["end"]
        at = bisect.bisect_left(starts, start)
        if at > 0 and ends[at - 1] > start:
            continue
        if at < len(starts) and starts[at] < end:
            continue
        starts.insert(at, start)
        ends.insert(at, end)
        kept.insert(at, i)
    return [spans[i] for i in kept]
