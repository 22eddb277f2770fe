"""Export formats. Pure: no Django.

Each format module has a ``stream(records, ...)`` generator that turns an iterable of
:class:`~annotate.exports.records.ExportRecord` into text piece by piece, so an export of
any size is written in constant memory. :func:`render` picks the format and batches the
pieces into encoded chunks for a response or a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from . import conll, facts, jsonl, spacy, w3c
from .facts import FactColumns
from .records import ExportRecord, ExportRelation, ExportSpan

__all__ = [
    "FORMATS",
    "ExportRecord",
    "ExportRelation",
    "ExportSpan",
    "FactColumns",
    "Format",
    "render",
]


@dataclass(frozen=True)
class Format:
    name: str
    content_type: str
    extension: str
    description: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "jsonl",
            "application/x-ndjson; charset=utf-8",
            "jsonl",
            "One annotation a line: text, spans, ids, version, who annotated.",
        ),
        Format(
            "conll",
            "text/plain; charset=utf-8",
            "conll",
            "CoNLL-2003: a token a line with a BIO tag; longest span wins on overlap.",
        ),
        Format(
            "spacy",
            "application/x-ndjson; charset=utf-8",
            "spacy.jsonl",
            "spaCy training lines: text, entities, span groups, words and spaces.",
        ),
        Format(
            "w3c",
            "application/ld+json; charset=utf-8",
            "jsonld",
            "W3C Web Annotation JSON-LD with position and quote selectors.",
        ),
        Format(
            "facts",
            "application/x-ndjson; charset=utf-8",
            "facts.jsonl",
            "One figure a line (a span whose label has attributes): its values and the "
            "spans it is related to, by relation type.",
        ),
        Format(
            "facts-csv",
            "text/csv; charset=utf-8",
            "facts.csv",
            "The facts as a spreadsheet: one row per figure, a column per attribute and per "
            "relation type, formula cells neutralised.",
        ),
    )
}

CHUNK_BYTES = 64 * 1024


def render(
    name: str,
    records: Iterable[ExportRecord],
    *,
    namespace: str = "export",
    label: str = "export",
    generated: str = "",
    docstart: str = "conll2003",
    columns: FactColumns | None = None,
) -> Iterator[bytes]:
    """The export of `records` in format `name`, as UTF-8 chunks of about 64 KiB.

    `namespace`, `label` and `generated` are used by the W3C format (see :mod:`.w3c`);
    `docstart` by CoNLL (see :data:`.conll.DOCSTARTS`); `columns` (the schema's figures and
    relation types) by the facts formats.
    """
    if name == "jsonl":
        pieces = jsonl.stream(records)
    elif name == "conll":
        pieces = conll.stream(records, docstart=docstart)
    elif name == "spacy":
        pieces = spacy.stream(records)
    elif name in ("facts", "facts-csv"):
        if columns is None:
            raise ValueError("the facts formats need the schema's columns")
        writer = facts.stream if name == "facts" else facts.stream_csv
        pieces = writer(records, columns)
    elif name == "w3c":
        pieces = w3c.stream(records, namespace=namespace, label=label, generated=generated)
    else:
        raise ValueError(f"unknown export format {name!r}; use one of {', '.join(FORMATS)}")
    return _batched(pieces)


def _batched(pieces: Iterator[str]) -> Iterator[bytes]:
    buffer: list[bytes] = []
    size = 0
    for piece in pieces:
        data = piece.encode("utf-8")
        buffer.append(data)
        size += len(data)
        if size >= CHUNK_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)
