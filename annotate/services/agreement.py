"""Agreement statistics kept in step with submitted annotations, and the project report.

- :func:`refresh_article` recomputes one article's statistics (both kinds of unit) and
  moves its contribution between editor-group totals. It runs inside the transaction that
  submits or corrects an annotation (``services.annotations._after_save``).
- :func:`recompute_project` rebuilds everything from the annotations (the
  ``recompute_agreement`` command); it gives the same figures as the incremental path.
- :func:`project_report` aggregates the stored totals (or, for a chosen set of articles,
  the stored article rows) into the report the page and the API show.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Max

from ..agreement import report as agreement_report
from ..agreement import stats as agreement_stats
from ..agreement.units import CHAR, TOKEN, UNITS
from ..models import (
    AgreementTotal,
    Annotation,
    Article,
    ArticleAgreement,
    Label,
    Project,
    Span,
)

BATCH_ARTICLES = 2_000
DEFAULT_ARTICLES_LIMIT = 1_000
MAX_ARTICLES_LIMIT = 100_000
MAX_ARTICLE_IDS = 10_000


class AgreementQueryError(ValueError):
    """A report filter that cannot be applied (unknown label or editor, bad unit)."""


# --- Computing ---------------------------------------------------------------------------


def _label_ids(project_id: int) -> list[int]:
    return list(
        Label.objects.filter(project_id=project_id)
        .order_by("order", "key")
        .values_list("id", flat=True)
    )


def _inputs(
    article_ids: Sequence[int], label_ids: Sequence[int]
) -> list[agreement_stats.ArticleSpans]:
    """Submitted editor annotations with their current spans, for articles that at least two
    editors submitted."""
    annotations: dict[int, list[dict]] = {}
    for row in (
        Annotation.objects.submitted()
        .filter(article_id__in=article_ids)
        .values("id", "article_id", "annotator_id", "version")
    ):
        annotations.setdefault(row["article_id"], []).append(row)
    compared = {a: rows for a, rows in annotations.items() if len(rows) >= 2}
    if not compared:
        return []
    spans: dict[int, tuple[list[int], list[int], list[int]]] = {}
    index = {label: i for i, label in enumerate(label_ids)}
    wanted = [row["id"] for rows in compared.values() for row in rows]
    for annotation_id, start, end, label_id in Span.objects.filter(
        annotation_id__in=wanted, removed_in__isnull=True
    ).values_list("annotation_id", "start", "end", "label_id"):
        bucket = spans.setdefault(annotation_id, ([], [], []))
        bucket[0].append(start)
        bucket[1].append(end)
        bucket[2].append(index[label_id])
    texts = dict(Article.objects.filter(pk__in=list(compared)).values_list("pk", "text"))
    result = []
    for article_id in sorted(compared):
        editors = []
        for row in compared[article_id]:
            starts, ends, labels = spans.get(row["id"], ([], [], []))
            editors.append(
                agreement_stats.EditorSpans(
                    row["annotator_id"], row["version"], starts, ends, labels
                )
            )
        result.append(agreement_stats.ArticleSpans(article_id, texts[article_id], editors))
    return result


def _score(stats: dict, n_labels: int) -> float | None:
    collapse = agreement_report.collapse_matrix(n_labels, list(range(n_labels)))
    record = agreement_report.Record(stats["editors"], stats)
    return agreement_report.article_alpha(record, collapse)


def _row_fields(stats: dict, label_ids: Sequence[int]) -> dict:
    return {
        "editors": stats["editors"],
        "versions": stats["versions"],
        "labels": list(label_ids),
        "stats": stats,
        "units": stats["units"],
        "score": _score(stats, len(label_ids)),
    }


def _group(editors: Iterable[int]) -> str:
    return ",".join(str(e) for e in editors)


def _locked_total(project_id: int, unit: str, editors: Sequence[int]) -> AgreementTotal:
    group = _group(editors)
    total = (
        AgreementTotal.objects.select_for_update()
        .filter(project_id=project_id, unit=unit, group=group)
        .first()
    )
    if total is not None:
        return total
    try:
        with transaction.atomic():
            return AgreementTotal.objects.create(
                project_id=project_id,
                unit=unit,
                group=group,
                editors=list(editors),
                labels=[],
                articles=0,
                stats={},
            )
    except IntegrityError:
        # Another transaction created it first; wait for its lock.
        return AgreementTotal.objects.select_for_update().get(
            project_id=project_id, unit=unit, group=group
        )


def _apply(row: ArticleAgreement, sign: int, label_ids: Sequence[int], *, create: bool) -> None:
    """Add (sign 1) or subtract (sign -1) an article's statistics to its group's total."""
    if create:
        total = _locked_total(row.project_id, row.unit, row.editors)
    else:
        total = (
            AgreementTotal.objects.select_for_update()
            .filter(project_id=row.project_id, unit=row.unit, group=_group(row.editors))
            .first()
        )
        if total is None:
            return
    part = agreement_stats.contribution(agreement_stats.align(row.stats, row.labels, label_ids))
    current = agreement_stats.align(total.stats, total.labels, label_ids) if total.stats else None
    summed = agreement_stats.add(current, part, sign)
    if summed["articles"] <= 0:
        total.delete()
        return
    total.stats = summed
    total.labels = list(label_ids)
    total.articles = summed["articles"]
    total.save(update_fields=["stats", "labels", "articles", "updated_at"])


def refresh_article(article: Article) -> None:
    """Recompute the article's statistics from its submitted annotations, and its group
    totals. Call inside the transaction that changed an annotation of the article."""
    with transaction.atomic():
        # One refresh at a time per project: totals are shared by every article of an editor
        # group, and row locks taken in different orders by concurrent submits deadlock.
        list(Project.objects.select_for_update().filter(pk=article.project_id).values("pk"))
        label_ids = _label_ids(article.project_id)
        old = {
            row.unit: row
            for row in ArticleAgreement.objects.select_for_update().filter(article_id=article.pk)
        }
        inputs = _inputs([article.pk], label_ids) if label_ids else []
        if not inputs:
            for row in old.values():
                _apply(row, -1, label_ids, create=False)
                row.totals_updated = True  # the delete hook must not subtract it again
                row.delete()
            return
        computed = agreement_stats.compute(inputs, len(label_ids), UNITS)
        # Lock every total this refresh touches in one order, so that two refreshes moving
        # articles between the same editor groups cannot deadlock.
        groups = {_group(row.editors) for row in old.values()}
        groups.add(_group(computed[UNITS[0]][0]["editors"]))
        list(
            AgreementTotal.objects.select_for_update()
            .filter(project_id=article.project_id, group__in=groups)
            .order_by("unit", "group")
            .values_list("pk", flat=True)
        )
        for unit in UNITS:
            fields = _row_fields(computed[unit][0], label_ids)
            row = old.get(unit)
            if row is not None:
                _apply(row, -1, label_ids, create=False)
                for name, value in fields.items():
                    setattr(row, name, value)
                row.save()
            else:
                row = ArticleAgreement.objects.create(
                    article_id=article.pk, project_id=article.project_id, unit=unit, **fields
                )
            _apply(row, 1, label_ids, create=True)


def annotation_saved(annotation: Annotation) -> None:
    """The hook: refresh when an editor's annotation is submitted, or when one that was
    compared changes (a correction, or going back to in progress)."""
    if annotation.kind != Annotation.Kind.EDITOR:
        return
    if annotation.status != Annotation.Status.SUBMITTED:
        compared = (
            ArticleAgreement.objects.filter(article_id=annotation.article_id)
            .values_list("editors", flat=True)
            .first()
        )
        if not compared or annotation.annotator_id not in compared:
            return
    refresh_article(Article.objects.get(pk=annotation.article_id))


def subtract_deleted(row: ArticleAgreement) -> None:
    """An article's statistics went away with the article: take them out of its total."""
    if getattr(row, "totals_updated", False):
        return
    with transaction.atomic():
        _apply(row, -1, _label_ids(row.project_id), create=False)


