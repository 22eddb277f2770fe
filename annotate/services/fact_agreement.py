"""Agreement on facts kept in step with submitted annotations, and its part of the report.

The span statistics' service (:mod:`.agreement`) drives this one: its refresh of an
article calls :func:`refresh` in the same transaction, under the same project lock, with
the same submitted annotations; its recompute calls :func:`rebuild`; its report calls
:func:`report`. What is counted is documented in :mod:`annotate.agreement.facts`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from django.db import connection
from django.db.models import F, QuerySet
from django.utils import timezone

from ..agreement import facts
from ..models import (
    Annotation,
    ArticleFactAgreement,
    AttributeDefinition,
    FactAgreementTotal,
    Project,
    Relation,
    RelationType,
    Span,
)
from .bulk import insert_rows

# The submitted editor annotations of an article: (annotation id, editor id, version), in
# editor id order (as services.agreement gives them).
Submitted = Sequence[tuple[int, int, int]]


def _group(editors: Sequence[int]) -> str:
    return ",".join(str(e) for e in editors)


def _submitted_rows(model: type, article_ids: Sequence[int]) -> QuerySet:
    return model.objects.filter(
        annotation__article_id__in=list(article_ids),
        annotation__kind=Annotation.Kind.EDITOR,
        annotation__status=Annotation.Status.SUBMITTED,
        removed_in__isnull=True,
    ).order_by()


def _raw(queryset: QuerySet) -> list[tuple]:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _decode_all(values: Sequence[object]) -> list[dict]:
    """Span attribute values as the driver gives them (JSON text, or already decoded),
    decoded: texts in one call of the JSON decoder rather than one call each."""
    if all(isinstance(value, str) for value in values):
        return json.loads("[" + ",".join(values) + "]") if values else []  # type: ignore[arg-type]
    return [json.loads(v) if isinstance(v, str | bytes) else dict(v or {}) for v in values]


def editor_facts(
    article_ids: Sequence[int], submitted: Mapping[int, Submitted]
) -> dict[int, list[facts.EditorFacts]]:
    """Each article's submitted editor annotations as :class:`EditorFacts` (two queries:
    current relations, and current spans of labels that have attributes)."""
    owner = {
        pk: (article, editor, version)
        for article in article_ids
        for pk, editor, version in submitted[article]
    }
    relations: dict[int, list[facts.RelationRow]] = {pk: [] for pk in owner}
    spans: dict[int, list[facts.ValuedSpan]] = {pk: [] for pk in owner}
    rows = _raw(
        _submitted_rows(Relation, article_ids).values_list(
            "annotation_id",
            "type_id",
            "from_start",
            "from_end",
            "from_label_id",
            "to_start",
            "to_end",
            "to_label_id",
        )
    )
    for pk, *relation in rows:
        if pk in relations:
            relations[pk].append(tuple(relation))
    rows = _raw(
        _submitted_rows(Span, article_ids)
        .filter(label_id__in=AttributeDefinition.objects.values("label_id"))
        .values_list("annotation_id", "start", "end", "label_id", "attributes")
    )
    # Only a span that another editor of the article marked identically is compared:
    # decode the values of those alone.
    rows = [row for row in rows if row[0] in owner]
    marked = Counter((owner[pk][0], start, end, label) for pk, start, end, label, _ in rows)
    rows = [row for row in rows if marked[owner[row[0]][0], row[1], row[2], row[3]] > 1]
    decoded = _decode_all([row[4] for row in rows])
    for (pk, start, end, label, _), values in zip(rows, decoded, strict=True):
        # A span with no value still counts: against a value given, it is "one given".
        spans[pk].append((start, end, label, {k: v for k, v in values.items() if v is not None}))
    result: dict[int, list[facts.EditorFacts]] = {article: [] for article in article_ids}
    for pk, (article, editor, version) in owner.items():
        result[article].append(facts.EditorFacts(editor, version, relations[pk], spans[pk]))
    return result


def _delete_rows(**where: int) -> None:
    """Delete fact rows without the per-row delete hook: the caller settles the totals."""
    meta = ArticleFactAgreement._meta
    quote = connection.ops.quote_name
    conditions = " AND ".join(f"{quote(meta.get_field(name).column)} = %s" for name in where)
    sql = f"DELETE FROM {quote(meta.db_table)} WHERE {conditions}"  # noqa: S608 - model names
    with connection.cursor() as cursor:
        cursor.execute(sql, list(where.values()))


def _move(project_id: int, moves: Sequence[tuple[Sequence[int], facts.FactStats, int]]) -> None:
    """Add (1) or subtract (-1) article contributions to their editor-group totals; a total
    left with no article is deleted."""
    groups = {_group(editors): list(editors) for editors, _, _ in moves}
    stored = {
        total.group: total
        for total in FactAgreementTotal.objects.filter(project_id=project_id, group__in=groups)
    }
    changed: dict[str, facts.FactStats | None] = {
        group: total.stats for group, total in stored.items()
    }
    for editors, part, sign in moves:
        group = _group(editors)
        changed[group] = facts.add(changed.get(group), part, sign)
    for group, stats in changed.items():
        total = stored.get(group)
        if stats is None or stats["articles"] <= 0:
            if total is not None:
                total.delete()
        elif total is None:
            FactAgreementTotal.objects.create(
                project_id=project_id,
                group=group,
                editors=groups[group],
                articles=stats["articles"],
                stats=stats,
            )
        else:
            total.stats, total.articles = stats, stats["articles"]
            total.save(update_fields=["stats", "articles", "updated_at"])


def refresh(article_id: int, project_id: int, submitted: Submitted | None) -> None:
    """Replace the article's fact statistics: from its `submitted` editor annotations (two
    or more), or none (None). Call inside the span refresh (project locked)."""
    old = ArticleFactAgreement.objects.filter(article_id=article_id).first()
    moves: list[tuple[Sequence[int], facts.FactStats, int]] = []
    if old is not None:
        moves.append((old.editors, facts.contribution(old.stats), -1))
        _delete_rows(article=article_id)
    if submitted is not None:
        data = editor_facts([article_id], {article_id: submitted})[article_id]
        stats = facts.article_stats(data)
        moves.append((stats["editors"], facts.contribution(stats), 1))
        ArticleFactAgreement.objects.create(
            article_id=article_id,
            project_id=project_id,
            editors=stats["editors"],
            versions=stats["versions"],
            stats=stats,
            score=facts.article_score(stats),
        )
    if moves:
        _move(project_id, moves)


def subtract_deleted(row: ArticleFactAgreement) -> None:
    """An article's fact statistics went away with the article: take them out of its total."""
    _move(row.project_id, [(row.editors, facts.contribution(row.stats), -1)])


