"""Storing a model's predictions: the one write path of the predictions API and the ML
backend, and the figures read back (model versions with their counts and their quality
against the final gold).

Parsing and checking are pure (:mod:`annotate.assistance.predictions`); every line is checked
against its article before anything is written, then the write is one transaction. A line
replaces what the same model version predicted for that article before, so uploading a
corrected file again is harmless.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count

from ..agreement import gold as gold_scores
from ..article_parsing import Issue
from ..assistance.predictions import (
    ArticleText,
    PredictionLine,
    line_problem,
    read_predictions,
)
from ..facts.schema import FactSchema
from ..models import (
    Annotation,
    Article,
    ModelVersion,
    PredictedRelation,
    PredictedSpan,
    Project,
    Span,
)
from ..models.facts import load_facts
from .annotations import AnnotationError
from .bulk import insert_rows, max_params
from .uploads import InvalidUpload

SPAN_FIELDS = ("model_version", "article", "start", "end", "label", "text", "score", "attributes")
RELATION_FIELDS = (
    "model_version",
    "article",
    "type",
    "from_start",
    "from_end",
    "from_label",
    "to_start",
    "to_end",
    "to_label",
    "score",
)
CHECK_CHUNK = 1000  # lines whose articles are read at once


class InvalidPredictions(InvalidUpload):
    """Predictions that cannot be stored; `issues` lists every bad line. Nothing was
    written."""

    nothing_written = "No prediction was stored"


class PredictionsTooLarge(InvalidPredictions):
    status = 413


class PredictionConflict(AnnotationError):
    status = 409


@dataclass
class PredictionResult:
    created: int = 0  # predicted spans written
    relations: int = 0  # predicted relations written
    articles: int = 0  # lines stored: (article, model version) pairs
    replaced: int = 0  # spans of earlier uploads of the same (article, model version) removed
    models: list[str] = field(default_factory=list)


@dataclass
class _Rows:
    spans: list[tuple] = field(default_factory=list)
    relations: list[tuple] = field(default_factory=list)
    pairs: dict[str, set[int]] = field(default_factory=dict)  # model name -> article ids


def upload_predictions(
    *, project: Project, data: bytes | str, user=None, only: set[str] | None = None
) -> PredictionResult:
    """Read, check and store one predictions upload (JSON Lines). InvalidPredictions lists
    every bad line (PredictionsTooLarge over MAX_UPLOAD_BYTES or MAX_IMPORT_ITEMS lines);
    with `only`, a line about any other external id is refused (the ML backend must answer
    about the articles it was sent)."""
    read = read_predictions(
        data, max_lines=settings.MAX_IMPORT_ITEMS, max_bytes=settings.MAX_UPLOAD_BYTES
    )
    if read.too_large:
        raise PredictionsTooLarge(read.errors)
    if read.errors:
        raise InvalidPredictions(read.errors)
    return save_predictions(project=project, lines=read.lines, user=user, only=only)


def save_predictions(
    *,
    project: Project,
    lines: Sequence[PredictionLine],
    user=None,
    only: set[str] | None = None,
) -> PredictionResult:
    """Check `lines` against their articles and the project's labels and schema, then
    store them in one transaction, each replacing its model version's earlier predictions
    for that article."""
    rows = _checked_rows(project, lines, only)
    try:
        with transaction.atomic():
            return _write(project, rows, user)
    except IntegrityError:
        raise PredictionConflict(
            "Another upload stored predictions of the same model at the same time; nothing "
            "was stored. Send the file again."
        )


def _checked_rows(
    project: Project, lines: Sequence[PredictionLine], only: set[str] | None
) -> _Rows:
    labels = dict(project.labels.values_list("key", "pk"))
    facts = load_facts(project.pk)
    uses_facts = any(line.relations or any(s.attributes for s in line.spans) for line in lines)
    schema = facts.schema if uses_facts else FactSchema()
    type_ids = facts.type_ids if uses_facts else {}
    rows = _Rows()
    errors: list[Issue] = []
    for chunk in _chunks(lines, CHECK_CHUNK):
        articles = _articles(project, [line.external_id for line in chunk])
        for line in chunk:
            found = articles.get(line.external_id)
            if found is None or (only is not None and line.external_id not in only):
                where = "in this project" if found is None else "among the articles sent"
                errors.append(
                    Issue(
                        f"there is no article with id {line.external_id!r} {where}", line=line.line
                    )
                )
                continue
            pk, text = found
            problem = line_problem(line, ArticleText(len(text), text), labels, schema)
            if problem:
                errors.append(Issue(problem, line=line.line))
                continue
            _add_rows(rows, line, pk, text, labels, type_ids)
    if errors:
        raise InvalidPredictions(errors)
    return rows


def _add_rows(
    rows: _Rows,
    line: PredictionLine,
    article_id: int,
    text: str,
    labels: dict[str, int],
    type_ids: dict[str, int],
) -> None:
    rows.pairs.setdefault(line.model, set()).add(article_id)
    for span, attributes in zip(line.spans, line.attributes, strict=True):
        rows.spans.append(
            (
                line.model,
                article_id,
                span.start,
                span.end,
                labels[span.label],
                text[span.start : span.end],
                span.score,
                attributes,
            )
        )
    for relation in line.relations:
        source = line.spans[relation.from_index]  # type: ignore[index]
        target = line.spans[relation.to_index]  # type: ignore[index]
        rows.relations.append(
            (
                line.model,
                article_id,
                type_ids[relation.type],  # type: ignore[index]
                source.start,
                source.end,
                labels[source.label],
                target.start,
                target.end,
                labels[target.label],
                relation.score,
            )
        )


def _write(project: Project, rows: _Rows, user) -> PredictionResult:
    versions: dict[str, int] = {}
    for name in sorted(rows.pairs):
        version, _ = ModelVersion.objects.get_or_create(
            project=project, name=name, defaults={"created_by": user}
        )
        versions[name] = version.pk
    result = PredictionResult(models=sorted(rows.pairs))
    size = max(max_params() - 1, 1)
    for name, article_ids in rows.pairs.items():
        ids = sorted(article_ids)
        result.articles += len(ids)
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            filters = {"model_version_id": versions[name], "article_id__in": chunk}
            result.replaced += PredictedSpan.objects.filter(**filters).delete()[0]
            PredictedRelation.objects.filter(**filters).delete()
    insert_rows(PredictedSpan, SPAN_FIELDS, [(versions[r[0]], *r[1:]) for r in rows.spans])
    insert_rows(
        PredictedRelation, RELATION_FIELDS, [(versions[r[0]], *r[1:]) for r in rows.relations]
    )
    result.created = len(rows.spans)
    result.relations = len(rows.relations)
    return result


def _articles(project: Project, external_ids: list[str]) -> dict[str, tuple[int, str]]:
    """The project's articles with these external ids: external id -> (id, text)."""
    found: dict[str, tuple[int, str]] = {}
    size = max(max_params() - 1, 1)
    for start in range(0, len(external_ids), size):
        query = Article.objects.filter(
            project=project, external_id__in=external_ids[start : start + size]
        ).order_by()
        found.update(
            (e, (pk, text)) for e, pk, text in query.values_list("external_id", "pk", "text")
        )
    return found


