"""Importing a dataset: articles with their gold spans, as the JSON Lines export writes them.

This closes the loop export → import → export: a gold export of one project (or of another
instance) loaded into a new project exports again with identical ids, texts and spans.
Articles go through the article importer (:mod:`annotate.services.importing`) and spans
through the one annotation write path (``save_annotation``), all in one transaction:
any invalid record and nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from ..article_parsing import Issue, Limits, parse_record
from ..models import Project, Role
from .annotations import InvalidSpans, RelationInput, SpanInput, gold_for, save_annotation
from .importing import ImportResult, ImportTooLarge, InvalidImport, import_articles, upload_limits

ARTICLE_KEYS = {
    "id": "external_id",
    "title": "title",
    "text": "text",
    "url": "url",
    "published_at": "published_at",
}
# Fields of an exported record that describe where it came from; they are not imported.
PROVENANCE_KEYS = frozenset({"article", "version", "adjudicator", "annotators", "status"})
SPAN_KEYS = frozenset({"start", "end", "label", "text", "id", "attributes"})
RELATION_KEYS = frozenset({"from", "to", "type"})


@dataclass
class DatasetItem:
    where: Issue
    record: Any
    spans: list[SpanInput]
    final: bool
    relations: list[RelationInput] | None = None  # None: the record has no relations key


def parse_dataset(data: bytes, *, format: str, limits: Limits | None = None) -> list[DatasetItem]:
    """The records of a JSON Lines export (or a JSON array of such records), or
    InvalidImport listing every problem by line or index."""
    limits = limits or upload_limits()
    if limits.max_bytes is not None and len(data) > limits.max_bytes:
        raise ImportTooLarge([Issue(f"the upload is over {limits.max_bytes} bytes")])
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise InvalidImport([Issue("the body is not valid UTF-8")])
    raw: list[tuple[Issue, object]] = []
    errors: list[Issue] = []
    if format == "json":
        try:
            items = json.loads(text)
        except RecursionError:
            raise InvalidImport([Issue("not valid JSON: nested too deeply")]) from None
        except ValueError as exc:
            raise InvalidImport([Issue(f"not valid JSON: {exc}")])
        if not isinstance(items, list):
            raise InvalidImport([Issue("expected a JSON array of records")])
        raw = [(Issue("", index=i), item) for i, item in enumerate(items)]
    else:
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                raw.append((Issue("", line=number), json.loads(line)))
            except RecursionError:
                errors.append(Issue("not valid JSON: nested too deeply", line=number))
            except ValueError as exc:
                errors.append(Issue(f"not valid JSON: {exc}", line=number))
    if limits.max_items is not None and len(raw) > limits.max_items:
        raise InvalidImport([Issue(f"more than {limits.max_items} records (MAX_IMPORT_ITEMS)")])
    result: list[DatasetItem] = []
    seen: set[str] = set()
    for where, obj in raw:
        try:
            item = _item(where, obj, limits)
        except ValueError as exc:
            errors.append(Issue(str(exc), line=where.line, index=where.index))
            continue
        if item.record["external_id"] in seen:
            errors.append(
                Issue(
                    f"id {item.record['external_id']!r} appears twice",
                    line=where.line,
                    index=where.index,
                )
            )
            continue
        seen.add(item.record["external_id"])
        result.append(item)
    if not result and not errors:
        errors.append(Issue("no records found: the body is empty"))
    if errors:
        raise InvalidImport(errors)
    return result


def _item(where: Issue, obj: object, limits: Limits) -> DatasetItem:
    if not isinstance(obj, dict):
        raise ValueError("each record must be a JSON object")
    allowed = set(ARTICLE_KEYS) | {"spans", "relations", "source", "final"} | PROVENANCE_KEYS
    unknown = sorted(k for k in obj if k not in allowed)
    if unknown:
        raise ValueError(f"unknown field {', '.join(map(repr, unknown))}")
    if obj.get("source", "gold") != "gold":
        raise ValueError("only gold records can be imported (this one is an editor's)")
    final = obj.get("final", False)
    if not isinstance(final, bool):
        raise ValueError("final must be true or false")
    record = parse_record(
        {target: obj[key] for key, target in ARTICLE_KEYS.items() if key in obj}, limits=limits
    )
    if isinstance(obj.get("text"), str) and record["text"] != obj["text"]:
        raise ValueError(
            "text is not in canonical form (LF line ends, NFC, no BOM), so its span offsets "
            "would not fit; export it again from this tool or normalise it first"
        )
    spans = obj.get("spans", [])
    if not isinstance(spans, list):
        raise ValueError("spans must be an array")
    inputs = []
    for index, span in enumerate(spans):
        if not isinstance(span, dict) or not {"start", "end", "label"} <= span.keys():
            raise ValueError(f"span {index} must be an object with start, end and label")
        if set(span) - SPAN_KEYS:
            raise ValueError(f"span {index} has unknown fields")
        try:
            inputs.append(SpanInput.from_dict({k: v for k, v in span.items() if k != "id"}))
        except InvalidSpans as exc:
            raise ValueError(f"span {index}: {exc.detail.rstrip('.')}") from None
    relations = _relations(obj["relations"]) if "relations" in obj else None
    return DatasetItem(where=where, record=record, spans=inputs, final=final, relations=relations)


def _relations(relations: object) -> list[RelationInput]:
    """The shape of a record's relations; their ends and types are checked on writing."""
    if not isinstance(relations, list):
        raise ValueError("relations must be an array")
    result = []
    for index, relation in enumerate(relations):
        if not isinstance(relation, dict) or set(relation) != RELATION_KEYS:
            raise ValueError(f"relation {index} must be an object with from, to and type")
        result.append(RelationInput(relation["from"], relation["to"], relation["type"]))
    return result


def import_dataset(*, project: Project, items: list[DatasetItem], user) -> ImportResult:
    """Create the articles and their gold annotations. Articles whose external id the
    project already has are skipped, gold and all."""
    with transaction.atomic():
        result = import_articles(
            project=project, records=[i.record for i in items], user=user, assign=False
        )
        skipped = set(result.skipped)
        fresh = [i for i in items if i.record["external_id"] not in skipped]
        articles = {
            a.external_id: a
            for a in project.articles.filter(pk__in=result.article_ids).select_related("project")
        }
        for item in fresh:
            if not item.spans and not item.final and not item.relations:
                continue
            gold = gold_for(articles[item.record["external_id"]])
            try:
                save_annotation(
                    annotation=gold,
                    author=user,
                    role=Role.MANAGER,
                    base_version=0,
                    spans=item.spans,
                    relations=item.relations,
                    final=item.final or None,
                    note="Imported",
                )
            except InvalidSpans as exc:
                where = item.where
                raise InvalidImport(
                    [Issue(exc.detail.rstrip("."), line=where.line, index=where.index)]
                ) from None
    return result