def rebuild(
    project: Project, compared: Sequence[int], submitted: Mapping[int, Submitted], batch: int
) -> int:
    """Rebuild the project's fact statistics and totals for the `compared` articles (call
    inside the span recompute's transaction); returns the number of editor groups."""
    FactAgreementTotal.objects.filter(project=project).delete()
    _delete_rows(project=project.pk)
    totals: dict[str, facts.FactStats] = {}
    editors_of: dict[str, list[int]] = {}
    now = timezone.now()
    for first in range(0, len(compared), batch):
        chosen = compared[first : first + batch]
        data = editor_facts(chosen, submitted)
        rows = []
        for article in chosen:
            stats = facts.article_stats(data[article])
            group = _group(stats["editors"])
            editors_of[group] = stats["editors"]
            totals[group] = facts.add_into(totals.get(group), facts.contribution(stats))
            rows.append(
                (article, stats["editors"], stats["versions"], stats, facts.article_score(stats))
            )
        # Straight to the driver (PostgreSQL: COPY), not through a model instance a row.
        insert_rows(
            ArticleFactAgreement,
            ("article", "editors", "versions", "stats", "score"),
            rows,
            same={"project": project.pk, "computed_at": now},
        )
    FactAgreementTotal.objects.bulk_create(
        [
            FactAgreementTotal(
                project=project,
                group=group,
                editors=editors_of[group],
                articles=stats["articles"],
                stats=stats,
            )
            for group, stats in totals.items()
        ]
    )
    return len(totals)