def _chunks(items: Sequence[PredictionLine], size: int) -> Iterator[Sequence[PredictionLine]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- reading back ----------------------------------------------------------------------------


@dataclass
class ModelSummary:
    name: str
    created_at: object
    articles: int
    spans: int
    relations: int
    quality: gold_scores.EditorScore | None = None  # None: no article with final gold


def model_versions(project: Project, *, with_quality: bool = True) -> list[ModelSummary]:
    """The project's model versions (by name) with how many articles and spans they
    predicted, and, with `with_quality`, each one's precision, recall and F1 per label
    against the final gold (see :func:`model_quality`)."""
    versions = list(
        ModelVersion.objects.filter(project=project)
        .annotate(
            span_count=Count("spans", distinct=True),
            article_count=Count("spans__article", distinct=True),
        )
        .order_by("name")
    )
    relation_counts = dict(
        PredictedRelation.objects.filter(model_version__project=project)
        .order_by()
        .values("model_version")
        .annotate(n=Count("pk"))
        .values_list("model_version", "n")
    )
    quality = model_quality(project) if with_quality and versions else {}
    return [
        ModelSummary(
            name=v.name,
            created_at=v.created_at,
            articles=v.article_count,
            spans=v.span_count,
            relations=relation_counts.get(v.pk, 0),
            quality=quality.get(v.name),
        )
        for v in versions
    ]


def model_quality(
    project: Project, names: Sequence[str] | None = None
) -> dict[str, gold_scores.EditorScore]:
    """Each model version (or those named) against the final gold, exact match, over the
    articles whose gold is final and for which the version predicted at least one span:
    precision, recall and F1 overall and per label (:mod:`annotate.agreement.gold`, the
    same scoring as each editor's). A version with no such article is left out."""
    golds = dict(
        Annotation.objects.gold()
        .filter(article__project=project, final=True)
        .values_list("pk", "article_id")
    )
    if not golds:
        return {}
    predicted = PredictedSpan.objects.filter(
        model_version__project=project, article_id__in=list(golds.values())
    )
    if names is not None:
        predicted = predicted.filter(model_version__name__in=list(names))
    model_spans: dict[tuple[str, int], list[gold_scores.Key]] = {}
    rows = predicted.order_by().values_list(
        "model_version__name", "article_id", "start", "end", "label__key"
    )
    for name, article_id, start, end, label in rows.iterator(chunk_size=5000):
        model_spans.setdefault((name, article_id), []).append((start, end, label))
    if not model_spans:
        return {}
    gold_spans: dict[int, list[gold_scores.Key]] = {}
    articles = {article for _, article in model_spans}
    gold_rows = (
        Span.objects.filter(
            annotation_id__in=[pk for pk, article in golds.items() if article in articles],
            removed_in__isnull=True,
        )
        .order_by()
        .values_list("annotation_id", "start", "end", "label__key")
    )
    for annotation_id, start, end, label in gold_rows.iterator(chunk_size=5000):
        gold_spans.setdefault(golds[annotation_id], []).append((start, end, label))
    scored = gold_scores.scores(sorted(model_spans), model_spans, gold_spans)
    return {row.editor: row for row in scored}
