"""Reading annotations out for export, in constant memory however large the project.

The annotations to export are listed a window of ``WINDOW`` articles at a time, and read in
chunks of ``chunk_size`` (each chunk is one query for their articles, one for their spans
and, for gold, one for who wrote them and one for who submitted the article), so memory
depends on the window and chunk sizes, never on the project size, and no cursor stays open
while a response streams. Each record carries the annotation version its spans were read
at: spans are read *as of that version*, so a save that lands while an export runs cannot
mix two versions into one record.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from django.db.models import Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast

from ..exports import ExportRecord, ExportRelation, ExportSpan, FactColumns
from ..models import (
    Annotation,
    AnnotationVersion,
    Article,
    AttributeDefinition,
    Flag,
    Label,
    Project,
    Relation,
    RelationType,
    Span,
)

Source = Literal["gold", "editors"]
SOURCES: tuple[Source, ...] = ("gold", "editors")
Row = tuple[int, int, int, str, bool, str | None]  # id, article, version, status, final, annotator
CHUNK_SIZE = 200
WINDOW = 1000
VERSIONS_PER_QUERY = 100


@dataclass(frozen=True)
class Target:
    """One annotation to export, at one version."""

    article_id: int
    annotation_id: int
    version: int


def label_keys(project: Project) -> dict[int, str]:
    """The project's label keys by label id, in the project's label order."""
    return dict(
        Label.objects.filter(project=project).order_by("order", "key").values_list("id", "key")
    )


def fact_columns(project: Project) -> FactColumns:
    """The columns of the facts formats: the attribute keys of each label that has some (its
    spans are the figures), and the relation type keys, each in the project's order."""
    attributes: dict[str, list[str]] = {}
    rows = (
        AttributeDefinition.objects.filter(label__project=project)
        .order_by("label__order", "label__key", "order", "key")
        .values_list("label__key", "key")
    )
    for label, key in rows:
        attributes.setdefault(label, []).append(key)
    types = RelationType.objects.filter(project=project).order_by("order", "key")
    return FactColumns(attributes, list(types.values_list("key", flat=True)))


def label_ranks(keys_in_order: Iterable[str]) -> dict[str, int]:
    """Each label key's place in the label order: spans at the same offsets are listed in
    it, so where spans tie for a token (CoNLL, spaCy ``entities``) the label listed first
    in the project wins, as in the agreement code."""
    return {key: rank for rank, key in enumerate(keys_in_order)}


def annotations_to_export(
    project: Project, *, source: Source, final_only: bool, exclude_flagged: bool = False
):
    """The annotations an export of `source` covers: saved at least once; for gold with
    `final_only`, final ones; for editors with `final_only`, those of articles whose gold is
    final; with `exclude_flagged`, none of an article with an open or upheld flag."""
    query = Annotation.objects.filter(article__project=project, version__gt=0)
    if exclude_flagged:
        query = query.exclude(
            Exists(Flag.objects.standing().filter(article_id=OuterRef("article_id")))
        )
    if source == "gold":
        query = query.filter(kind=Annotation.Kind.GOLD)
        if final_only:
            query = query.filter(final=True)
    else:
        query = query.filter(kind=Annotation.Kind.EDITOR)
        if final_only:
            final_gold = Annotation.objects.filter(
                article_id=OuterRef("article_id"), kind=Annotation.Kind.GOLD, final=True
            )
            query = query.filter(Exists(final_gold))
    return query


def count_records(
    project: Project,
    *,
    source: Source = "gold",
    final_only: bool = False,
    exclude_flagged: bool = False,
) -> int:
    return annotations_to_export(
        project, source=source, final_only=final_only, exclude_flagged=exclude_flagged
    ).count()