# --- Reporting ---------------------------------------------------------------------------


def schema_columns(project: Project) -> tuple[dict[int, str], dict[str, facts.AttributeColumn]]:
    """The project's relation types (id → key) and attributes (stored key → column), in
    the schema's order (two queries)."""
    relation_types = dict(
        RelationType.objects.filter(project=project)
        .order_by("order", "key")
        .values_list("pk", "key")
    )
    attributes = {
        f"{label}:{key}": facts.AttributeColumn(f"{label_key}.{key}", kind, label)
        for label, label_key, key, kind in AttributeDefinition.objects.filter(
            label__project=project
        )
        .order_by("label__order", "label__key", "order", "key")
        .values_list("label_id", "label__key", "key", "type")
    }
    return relation_types, attributes


def report(
    project: Project,
    *,
    labels: Collection[int] | None,
    editors: Collection[int] | None,
    names: Mapping[int, str],
    article_ids: Sequence[int] = (),
    limit: int | None,
) -> dict:
    """The facts part of the agreement report: ``relations``, ``attributes``, ``pairs`` (by
    pair of editor ids) and ``articles`` (most disagreement on facts first; articles with
    no fact are not listed). Without `article_ids` it reads the editor-group totals."""
    relation_types, attributes = schema_columns(project)
    rows = ArticleFactAgreement.objects.filter(project=project)
    if article_ids:
        rows = rows.filter(article_id__in=list(article_ids))
        records = [facts.FactRecord(e, s) for e, s in rows.values_list("editors", "stats")]
    else:
        records = [
            facts.FactRecord(e, s)
            for e, s in FactAgreementTotal.objects.filter(project=project).values_list(
                "editors", "stats"
            )
        ]
    result = facts.build(
        records,
        relation_types=relation_types,
        attributes=attributes,
        labels=labels,
        editors=editors,
    )
    result["articles"] = _worst(rows, labels=labels, editors=editors, names=names, limit=limit)
    return result


def _worst(
    rows: QuerySet,
    *,
    labels: Collection[int] | None,
    editors: Collection[int] | None,
    names: Mapping[int, str],
    limit: int | None,
) -> list[dict]:
    """The articles whose editors disagree most on facts, lowest facts score first. The
    stored score serves the unfiltered report; filters re-score from the statistics."""
    if limit == 0:
        return []
    fields = ("article_id", "article__external_id", "article__title", "editors", "versions")
    if labels is None and editors is None:
        chosen = list(
            rows.filter(score__isnull=False)
            .order_by(F("score").asc(), "article_id")
            .values_list(*fields, "score")[:limit]
        )
    else:
        scored = [
            (*row, facts.article_score(stats, editors, labels))
            for *row, stats in rows.values_list(*fields, "stats")
            if editors is None or sum(e in editors for e in row[3]) >= 2
        ]
        chosen = sorted(
            (row for row in scored if row[-1] is not None), key=lambda row: (row[-1], row[0])
        )[:limit]
    return [
        {
            "id": article,
            "external_id": external_id,
            "title": title,
            "score": round(score, 6),
            "editors": [names.get(e, str(e)) for e in listed if editors is None or e in editors],
            "versions": {
                names.get(e, str(e)): version
                for e, version in zip(listed, versions, strict=True)
                if editors is None or e in editors
            },
        }
        for article, external_id, title, listed, versions, score in chosen
    ]


__all__ = ["editor_facts", "rebuild", "refresh", "report", "subtract_deleted"]
