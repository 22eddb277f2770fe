"""JSON Lines export: one annotation record a line. Pure: no Django.

A line holds the fields of :class:`annotate.exports.records.ExportRecord` in a fixed order,
as compact UTF-8 JSON. U+2028, U+2029 and U+0085 are escaped although JSON allows them raw,
because some line readers (Python's ``str.splitlines``) take them for line breaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping

from .records import FIELD_ORDER, ExportRecord

_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def dumps(value: object) -> str:
    """Compact JSON, UTF-8 characters unescaped, no raw Unicode line breaks."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_LINE_BREAKS)


def ordered(record: Mapping[str, object]) -> dict[str, object]:
    """The record's keys in FIELD_ORDER, then any others sorted."""
    known = {key: record[key] for key in FIELD_ORDER if key in record}
    extra = {key: record[key] for key in sorted(record) if key not in known}
    return known | extra


def line(record: ExportRecord) -> str:
    return dumps(ordered(record)) + "\n"


def stream(records: Iterable[ExportRecord]) -> Iterator[str]:
    for record in records:
        yield line(record)
