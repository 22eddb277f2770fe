"""Agreement statistics kept in step with submitted annotations, and the project report.

- :func:`annotation_saved` is the hook every annotation save calls, inside its transaction
  (``services.annotations._after_save``). When the article's set of submitted editor
  annotations may have changed it runs :func:`refresh_article`, which recomputes the
  article's statistics (both kinds of unit) and moves its contribution between
  editor-group totals.
- :func:`recompute_project` rebuilds everything from the annotations (the
  ``recompute_agreement`` command); it gives the same figures as the incremental path.
- :func:`project_report` aggregates the stored totals (or, for a chosen set of articles,
  the stored article rows) into the report the page and the API show.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import chain

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, FilteredRelation, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from ..agreement import report as agreement_report
from ..agreement import stats as agreement_stats
from ..agreement.units import CHAR, TOKEN, UNITS
from ..inputs import InputError, parse_ids, parse_optional_int
from ..models import (
    AgreementTotal,
    Annotation,
    Article,
    ArticleAgreement,
    Label,
    Project,
    Span,
)
from . import fact_agreement

BATCH_ARTICLES = 2_000
DEFAULT_ARTICLES_LIMIT = 1_000
MAX_ARTICLES_LIMIT = 100_000
MAX_ARTICLE_IDS = 10_000

# The submitted editor annotations of an article: (annotation id, editor id, version), in
# editor id order.
Submitted = list[tuple[int, int, int]]


class AgreementQueryError(ValueError):
    """A report filter that cannot be applied (unknown label or editor, bad unit)."""


# --- Reading -----------------------------------------------------------------------------


def _fetch(queryset: QuerySet) -> list[tuple]:
    """The rows of a ``values_list()`` queryset, straight from the driver."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _fetch_integers(queryset: QuerySet, columns: int) -> np.ndarray:
    """The rows of a ``values_list()`` queryset of integers as an array (rows × columns).
    A recompute reads a million span rows: they go from the driver into the array as
    they come, with no per-row work of the ORM and no list of them all."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        blocks = iter(partial(cursor.fetchmany, 10_000), [])
        rows = chain.from_iterable(chain.from_iterable(blocks))
        return np.fromiter(rows, np.int64).reshape(-1, columns)


def _label_ids(project_id: int) -> list[int]:
    return list(
        Label.objects.filter(project_id=project_id)
        .order_by("order", "key")
        .values_list("id", flat=True)
    )


def _lock_project(*, project_id: int | None = None, article_id: int | None = None) -> None:
    """One refresh or recompute at a time per project: totals are shared by every article
    of an editor group, and row locks taken in different orders by concurrent submits
    deadlock. Taken before reading the annotations, so that of two editors submitting one
    article at once the second sees the first's submission. SQLite runs one write
    transaction at a time anyway, so there it costs no query."""
    if not connection.features.has_select_for_update:
        return
    if article_id is not None:
        project_id = Subquery(Article.objects.filter(pk=article_id).values("project_id"))
    list(Project.objects.select_for_update().filter(pk=project_id).values_list("pk"))


def _submitted(annotations: QuerySet) -> dict[int, Submitted]:
    """The submitted editor annotations among `annotations`, by article."""
    rows = _fetch(
        annotations.submitted()
        .order_by("article_id", "annotator_id")
        .values_list("article_id", "id", "annotator_id", "version")
    )
    by_article: dict[int, Submitted] = {}
    for article_id, pk, editor, version in rows:
        by_article.setdefault(article_id, []).append((pk, editor, version))
    return by_article


def _positions(values: np.ndarray, wanted: np.ndarray, what: str) -> np.ndarray:
    """The index in `values` (distinct) of each of `wanted`."""
    if not wanted.size:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    found = order[np.minimum(np.searchsorted(values[order], wanted), values.size - 1)]
    if (values[found] != wanted).any():
        raise ValueError(f"A span has an unknown {what}.")
    return found


def _batch(
    article_ids: Sequence[int], submitted: Mapping[int, Submitted], label_ids: Sequence[int]
) -> agreement_stats.Batch:
    """What the statistics engine needs of these articles: their texts and the current
    spans of their submitted editor annotations (two queries)."""
    texts = dict(_fetch(Article.objects.filter(pk__in=article_ids).values_list("pk", "text")))
    annotations = np.array(
        [pk for article in article_ids for pk, _, _ in submitted[article]], dtype=np.int64
    )
    spans = _fetch_integers(
        Span.objects.filter(
            annotation__article_id__in=article_ids,
            annotation__kind=Annotation.Kind.EDITOR,
            annotation__status=Annotation.Status.SUBMITTED,
            removed_in__isnull=True,
        )
        .order_by()
        .values_list("annotation_id", "start", "end", "label_id"),
        4,
    )
    return agreement_stats.Batch(
        keys=list(article_ids),
        texts=[texts[article] for article in article_ids],
        editors=[[editor for _, editor, _ in submitted[article]] for article in article_ids],
        versions=[[version for _, _, version in submitted[article]] for article in article_ids],
        rater=_positions(annotations, spans[:, 0], "annotation"),
        starts=spans[:, 1],
        ends=spans[:, 2],
        labels=_positions(np.array(label_ids, dtype=np.int64), spans[:, 3], "label"),
    )


# --- Writing -----------------------------------------------------------------------------

ROW_FIELDS = (
    "article",
    "project",
    "unit",
    "editors",
    "versions",
    "labels",
    "stats",
    "units",
    "score",
    "computed_at",
)


def _rows(chunk: agreement_stats.Chunk, project_id: int, label_ids: Sequence[int]) -> list:
    """The chunk's ArticleAgreement rows (model instances, for a few rows)."""
    return [
        ArticleAgreement(
            article_id=key,
            project_id=project_id,
            unit=unit,
            editors=stats["editors"],
            versions=stats["versions"],
            labels=list(label_ids),
            stats=stats,
            units=stats["units"],
            score=score,
        )
        for unit in UNITS
        for key, stats, score in zip(chunk.keys, chunk.stats[unit], chunk.scores[unit], strict=True)
    ]


