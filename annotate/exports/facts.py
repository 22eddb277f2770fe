"""Facts exports: one record per figure, for a newsroom's or a researcher's table. Pure: no
Django.

A *figure* is a span whose label declares attributes in the project's schema (e.g. each
CASUALTY). Its record holds the article's identity, the span, its attribute values, and the
spans it is related to, by relation type: ``related["SAID_BY"]`` lists the spans the figure
points to with SAID_BY (relations *from* the figure, the direction every demo type takes:
CASUALTY → SOURCE, LOCATION, ACTOR), in text order.

- ``facts``: JSON Lines, one figure a line::

    {"article", "id", "title", "published_at", "url", "span": {start, end, label, text},
     "attributes": {...}, "related": {TYPE: [span, ...]}, "source", "annotator"?, "version"}

- ``facts-csv``: the same flattened, one row per figure: the article's columns, the span's,
  one column per attribute of the schema (in the schema's order), one column per relation
  type whose cells join the related spans' texts with " | ". Cells a spreadsheet would run
  as a formula (starting with ``= + - @``, tab or carriage return) get a leading
  apostrophe. The file starts with a UTF-8 byte order mark, so spreadsheets read it as
  UTF-8.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ..facts.display import figure_text
from ..versioning import RelationKey, SpanKey, State, compare_attributes, compare_relations
from .cells import neutralise
from .jsonl import dumps
from .records import ExportRecord, ExportSpan

RELATED_SEPARATOR = " | "
BOM = "\ufeff"


@dataclass(frozen=True)
class FactColumns:
    """What a facts export needs of the project's schema: the attribute keys of each label
    that has attributes (figures are that label's spans), in schema order, and the relation
    type keys in the project's order."""

    attributes: Mapping[str, Sequence[str]]
    relation_types: Sequence[str]

    @property
    def attribute_keys(self) -> list[str]:
        """Every attribute key once, in the order the labels and their schemas give."""
        keys: dict[str, None] = {}
        for label_keys in self.attributes.values():
            keys.update(dict.fromkeys(label_keys))
        return list(keys)


def _span(span: ExportSpan) -> dict[str, object]:
    return {
        "start": span["start"],
        "end": span["end"],
        "label": span["label"],
        "text": span["text"],
    }


def figures(record: ExportRecord, columns: FactColumns) -> Iterator[dict[str, object]]:
    """The figure records of one annotation record, in text order."""
    spans = record["spans"]
    related: dict[int, dict[str, list[int]]] = {}
    for relation in record.get("relations", []):
        by_type = related.setdefault(relation["from"], {})
        by_type.setdefault(relation["type"], []).append(relation["to"])
    for index, span in enumerate(spans):
        if span["label"] not in columns.attributes:
            continue
        links = related.get(index, {})
        figure: dict[str, object] = {
            "article": record["article"],
            "id": record["id"],
            "title": record["title"],
            "published_at": record.get("published_at"),
            "url": record["url"],
            "span": _span(span),
            "attributes": span.get("attributes") or {},
            "related": {
                kind: [_span(spans[i]) for i in sorted(links[kind])] for kind in sorted(links)
            },
            "source": record["source"],
        }
        if "annotator" in record:
            figure["annotator"] = record["annotator"]
        figure["version"] = record["version"]
        yield figure


def stream(records: Iterable[ExportRecord], columns: FactColumns) -> Iterator[str]:
    """``facts``: the figures of every record as JSON Lines, one record's figures a piece."""
    for record in records:
        lines = [dumps(figure) + "\n" for figure in figures(record, columns)]
        if lines:
            yield "".join(lines)


def csv_header(columns: FactColumns) -> list[str]:
    return [
        "article",
        "id",
        "title",
        "published_at",
        "url",
        "source",
        "annotator",
        "version",
        "label",
        "start",
        "end",
        "text",
        *columns.attribute_keys,
        *columns.relation_types,
    ]


def csv_row(figure: Mapping[str, object], columns: FactColumns) -> list[object]:
    span: Mapping = figure["span"]  # type: ignore[assignment]
    values: Mapping = figure["attributes"]  # type: ignore[assignment]
    related: Mapping = figure["related"]  # type: ignore[assignment]
    row: list[object] = [
        figure["article"],
        figure["id"],
        figure["title"],
        figure["published_at"] or "",
        figure["url"],
        figure["source"],
        figure.get("annotator", ""),
        figure["version"],
        span["label"],
        span["start"],
        span["end"],
        span["text"],
    ]
    for key in columns.attribute_keys:
        value = values.get(key)
        row.append(
            "" if value is None else str(value).lower() if isinstance(value, bool) else value
        )
    for kind in columns.relation_types:
        row.append(RELATED_SEPARATOR.join(s["text"] for s in related.get(kind, [])))
    return [neutralise(value) for value in row]


def stream_csv(records: Iterable[ExportRecord], columns: FactColumns) -> Iterator[str]:
    """``facts-csv``: a header, then one row per figure, one record's rows a piece."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_header(columns))
    yield BOM + buffer.getvalue()
    for record in records:
        buffer.seek(0)
        buffer.truncate()
        for figure in figures(record, columns):
            writer.writerow(csv_row(figure, columns))
        if buffer.tell():
            yield buffer.getvalue()


def _state(record: ExportRecord) -> State:
    spans = [SpanKey(s["start"], s["end"], s["label"]) for s in record["spans"]]
    return State(
        spans=frozenset(spans),
        attributes={
            key: s.get("attributes") or {} for key, s in zip(spans, record["spans"], strict=True)
        },
        relations=frozenset(
            RelationKey(spans[r["from"]], spans[r["to"]], r["type"])
            for r in record.get("relations", [])
        ),
    )


def fact_changes(old: ExportRecord, new: ExportRecord) -> list[str]:
    """What changed in the facts of one article between two records of it, in words, e.g.
    ``CASUALTY "at least six more": ≥6 wounded → 7 wounded`` and
    ``+SAID_BY "one child" → "SANA news agency"``. Spans added or removed are not listed
    (only the facts of spans both records hold, and relations)."""
    before, after = _state(old), _state(new)
    text = {SpanKey(s["start"], s["end"], s["label"]): s["text"] for s in old["spans"]}
    text |= {SpanKey(s["start"], s["end"], s["label"]): s["text"] for s in new["spans"]}
    lines = []
    changed: dict[SpanKey, list[str]] = {}
    for row in compare_attributes(before, after):
        changed.setdefault(row.span, []).append(f"{row.key} {_value(row.was)}→{_value(row.now)}")
    for span, parts in changed.items():
        was, now = figure_text(before.attributes_of(span)), figure_text(after.attributes_of(span))
        what = f"{was or 'no figure'} → {now or 'no figure'}" if was != now else "; ".join(parts)
        lines.append(f'{span.label} "{text[span]}": {what}')
    for row in compare_relations(before, after):
        if row.kind != "same":
            sign = "+" if row.kind == "added" else "−"
            r = row.relation
            lines.append(f'{sign}{r.type} "{text[r.from_span]}" → "{text[r.to_span]}"')
    return lines


def _value(value: object) -> str:
    return "–" if value is None else str(value)
