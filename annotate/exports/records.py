"""The plain records every export format is written from. Pure: no Django.

The service (`annotate.services.exporting`) reads the database in chunks and yields these;
the formatters in this package turn an iterable of them into text, one piece at a time.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict


class ExportSpan(TypedDict):
    """Offsets are code points into the record's text, end exclusive:
    ``text[start:end] == span["text"]``."""

    start: int
    end: int
    label: str
    text: str
    attributes: NotRequired[dict[str, object]]  # the span's values; absent in old releases


# A relation between two spans of the same record, by their index in its ``spans``
# (functional form: "from" is a Python keyword).
ExportRelation = TypedDict("ExportRelation", {"from": int, "to": int, "type": str})


class ExportRecord(TypedDict):
    """One annotation of one article: the gold, or one editor's.

    `version` is the annotation version the spans were read from, so any export can be
    reproduced later from the immutable history.
    """

    id: str  # the article's external id
    article: int
    title: str
    url: str
    text: str
    spans: list[ExportSpan]
    relations: NotRequired[list[ExportRelation]]  # absent in releases made before facts
    published_at: NotRequired[str | None]  # ISO 8601, UTC
    source: Literal["gold", "editor"]
    version: int
    annotator: NotRequired[str]  # editor records: whose annotation this is
    status: NotRequired[str]  # editor records: in_progress or submitted
    final: NotRequired[bool]  # gold records: adjudication closed
    adjudicator: NotRequired[str | None]  # gold records: author of `version`
    annotators: NotRequired[list[str]]  # gold records: editors who submitted the article


# The order of keys in a JSON Lines record, so that output is byte-stable.
FIELD_ORDER = (
    "id",
    "article",
    "title",
    "url",
    "published_at",
    "text",
    "spans",
    "relations",
    "source",
    "annotator",
    "adjudicator",
    "annotators",
    "version",
    "status",
    "final",
)