# The fields of an article's statistics that do not depend on the kind of unit: the same
# objects in both units' dicts, and last in each (agreement.stats, the layout).
SHARED_FIELDS = ("spans", "overlaps", "au_o", "au_n", "au_f", "au_q", "au_x", "au_e")


def _encoded(chunk: agreement_stats.Chunk) -> dict[str, list[str]]:
    """``json.dumps`` of each statistics dict of the chunk, as the JSONField would encode
    it; the shared fields (most of the numbers) are encoded once per article."""
    result: dict[str, list[str]] = {unit: [] for unit in UNITS}
    for a in range(len(chunk.keys)):
        shared = ""
        for unit in UNITS:
            stats = chunk.stats[unit][a]
            if not shared:
                shared = json.dumps({name: stats[name] for name in SHARED_FIELDS})[1:]
            own = {name: value for name, value in stats.items() if name not in SHARED_FIELDS}
            result[unit].append(json.dumps(own)[:-1] + ", " + shared)
    return result


def _row_values(
    chunk: agreement_stats.Chunk,
    project_id: int,
    labels: str,
    computed_at: Mapping[tuple[int, str], object],
    now: object,
) -> Iterator[tuple]:
    """The chunk's rows as values for the driver (ROW_FIELDS); `computed_at` (as the
    database gave it) is kept where a row existed, as updating the row would have kept it."""
    encoded = _encoded(chunk)
    editors = [json.dumps(stats["editors"]) for stats in chunk.stats[UNITS[0]]]
    versions = [json.dumps(stats["versions"]) for stats in chunk.stats[UNITS[0]]]
    for unit in UNITS:
        for a, key in enumerate(chunk.keys):
            yield (
                key,
                project_id,
                unit,
                editors[a],
                versions[a],
                labels,
                encoded[unit][a],
                chunk.stats[unit][a]["units"],
                chunk.scores[unit][a],
                computed_at.get((key, unit), now),
            )


