"""One label per character: choosing spans that do not overlap. Pure: no Django.

CoNLL's BIO column and spaCy's ``doc.ents`` hold one label per token, while annotations may
nest (a LOCATION inside an ACTOR) or cross. The rule, the same in every export that needs
it: **the longest span wins**; between spans of equal length the one that starts first, and
then the one listed first (the project's label order). A span that overlaps a span already
chosen is left out whole, never cut, so every exported entity is a span someone marked.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TypeVar

from .records import ExportSpan

S = TypeVar("S", bound=ExportSpan)


def non_overlapping(spans: Sequence[S]) -> list[S]:
    """The spans kept under the longest-wins rule, in text order.

    Linear after one sort: the text is cut into pieces at every span edge, and each piece
    records the kept span that holds it. A span meets a kept one only if that one holds the
    span's first or last piece: one lying strictly inside would be shorter, yet it was chosen
    earlier, so it is at least as long."""
    if all(a["start"] < a["end"] <= b["start"] for a, b in itertools.pairwise(spans)) and (
        not spans or spans[-1]["start"] < spans[-1]["end"]
    ):
        return list(spans)  # in text order already, and none overlaps another: all kept
    order = sorted(
        range(len(spans)),
        key=lambda i: (-(spans[i]["end"] - spans[i]["start"]), spans[i]["start"], i),
    )
    points = sorted({p for s in spans for p in (s["start"], s["end"])})
    piece = {p: n for n, p in enumerate(points)}  # piece n is [points[n], points[n + 1])
    holder = [-1] * len(points)
    kept: list[int] = []
    for i in order:
        first, stop = piece[spans[i]["start"]], piece[spans[i]["end"]]
        if first < stop:
            if holder[first] >= 0 or holder[stop - 1] >= 0:
                continue
            holder[first:stop] = [i] * (stop - first)  # each piece is taken once at most
        elif first and holder[first - 1] >= 0 and holder[first - 1] == holder[first]:
            continue  # an empty span strictly inside a kept one
        kept.append(i)
    kept.sort(key=lambda i: (spans[i]["start"], spans[i]["end"], i))
    return [spans[i] for i in kept]
