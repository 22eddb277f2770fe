"""JSON Lines export: one annotation record a line. Pure: no Django.

A line holds the fields of :class:`annotate.exports.records.ExportRecord` in a fixed order,
as compact UTF-8 JSON. U+2028, U+2029 and U+0085 are escaped although JSON allows them raw,
because some line readers (Python's ``str.splitlines``) take them for line breaks.

:func:`line` writes exactly what :func:`dumps` of :func:`ordered` would, but builds the text
itself: an article's text is copied rather than escaped character by character when it has
nothing to escape but line feeds, and each span is one format string (spans are written
as :class:`~annotate.exports.records.ExportSpan` has them: start, end, label, text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter

from .records import FIELD_ORDER, ExportRecord, ExportSpan

_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_NAMES = {key: f'"{key}"' for key in FIELD_ORDER}
_SPAN_FIELDS = itemgetter("start", "end", "label", "text")
_ESCAPED = bytes(c for c in range(32) if c != ord("\n")) + b'"\\'


def dumps(value: object) -> str:
    """Compact JSON, UTF-8 characters unescaped, no raw Unicode line breaks."""
    text = _ENCODER.encode(value)
    if "\u2028" in text or "\u2029" in text or "\x85" in text:
        return text.translate(_LINE_BREAKS)
    return text


def ordered(record: Mapping[str, object]) -> dict[str, object]:
    """The record's keys in FIELD_ORDER, then any others sorted."""
    known = {key: record[key] for key in FIELD_ORDER if key in record}
    extra = {key: record[key] for key in sorted(record) if key not in known}
    return known | extra


def line(record: ExportRecord) -> str:
    """The record as one line of JSON: ``dumps(ordered(record)) + "\\n"``."""
    fields = []
    for key, value in ordered(record).items():
        name = _NAMES.get(key) or _string(key)
        if key == "spans":
            fields.append(f"{name}:{_spans(value)}")  # type: ignore[arg-type]
        elif type(value) is str:
            fields.append(f"{name}:{_string(value)}")
        elif type(value) is int:
            fields.append(f"{name}:{value}")
        else:
            fields.append(f"{name}:{dumps(value)}")
    return f"{{{','.join(fields)}}}\n"


def _string(text: str) -> str:
    """``dumps(text)`` for a string. JSON escapes only ``"``, ``\\`` and the controls below
    U+0020, of which ordinary text holds only line feeds: checked on the UTF-8 bytes, where
    the characters escaped are single bytes no other character's encoding holds."""
    if len(text) < 256:
        if text.isprintable() and '"' not in text and "\\" not in text:
            return f'"{text}"'
    else:
        data = text.encode("utf-8", "surrogatepass")
        if len(data.translate(None, _ESCAPED)) == len(data) and not (
            "\u2028" in text or "\u2029" in text or "\x85" in text
        ):
            return '"{}"'.format(text.replace("\n", "\\n"))
    return dumps(text)


def _spans(spans: Sequence[ExportSpan]) -> str:
    if spans and "attributes" in spans[0]:
        return _spans_with_attributes(spans)
    fields = list(map(_SPAN_FIELDS, spans))
    labels = {label: _string(label) for label in {label for _, _, label, _ in fields}}
    together = "".join([text for _, _, _, text in fields])
    if together.isprintable() and '"' not in together and "\\" not in together:
        items = [  # nothing to escape in any of the texts
            f'{{"start":{start},"end":{end},"label":{labels[label]},"text":"{text}"}}'
            for start, end, label, text in fields
        ]
    else:
        items = [
            f'{{"start":{start},"end":{end},"label":{labels[label]},"text":{_string(text)}}}'
            for start, end, label, text in fields
        ]
    return f"[{','.join(items)}]"


def _spans_with_attributes(spans: Sequence[ExportSpan]) -> str:
    """Spans as ``{"start", "end", "label", "text", "attributes"}`` (facts, version 2)."""
    labels = {label: _string(label) for label in {s["label"] for s in spans}}
    items = [
        f'{{"start":{s["start"]},"end":{s["end"]},"label":{labels[s["label"]]},'
        f'"text":{_string(s["text"])},"attributes":{_object(s["attributes"])}}}'  # type: ignore[typeddict-item]
        for s in spans
    ]
    return f"[{','.join(items)}]"


def _object(values: Mapping[str, object]) -> str:
    if not values:
        return "{}"  # most spans have no attributes
    try:
        # The types are part of the key: True == 1 in Python, but not in JSON.
        return _encoded(tuple((key, type(value), value) for key, value in values.items()))
    except TypeError:  # an unhashable value (a list): not worth remembering
        return dumps(values)


@lru_cache(maxsize=4096)
def _encoded(items: tuple[tuple[str, type, object], ...]) -> str:
    """Attribute values repeat ("killed", 3): each distinct set is encoded once."""
    return dumps({key: value for key, _, value in items})


def stream(records: Iterable[ExportRecord]) -> Iterator[str]:
    for record in records:
        yield line(record)
