"""Reading annotations out for export, in constant memory however large the project.

The database is read in chunks of ``chunk_size`` annotations with keyset pagination (each
chunk is one query for the annotations, one for their articles, one for their spans and, for
gold, one for who wrote them), so memory depends on the chunk size, never on the project
size, and no cursor stays open between chunks while a response streams. Each record carries
the annotation version its spans were read at: spans are read *as of that version*, so a
save that lands while an export runs cannot mix two versions into one record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from django.db.models import Exists, OuterRef, Q

from ..exports import ExportRecord, ExportSpan
from ..models import Annotation, AnnotationVersion, Article, Label, Project, Span

Source = Literal["gold", "editors"]
SOURCES: tuple[Source, ...] = ("gold", "editors")
CHUNK_SIZE = 200


@dataclass(frozen=True)
class Target:
    """One annotation to export, at one version."""

    article_id: int
    annotation_id: int
    version: int


def label_keys(project: Project) -> dict[int, str]:
    return dict(Label.objects.filter(project=project).values_list("id", "key"))


def annotations_to_export(project: Project, *, source: Source, final_only: bool):
    """The annotations an export of `source` covers: saved at least once; for gold with
    `final_only`, final ones; for editors with `final_only`, those of articles whose gold is
    final."""
    query = Annotation.objects.filter(article__project=project, version__gt=0)
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


def count_records(project: Project, *, source: Source = "gold", final_only: bool = False) -> int:
    return annotations_to_export(project, source=source, final_only=final_only).count()


def export_records(
    project: Project,
    *,
    source: Source = "gold",
    final_only: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[ExportRecord]:
    """Every annotation of `source` in the project as an export record, by article id (an
    article's editor annotations in the order they were started)."""
    keys = label_keys(project)
    query = annotations_to_export(project, source=source, final_only=final_only).order_by(
        "article_id", "id"
    )
    fields = ("id", "article_id", "version", "status", "final", "annotator__username")
    after: tuple[int, int] | None = None
    while True:
        page = query
        if after is not None:
            page = page.filter(Q(article_id__gt=after[0]) | Q(article_id=after[0], id__gt=after[1]))
        rows = list(page.values(*fields)[:chunk_size])
        if not rows:
            return
        after = (rows[-1]["article_id"], rows[-1]["id"])
        yield from _chunk_records(rows, keys, gold=source == "gold")


def _chunk_records(rows: list[dict], keys: dict[int, str], *, gold: bool) -> Iterator[ExportRecord]:
    targets = [Target(r["article_id"], r["id"], r["version"]) for r in rows]
    articles = _articles({t.article_id for t in targets})
    spans = spans_at_versions(targets, keys, {a: articles[a]["text"] for a in articles})
    if gold:
        authors = version_authors(targets)
        editors = submitted_editors({t.article_id for t in targets})
    for row, target in zip(rows, targets, strict=True):
        article = articles[target.article_id]
        record: ExportRecord = {
            "id": article["external_id"],
            "article": target.article_id,
            "title": article["title"],
            "url": article["url"],
            "text": article["text"],
            "spans": spans.get(target.annotation_id, []),
            "source": "gold" if gold else "editor",
            "version": target.version,
        }
        if gold:
            record["adjudicator"] = authors.get((target.annotation_id, target.version))
            record["annotators"] = editors.get(target.article_id, [])
            record["final"] = row["final"]
        else:
            record["annotator"] = row["annotator__username"]
            record["status"] = row["status"]
        yield record


def _articles(ids: Iterable[int]) -> dict[int, dict]:
    query = Article.objects.filter(id__in=list(ids)).values(
        "id", "external_id", "title", "url", "text", "sha256"
    )
    return {a["id"]: a for a in query}


def spans_at_versions(
    targets: Sequence[Target], keys: dict[int, str], texts: dict[int, str]
) -> dict[int, list[ExportSpan]]:
    """The spans of each target annotation as of its version, in one query, sorted by
    (start, end, label key). Span text is cut from the article text, so
    ``text[start:end] == span["text"]`` holds by construction."""
    if not targets:
        return {}
    wanted = {t.annotation_id: t for t in targets}
    low = min(t.version for t in targets)
    high = max(t.version for t in targets)
    rows = (
        Span.objects.filter(annotation_id__in=list(wanted), added_in__lte=high)
        .filter(Q(removed_in__isnull=True) | Q(removed_in__gt=low))
        .values_list("annotation_id", "start", "end", "label_id", "added_in", "removed_in")
    )
    found: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for annotation_id, start, end, label_id, added_in, removed_in in rows:
        version = wanted[annotation_id].version
        if added_in <= version and (removed_in is None or removed_in > version):
            found[annotation_id].append((start, end, keys[label_id]))
    result: dict[int, list[ExportSpan]] = {}
    for annotation_id, items in found.items():
        text = texts[wanted[annotation_id].article_id]
        result[annotation_id] = [
            {"start": s, "end": e, "label": label, "text": text[s:e]}
            for s, e, label in sorted(items)
        ]
    return result


def version_authors(targets: Sequence[Target]) -> dict[tuple[int, int], str]:
    """Who wrote each (annotation, version), in one query."""
    rows = AnnotationVersion.objects.filter(
        annotation_id__in=[t.annotation_id for t in targets],
        number__in={t.version for t in targets},
    ).values_list("annotation_id", "number", "author__username")
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