@dataclass
class RecomputeSummary:
    articles: int = 0
    compared: int = 0
    groups: int = 0
    removed: int = 0
    units: list[str] = field(default_factory=lambda: list(UNITS))


def recompute_project(project: Project, *, batch: int = BATCH_ARTICLES) -> RecomputeSummary:
    """Rebuild every statistic and total of the project from its submitted annotations."""
    summary = RecomputeSummary()
    label_ids = _label_ids(project.pk)
    with transaction.atomic():
        AgreementTotal.objects.filter(project=project).delete()
        totals: dict[tuple[str, str], dict] = {}
        editors_of: dict[str, list[int]] = {}
        seen: set[int] = set()
        article_ids = list(
            Article.objects.filter(project=project).order_by("pk").values_list("pk", flat=True)
        )
        summary.articles = len(article_ids)
        for first in range(0, len(article_ids), batch):
            chunk = article_ids[first : first + batch]
            inputs = _inputs(chunk, label_ids) if label_ids else []
            if not inputs:
                continue
            computed, chunk_totals = agreement_stats.compute_with_totals(
                inputs, len(label_ids), UNITS
            )
            existing = {
                (row.article_id, row.unit): row
                for row in ArticleAgreement.objects.filter(
                    article_id__in=[a.key for a in inputs]
                ).only("pk", "article_id", "unit")
            }
            to_create, to_update = [], []
            for unit in UNITS:
                for article, stats in zip(inputs, computed[unit], strict=True):
                    seen.add(article.key)
                    fields = _row_fields(stats, label_ids)
                    row = existing.get((article.key, unit))
                    if row is None:
                        to_create.append(
                            ArticleAgreement(
                                article_id=article.key, project=project, unit=unit, **fields
                            )
                        )
                    else:
                        for name, value in fields.items():
                            setattr(row, name, value)
                        to_update.append(row)
                for editors, total in chunk_totals[unit].items():
                    key = (unit, _group(editors))
                    editors_of[key[1]] = list(editors)
                    totals[key] = agreement_stats.add(totals.get(key), total)
            ArticleAgreement.objects.bulk_create(to_create, batch_size=500)
            ArticleAgreement.objects.bulk_update(
                to_update, ["editors", "versions", "labels", "stats", "units", "score"], 500
            )
        stale = ArticleAgreement.objects.filter(project=project).exclude(article_id__in=seen)
        summary.removed = stale.count() // len(UNITS)
        stale.delete()  # the totals are gone already, so the delete hook changes nothing
        AgreementTotal.objects.bulk_create(
            [
                AgreementTotal(
                    project=project,
                    unit=unit,
                    group=group,
                    editors=editors_of[group],
                    labels=label_ids,
                    articles=total["articles"],
                    stats=total,
                )
                for (unit, group), total in totals.items()
            ]
        )
    summary.compared = len(seen)
    summary.groups = len({group for _, group in totals})
    return summary