@contextmanager
def _row_writer() -> Iterator[Callable[[Iterable[tuple]], None]]:
    """A function that inserts ArticleAgreement rows given as ROW_FIELDS values. On
    PostgreSQL all of them go into one COPY, sent as they come: the server parses the
    JSON (the costly part of the write) while the caller computes the next rows."""
    meta = ArticleAgreement._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(meta.get_field(name).column) for name in ROW_FIELDS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"COPY {table} ({columns}) FROM STDIN"
            # The raw cursor's COPY bypasses Django's error translation: ask for it here.
            with connection.wrap_database_errors, cursor.copy(sql) as copy:

                def write(rows: Iterable[tuple]) -> None:
                    for row in rows:
                        copy.write_row(row)

                yield write
        else:
            marks = ", ".join(["%s"] * len(ROW_FIELDS))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - model names
            yield lambda rows: cursor.executemany(sql, list(rows))


def _delete_rows(**where: int) -> None:
    """Delete agreement rows without the per-row delete hook: the caller settles (or
    rebuilds) the totals they counted in."""
    meta = ArticleAgreement._meta
    quote = connection.ops.quote_name
    conditions = " AND ".join(f"{quote(meta.get_field(name).column)} = %s" for name in where)
    sql = f"DELETE FROM {quote(meta.db_table)} WHERE {conditions}"  # noqa: S608 - model names
    with connection.cursor() as cursor:
        cursor.execute(sql, list(where.values()))


def _group(editors: Iterable[int]) -> str:
    return ",".join(str(e) for e in editors)


def _move_totals(
    project_id: int,
    label_ids: Sequence[int],
    old: Sequence[ArticleAgreement],
    new: agreement_stats.Chunk | None,
) -> None:
    """Take an article's old statistics (its stored rows) out of their group totals and
    add its new ones (a one-article chunk) in: one query to read the totals, one to write
    each that changes. A total left with no article is deleted."""
    # Per (unit, group): the contributions to add (1) or subtract (-1), in that order.
    moves: dict[tuple[str, str], list[tuple[int, dict]]] = {}
    for row in old:
        stats = agreement_stats.align(row.stats, row.labels, label_ids)
        moves.setdefault((row.unit, _group(row.editors)), []).append(
            (-1, agreement_stats.contribution(stats))
        )
    editors: dict[str, list[int]] = {_group(row.editors): list(row.editors) for row in old}
    if new is not None:
        for unit in UNITS:
            stats = new.stats[unit][0]
            editors[_group(stats["editors"])] = list(stats["editors"])
            moves.setdefault((unit, _group(stats["editors"])), []).append(
                (1, agreement_stats.contribution(stats))
            )
    if not moves:
        return
    # Locked in one order, so that two refreshes moving articles between the same groups
    # cannot deadlock.
    totals = {
        (total.unit, total.group): total
        for total in AgreementTotal.objects.select_for_update()
        .filter(project_id=project_id, group__in={group for _, group in moves})
        .order_by("unit", "group")
    }
    created, emptied = [], []
    for (unit, group), steps in moves.items():
        total = totals.get((unit, group))
        summed = None
        if total is not None and total.stats:
            summed = agreement_stats.align(total.stats, total.labels, label_ids)
        for sign, part in steps:
            if sign < 0 and total is None:
                continue  # nothing counted it
            summed = agreement_stats.add(summed, part, sign)
            if summed["articles"] <= 0:
                summed = None  # the total goes, and what follows starts afresh
        if summed is None:
            if total is not None and total.pk is not None:
                emptied.append(total.pk)
        elif total is None:
            created.append(
                AgreementTotal(
                    project_id=project_id,
                    unit=unit,
                    group=group,
                    editors=editors[group],
                    labels=list(label_ids),
                    articles=summed["articles"],
                    stats=summed,
                )
            )
        else:
            total.stats, total.labels, total.articles = summed, list(label_ids), summed["articles"]
            total.save(update_fields=["stats", "labels", "articles", "updated_at"])
    if emptied:
        AgreementTotal.objects.filter(pk__in=emptied).delete()
    if created:
        AgreementTotal.objects.bulk_create(created)