def export_records(
    project: Project,
    *,
    source: Source = "gold",
    final_only: bool = False,
    exclude_flagged: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[ExportRecord]:
    """Every annotation of `source` in the project as an export record, by article id (an
    article's editor annotations in the order they were started)."""
    keys = label_keys(project)
    query = annotations_to_export(
        project, source=source, final_only=final_only, exclude_flagged=exclude_flagged
    )
    rows = _rows(project, query)
    while chunk := list(itertools.islice(rows, chunk_size)):
        yield from _chunk_records(chunk, keys, gold=source == "gold")


def _rows(project: Project, query: QuerySet[Annotation]) -> Iterator[Row]:
    """(id, article id, version, status, final, annotator) of each annotation of `query`, by
    article id then id, read a window of WINDOW articles at a time: the window's upper end
    is found on the index of the project's articles, so each query sorts one window
    whatever the project's size (paging with LIMIT would make the database sort everything
    after the page, again for every page)."""
    articles = Article.objects.filter(project=project).order_by("id").values_list("id", flat=True)
    fields = ("id", "article_id", "version", "status", "final", "annotator__username")
    low = 0
    while True:
        high = articles.filter(id__gte=low)[WINDOW : WINDOW + 1].first()
        window = query.filter(article_id__gte=low)
        if high is not None:
            window = window.filter(article_id__lt=high)
        yield from window.order_by("article_id", "id").values_list(*fields)
        if high is None:
            return
        low = high


def _chunk_records(rows: list[Row], keys: dict[int, str], *, gold: bool) -> Iterator[ExportRecord]:
    targets = [
        Target(article_id, annotation_id, version)
        for annotation_id, article_id, version, *_ in rows
    ]
    articles = _articles({t.article_id for t in targets})
    texts = {a: fields[3] for a, fields in articles.items()}
    spans = spans_at_versions(targets, keys, texts, ranks=label_ranks(keys.values()))
    relations = relations_at_versions(targets, keys, spans)
    if gold:
        authors = version_authors(targets)
        editors = submitted_editors(articles)
    for annotation_id, article_id, version, status, final, annotator in rows:
        external_id, title, url, text, published = articles[article_id]
        record: ExportRecord = {
            "id": external_id,
            "article": article_id,
            "title": title,
            "url": url,
            "published_at": timestamp(published),
            "text": text,
            "spans": spans.get(annotation_id, []),
            "relations": relations.get(annotation_id, []),
            "source": "gold" if gold else "editor",
            "version": version,
        }
        if gold:
            record["adjudicator"] = authors.get((annotation_id, version))
            record["annotators"] = editors.get(article_id, [])
            record["final"] = final
        else:
            record["annotator"] = annotator
            record["status"] = status
        yield record


def _articles(ids: Iterable[int]) -> dict[int, tuple]:
    """External id, title, URL, text and publication time of each article."""
    query = (
        Article.objects.filter(id__in=list(ids))
        .order_by()
        .values_list("id", "external_id", "title", "url", "text", "published_at")
    )
    return {article_id: rest for article_id, *rest in query}


def timestamp(value) -> str | None:
    """ISO 8601 in UTC with a Z, as every export writes times."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def spans_at_versions(
    targets: Sequence[Target],
    keys: dict[int, str],
    texts: dict[int, str],
    *,
    ranks: Mapping[str, int] | None = None,
    facts: bool = True,
) -> dict[int, list[ExportSpan]]:
    """The spans of each target annotation as of its version, in one query (one per
    VERSIONS_PER_QUERY distinct versions), sorted by start, end and label: by the label's
    place in `ranks` (the project's label order), or by label key without `ranks`. Span text
    is cut from the article text, so ``text[start:end] == span["text"]`` holds by
    construction. With `facts`, each span carries its ``attributes`` (``{}`` when none)."""
    found: dict[int, list[tuple[int, int, str, dict]]] = defaultdict(list)
    # The attributes as JSON text: most spans have none, and "{}" needs no decoding; the
    # others repeat a few values ("killed", 3), decoded once each. The dicts are shared
    # between spans: read-only. jsonb keeps no key order: sorted, for the same bytes on
    # every database.
    raw = Cast("attributes", output_field=TextField())
    fields = ("annotation_id", "start", "end", "label_id", raw)
    decoded: dict[str, dict] = {"{}": {}}
    for annotation_id, start, end, label_id, attributes in _alive_rows(Span, targets, fields):
        if not facts:
            values = {}
        elif (values := decoded.get(attributes)) is None:
            values = decoded[attributes] = dict(sorted(json.loads(attributes).items()))
        found[annotation_id].append((start, end, keys[label_id], values))
    articles = {t.annotation_id: t.article_id for t in targets}
    result: dict[int, list[ExportSpan]] = {}
    for annotation_id, items in found.items():
        text = texts[articles[annotation_id]]
        if ranks is None:
            items.sort(key=lambda item: item[:3])
        else:
            items.sort(key=lambda item: (item[0], item[1], ranks.get(item[2], len(ranks)), item[2]))
        if facts:
            result[annotation_id] = [
                {
                    "start": s,
                    "end": e,
                    "label": label,
                    "text": text[s:e],
                    "attributes": values,
                }
                for s, e, label, values in items
            ]
        else:
            result[annotation_id] = [
                {"start": s, "end": e, "label": label, "text": text[s:e]}
                for s, e, label, _ in items
            ]
    return result


def relations_at_versions(
    targets: Sequence[Target], keys: dict[int, str], spans: Mapping[int, list[ExportSpan]]
) -> dict[int, list[ExportRelation]]:
    """The relations of each target annotation as of its version, as indexes into its
    `spans` list (``{"from": i, "to": j, "type": KEY}``), sorted by (from, to, type); in one
    query per VERSIONS_PER_QUERY distinct versions."""
    fields = (
        "annotation_id",
        "from_start",
        "from_end",
        "from_label_id",
        "to_start",
        "to_end",
        "to_label_id",
        "type__key",
    )
    found: dict[int, list[tuple]] = defaultdict(list)
    for annotation_id, *row in _alive_rows(Relation, targets, fields):
        found[annotation_id].append(row)
    result: dict[int, list[ExportRelation]] = {}
    for annotation_id, rows in found.items():
        at = {
            (s["start"], s["end"], s["label"]): i
            for i, s in enumerate(spans.get(annotation_id, []))
        }
        items = []
        for fs, fe, fl, ts, te, tl, kind in rows:
            source, target = at.get((fs, fe, keys[fl])), at.get((ts, te, keys[tl]))
            if source is not None and target is not None:  # ends always exist: kept together
                items.append({"from": source, "to": target, "type": kind})
        items.sort(key=lambda r: (r["from"], r["to"], r["type"]))
        result[annotation_id] = items
    return result


def _alive_rows(model, targets: Sequence[Target], fields: Sequence) -> Iterator[tuple]:
    """`fields` of the rows of `model` (a temporal table: ``added_in``, ``removed_in``)
    alive in each target annotation at its version."""
    by_version: dict[int, list[int]] = defaultdict(list)
    for target in targets:
        by_version[target.version].append(target.annotation_id)
    versions = list(by_version.items())
    # One condition per version; at most VERSIONS_PER_QUERY of them OR'ed in one query, as
    # SQLite nests each OR one level deeper and refuses an expression 1,000 levels deep.
    for first in range(0, len(versions), VERSIONS_PER_QUERY):
        alive = Q()
        for version, ids in versions[first : first + VERSIONS_PER_QUERY]:
            alive |= Q(annotation_id__in=ids, added_in__lte=version) & (
                Q(removed_in__isnull=True) | Q(removed_in__gt=version)
            )
        # No default ordering (it joins tables); the caller sorts.
        yield from model.objects.filter(alive).order_by().values_list(*fields)


def version_authors(targets: Sequence[Target]) -> dict[tuple[int, int], str]:
    """Who wrote each (annotation, version), in one query."""
    rows = (
        AnnotationVersion.objects.filter(
            annotation_id__in=[t.annotation_id for t in targets],
            number__in={t.version for t in targets},
        )
        .order_by()
        .values_list("annotation_id", "number", "author__username")
    )
    return {(a, n): who for a, n, who in rows}


def submitted_editors(article_ids: Iterable[int]) -> dict[int, list[str]]:
    """The editors who submitted each article, sorted by username, in one query."""
    rows = (
        Annotation.objects.submitted()
        .filter(article_id__in=list(article_ids))
        .values_list("article_id", "annotator__username")
        .order_by("article_id", "annotator__username")
    )
    result: dict[int, list[str]] = defaultdict(list)
    for article_id, username in rows:
        result[article_id].append(username)
    return result