# --- Reporting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    unit: str = TOKEN
    labels: tuple[str, ...] = ()
    editors: tuple[str, ...] = ()
    articles: tuple[int, ...] = ()
    limit: int = DEFAULT_ARTICLES_LIMIT

    @property
    def narrowed(self) -> bool:
        return bool(self.labels or self.editors)


def _values(params, name: str) -> list[str]:
    raw = params.getlist(name) if hasattr(params, "getlist") else [params.get(name, "")]
    items = (item.strip() for value in raw if value for item in str(value).split(","))
    return [item for item in items if item]


def parse_filters(params) -> Filters:
    """Filters from query parameters: ``unit=token|char``, ``labels=A,B`` (or repeated),
    ``editors=alice,bob``, ``articles=1,2`` (ids) and ``articles_limit=N``."""
    unit = (params.get("unit") or TOKEN).strip()
    if unit not in UNITS:
        raise AgreementQueryError(f"unit must be {TOKEN} or {CHAR}, not {unit!r}.")
    articles = []
    for value in _values(params, "articles"):
        if not value.isdigit():
            raise AgreementQueryError(f"articles must be article ids, not {value!r}.")
        articles.append(int(value))
    if len(articles) > MAX_ARTICLE_IDS:
        raise AgreementQueryError(f"At most {MAX_ARTICLE_IDS} article ids.")
    limit_raw = (params.get("articles_limit") or "").strip()
    if limit_raw and not limit_raw.isdigit():
        raise AgreementQueryError("articles_limit must be a whole number.")
    limit = min(int(limit_raw), MAX_ARTICLES_LIMIT) if limit_raw else DEFAULT_ARTICLES_LIMIT
    return Filters(
        unit=unit,
        labels=tuple(dict.fromkeys(_values(params, "labels"))),
        editors=tuple(dict.fromkeys(_values(params, "editors"))),
        articles=tuple(dict.fromkeys(articles)),
        limit=limit,
    )


def project_editors(project: Project) -> list[tuple[int, str]]:
    """Editors who have compared work in the project: (id, username), by username."""
    ids: set[int] = set()
    for editors in AgreementTotal.objects.filter(project=project).values_list("editors", flat=True):
        ids.update(editors)
    users = get_user_model().objects.filter(pk__in=ids).order_by("username")
    return [(user.pk, user.username) for user in users]