# --- Keeping in step ---------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    project_id: int
    compared: list[int] | None  # the editors of the stored statistics, if any
    submitted: Submitted


def _state(article_id: int) -> _State | None:
    """What decides whether the article needs a refresh, in one query."""
    stored = ArticleAgreement.objects.filter(article=OuterRef("pk")).values("editors")[:1]
    rows = list(
        Article.objects.filter(pk=article_id)
        .annotate(
            entry=FilteredRelation(
                "annotations",
                condition=Q(
                    annotations__kind=Annotation.Kind.EDITOR,
                    annotations__status=Annotation.Status.SUBMITTED,
                ),
            ),
            compared=Subquery(stored, output_field=ArticleAgreement._meta.get_field("editors")),
        )
        .order_by("entry__annotator_id")
        .values_list("project_id", "compared", "entry__id", "entry__annotator_id", "entry__version")
    )
    if not rows:
        return None
    submitted = [(pk, editor, version) for _, _, pk, editor, version in rows if pk is not None]
    return _State(project_id=rows[0][0], compared=rows[0][1], submitted=submitted)


def refresh_article(article: Article) -> None:
    """Recompute the article's statistics from its submitted annotations, and its group
    totals. Call inside the transaction that changed an annotation of the article."""
    _refresh(article.pk)


def _refresh(article_id: int, *, leaving: int | None = None) -> None:
    """:func:`refresh_article`, when needed: when the article has statistics stored or two
    editors submitted it; with `leaving` (an editor whose annotation is no longer
    submitted), only when that editor's work was compared."""
    # No savepoint: nothing here is expected to fail and be recovered from, and a failure
    # must undo the save that called it anyway.
    with transaction.atomic(savepoint=False):
        _lock_project(article_id=article_id)
        state = _state(article_id)
        if state is None:
            return
        if leaving is not None and leaving not in (state.compared or ()):
            return
        if len(state.submitted) < 2 and state.compared is None:
            return
        label_ids = _label_ids(state.project_id)
        old = list(ArticleAgreement.objects.filter(article_id=article_id)) if state.compared else []
        new = None
        if len(state.submitted) >= 2 and label_ids:
            batch = _batch([article_id], {article_id: state.submitted}, label_ids)
            new = next(agreement_stats.compute_batch(batch, len(label_ids), UNITS))
        _move_totals(state.project_id, label_ids, old, new)
        if old:
            _delete_rows(article=article_id)
        if new is not None:
            ArticleAgreement.objects.bulk_create(_rows(new, state.project_id, label_ids))
        fact_agreement.refresh(
            article_id, state.project_id, state.submitted if new is not None else None
        )


def annotation_saved(annotation: Annotation, *, previous_status: str | None = None) -> None:
    """The hook: refresh when the article's submitted editor annotations may have changed
    (a submit, a correction of a submitted annotation, going back to in progress).

    With `previous_status` (the status before this save), a save of an annotation that
    stays in progress costs no query. Otherwise a save costs one query (two on
    PostgreSQL, with the lock) when there is nothing to refresh: fewer than two editors
    submitted and nothing stored, or an annotation in progress whose editor was not
    compared.
    """
    if annotation.kind != Annotation.Kind.EDITOR:
        return
    submitted = Annotation.Status.SUBMITTED
    if annotation.status == submitted:
        _refresh(annotation.article_id)
    elif previous_status in (None, submitted):
        _refresh(annotation.article_id, leaving=annotation.annotator_id)


def subtract_deleted(row: ArticleAgreement) -> None:
    """An article's statistics went away with the article: take them out of its total."""
    with transaction.atomic(savepoint=False):
        _move_totals(row.project_id, _label_ids(row.project_id), [row], None)


# --- Rebuilding --------------------------------------------------------------------------


@dataclass
class RecomputeSummary:
    articles: int = 0
    compared: int = 0
    groups: int = 0
    removed: int = 0
    units: list[str] = field(default_factory=lambda: list(UNITS))


