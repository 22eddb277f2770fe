"""spaCy-style training JSON Lines. Pure: no Django (and no spaCy).

One line per record::

    {"text": "...", "entities": [[start, end, "LABEL"], ...],
     "spans": {"sc": [[start, end, "LABEL"], ...]},
     "words": [...], "spaces": [...], "meta": {"id", "article", "source", "version", ...}}

- Offsets are code points, which is what spaCy's ``Doc.char_span`` counts (Python string
  indices). Spans are exported exactly as stored, never snapped or trimmed.
- ``entities`` can go into ``doc.ents``, which allows no overlap: overlapping spans are
  resolved as in :mod:`annotate.exports.overlap` (the longest wins). ``spans["sc"]`` has
  every span, for ``doc.spans["sc"]`` (span groups may overlap).
- Facts: ``span_attributes["sc"]`` is a list parallel to ``spans["sc"]`` holding each span's
  attributes (``{}`` when none; set them with ``doc.spans["sc"].attrs`` or ``Span._``
  extensions), and ``relations`` lists ``{"from": i, "to": j, "type"}`` with ``i`` and
  ``j`` indexes into ``spans["sc"]``.
- ``Doc.char_span`` returns None for offsets that are not token boundaries. spaCy's own
  tokenizer may split text differently from the annotators, so ``words`` and ``spaces``
  give a tokenization with a boundary at every span edge:
  ``Doc(nlp.vocab, words=rec["words"], spaces=rec["spaces"])`` has exactly ``rec["text"]``
  as its text, and ``char_span(start, end, label)`` succeeds for every exported span. With
  ``nlp.make_doc(text)`` instead, pass ``alignment_mode="expand"``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

from .jsonl import dumps
from .overlap import non_overlapping
from .records import ExportRecord, ExportSpan
from .tokens import tokenize

META_FIELDS = ("id", "article", "title", "source", "annotator", "adjudicator", "version")


def words_and_spaces(text: str, spans: Iterable[ExportSpan]) -> tuple[list[str], list[bool]]:
    """A spaCy tokenization of `text` (``words``, ``spaces``) with a token boundary at
    every span start and end.

    As spaCy does it: a token followed by one plain space keeps it as trailing whitespace
    (``spaces[i]``); any other whitespace becomes a token of its own. A span starting on
    whitespace, or ending just after a space, gets that whitespace as a token of its own
    so the boundary exists.
    """
    spans = list(spans)
    starts = {s["start"] for s in spans}
    ends = {s["end"] for s in spans}
    cuts = sorted(starts | ends)
    words: list[str] = []
    spaces: list[bool] = []

    def add_gap(begin: int, stop: int) -> None:
        if begin >= stop:
            return
        if (
            words
            and text[begin] == " "
            and not spaces[-1]
            and begin not in starts
            and begin + 1 not in ends
        ):
            spaces[-1] = True
            begin += 1
        inner = cuts[bisect.bisect_right(cuts, begin) : bisect.bisect_left(cuts, stop)]
        edges = [begin, *inner, stop]
        for a, b in zip(edges, edges[1:], strict=False):
            if a < b:
                words.append(text[a:b])
                spaces.append(False)

    position = 0
    for token in tokenize(text, cuts):
        add_gap(position, token.start)
        words.append(token.text)
        spaces.append(False)
        position = token.end
    add_gap(position, len(text))
    return words, spaces


def example(record: ExportRecord) -> dict[str, object]:
    """One record as a spaCy training example."""
    spans = record["spans"]
    words, spaces = words_and_spaces(record["text"], spans)
    result: dict[str, object] = {
        "text": record["text"],
        "entities": [[s["start"], s["end"], s["label"]] for s in non_overlapping(spans)],
        "spans": {"sc": [[s["start"], s["end"], s["label"]] for s in spans]},
    }
    if "relations" in record:
        result["span_attributes"] = {"sc": [s.get("attributes") or {} for s in spans]}
        result["relations"] = record["relations"]
    return result | {
        "words": words,
        "spaces": spaces,
        "meta": {key: record[key] for key in META_FIELDS if key in record},  # type: ignore[literal-required]
    }


def stream(records: Iterable[ExportRecord]) -> Iterator[str]:
    for record in records:
        yield dumps(example(record)) + "\n"