def project_report(
    project: Project,
    *,
    unit: str = TOKEN,
    labels: Sequence[str] = (),
    editors: Sequence[str] = (),
    article_ids: Sequence[int] = (),
    articles_limit: int | None = DEFAULT_ARTICLES_LIMIT,
) -> dict:
    """The agreement report of the project (the API's shape; see docs in report.py).

    Without `article_ids` it reads the editor-group totals, so its cost does not grow with
    the number of articles (only the list of worst articles, and filtered per-article
    scores, read article rows).
    """
    if unit not in UNITS:
        raise AgreementQueryError(f"unit must be {TOKEN} or {CHAR}.")
    label_rows = list(project.labels.order_by("order", "key").values_list("id", "key"))
    label_ids = [pk for pk, _ in label_rows]
    keys = [key for _, key in label_rows]
    unknown = [key for key in labels if key not in keys]
    if unknown:
        raise AgreementQueryError(f"Unknown label: {', '.join(unknown)}.")
    selected = [keys.index(key) for key in labels] if labels else None
    names = dict(project_editors(project))
    by_name = {name: pk for pk, name in names.items()}
    missing = [name for name in editors if name not in by_name]
    if missing:
        raise AgreementQueryError(
            f"No compared work by: {', '.join(missing)}. Editors appear here once they have "
            "submitted an article that another editor submitted too."
        )
    kept = {by_name[name] for name in editors} if editors else None

    rows = ArticleAgreement.objects.filter(project=project, unit=unit)
    if article_ids:
        rows = rows.filter(article_id__in=list(article_ids))
        records = [
            agreement_report.Record(
                row.editors, agreement_stats.align(row.stats, row.labels, label_ids), row.article_id
            )
            for row in rows
        ]
    else:
        records = []
        for total in AgreementTotal.objects.filter(project=project, unit=unit):
            stats = agreement_stats.align(total.stats, total.labels, label_ids)
            subset = [i for i, e in enumerate(total.editors) if kept is None or e in kept]
            if len(subset) >= 2 and agreement_stats.subset_key(subset) not in stats["au_e"]:
                # Editor subsets of very large groups are not precomputed: read the articles.
                records.extend(
                    agreement_report.Record(
                        row.editors, agreement_stats.align(row.stats, row.labels, label_ids)
                    )
                    for row in rows.filter(editors=total.editors)
                )
            else:
                records.append(agreement_report.Record(total.editors, stats))
    result = agreement_report.build(
        records,
        unit=unit,
        labels=keys,
        selected=selected,
        editors=kept,
        names=names,
    )
    result["articles"], result["versions"] = _worst_articles(
        rows,
        label_ids,
        selected,
        kept,
        names,
        narrowed=bool(labels or editors),
        limit=articles_limit,
    )
    result["articles_total"] = result["articles_compared"]
    computed = rows.aggregate(latest=Max("computed_at"))["latest"]
    result["computed_at"] = computed.isoformat() if computed else None
    return result


@dataclass(frozen=True)
class _Listed:
    article_id: int
    article: Article
    editors: list[int]
    versions: list[int]


def _worst_articles(
    rows, label_ids, selected, kept, names, *, narrowed: bool, limit: int | None
) -> tuple[list[dict], dict[str, dict[str, int]]]:
    """The compared articles, worst agreement first (undefined scores last); all of them
    when `limit` is None."""
    if limit == 0:
        return [], {}
    if not narrowed:
        chosen = list(
            rows.order_by(F("score").asc(nulls_last=True), "article_id")
            .select_related("article")
            .only(
                "article_id",
                "score",
                "editors",
                "versions",
                "article__external_id",
                "article__title",
            )[:limit]
        )
        scored = [(row, row.score) for row in chosen]
    else:
        n_labels = len(label_ids)
        collapse = agreement_report.collapse_matrix(
            n_labels, list(range(n_labels)) if selected is None else sorted(selected)
        )
        data = [
            row
            for row in rows.values_list(
                "article_id", "stats__confusion", "labels", "editors", "versions"
            )
            if kept is None or sum(e in kept for e in row[3]) >= 2
        ]
        confusions = [
            agreement_stats.align({"confusion": confusion}, labels, label_ids)["confusion"]
            for _, confusion, labels, _, _ in data
        ]
        scores = agreement_report.article_alphas(
            confusions, [row[3] for row in data], collapse, kept
        )
        order = sorted(
            range(len(data)),
            key=lambda i: (scores[i] is None, scores[i] or 0.0, data[i][0]),
        )[:limit]
        info = Article.objects.only("external_id", "title").in_bulk([data[i][0] for i in order])
        scored = [
            (_Listed(data[i][0], info[data[i][0]], data[i][3], data[i][4]), scores[i])
            for i in order
        ]
    articles = []
    versions: dict[str, dict[str, int]] = {}
    for row, score in scored:
        shown = [
            (editor, version)
            for editor, version in zip(row.editors, row.versions, strict=True)
            if kept is None or editor in kept
        ]
        articles.append(
            {
                "id": row.article_id,
                "external_id": row.article.external_id,
                "title": row.article.title,
                "score": None if score is None else round(score, 6),
                "editors": [names.get(editor, str(editor)) for editor, _ in shown],
            }
        )
        versions[str(row.article_id)] = {
            names.get(editor, str(editor)): version for editor, version in shown
        }
    return articles, versions