def recompute_project(project: Project, *, batch: int = BATCH_ARTICLES) -> RecomputeSummary:
    """Rebuild every statistic and total of the project from its submitted annotations.

    The rows are deleted and written anew: per batch of articles, two reads (texts and
    spans, straight from the driver into numpy), the computation chunk by chunk, and the
    rows written as they are computed (PostgreSQL: one COPY per batch).
    """
    summary = RecomputeSummary()
    with transaction.atomic():
        _lock_project(project_id=project.pk)
        label_ids = _label_ids(project.pk)
        summary.articles = Article.objects.filter(project=project).count()
        computed_at = {
            (article, unit): when
            for article, unit, when in _fetch(
                ArticleAgreement.objects.filter(project=project).values_list(
                    "article_id", "unit", "computed_at"
                )
            )
        }
        # Rows and totals are all rebuilt: no need for the per-row delete hook.
        AgreementTotal.objects.filter(project=project).delete()
        _delete_rows(project=project.pk)
        submitted = _submitted(Annotation.objects.filter(article__project=project))
        compared = sorted(a for a, rows in submitted.items() if len(rows) >= 2 and label_ids)
        labels = json.dumps(label_ids)
        now = ArticleAgreement._meta.get_field("computed_at").get_db_prep_save(
            timezone.now(), connection
        )
        totals: dict[tuple[str, str], dict] = {}
        editors_of: dict[str, list[int]] = {}
        for first in range(0, len(compared), batch):
            chosen = compared[first : first + batch]
            data = _batch(chosen, submitted, label_ids)
            with _row_writer() as write:
                for chunk in agreement_stats.compute_batch(
                    data, len(label_ids), UNITS, totals=True
                ):
                    write(_row_values(chunk, project.pk, labels, computed_at, now))
                    for unit in UNITS:
                        for editors, total in chunk.totals[unit].items():
                            group = _group(editors)
                            editors_of[group] = list(editors)
                            totals[unit, group] = agreement_stats.add(
                                totals.get((unit, group)), total
                            )
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
        fact_agreement.rebuild(project, compared, submitted, batch)
    summary.compared = len(compared)
    summary.removed = len({article for article, _ in computed_at} - set(compared))
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
    try:
        articles = parse_ids(_values(params, "articles"), name="articles", limit=MAX_ARTICLE_IDS)
        limit = parse_optional_int(params.get("articles_limit") or "", name="articles_limit")
    except InputError as error:
        raise AgreementQueryError(str(error)) from None
    limit = DEFAULT_ARTICLES_LIMIT if limit is None else min(limit, MAX_ARTICLES_LIMIT)
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
    _add_facts(result, project, label_ids, selected, kept, names, article_ids, articles_limit)
    computed = rows.aggregate(latest=Max("computed_at"))["latest"]
    result["computed_at"] = computed.isoformat() if computed else None
    return result


def _add_facts(
    result: dict,
    project: Project,
    label_ids: Sequence[int],
    selected: Sequence[int] | None,
    kept: set[int] | None,
    names: Mapping[int, str],
    article_ids: Sequence[int],
    limit: int | None,
) -> None:
    """Agreement on facts into the report: ``relations``, ``attributes``,
    ``facts_articles``, and relation F1 in each pair's row."""
    part = fact_agreement.report(
        project,
        labels=None if selected is None else {label_ids[i] for i in selected},
        editors=kept,
        names=names,
        article_ids=article_ids,
        limit=limit,
    )
    result["relations"] = part["relations"]
    result["attributes"] = part["attributes"]
    result["facts_articles"] = part["articles"]
    by_names = {
        (names.get(a, str(a)), names.get(b, str(b))): values
        for (a, b), values in part["pairs"].items()
    }
    for row in result["pairs"]:
        row.update(
            by_names.get(
                (row["a"], row["b"]),
                {
                    "relation_f1_exact": None,
                    "relation_f1_overlap": None,
                    "relations_a": 0,
                    "relations_b": 0,
                    "relation_types": {},
                    "attributes": {},
                },
            )
        )


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
