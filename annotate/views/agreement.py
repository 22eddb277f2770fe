"""The agreement report page, the side-by-side view of one article, and CSV downloads.

Reviewers and managers only: editors get 403 (project members) and everyone else 404. Even
aggregate numbers name editors (the pair matrix), and the side-by-side view shows other
editors' spans, which an editor must never see.

Charts are inline SVG drawn here from the report's numbers: colours go in ``fill``
attributes, never in ``style``, so the strict CSP holds and no script is needed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from ..agreement import facts as agreement_facts
from ..agreement import report as agreement_report
from ..agreement import stats as agreement_stats
from ..agreement.units import CHAR, TOKEN
from ..exports.cells import neutralise
from ..highlight import Mark
from ..models import Annotation, Article, ArticleAgreement, ArticleFactAgreement, Project
from ..permissions import can_manage, can_review, project_for
from ..services import agreement as service
from ..services import fact_agreement as fact_service
from ..services.overview import scores_against_gold
from ..services.predictions import model_versions
from ..services.suggestions import suggested_span_counts

PAGE = "agreement/report.html"
ARTICLE_PAGE = "agreement/article.html"


def _reviewer_project(request: HttpRequest, slug: str) -> Project:
    project, role = project_for(request.user, slug)
    if not can_review(role):
        raise PermissionDenied("Only reviewers and managers see agreement between editors.")
    project.caller_role = role  # type: ignore[attr-defined]
    return project


# --- Charts ------------------------------------------------------------------------------


def _mix(low: str, high: str, t: float) -> str:
    t = min(max(t, 0.0), 1.0)
    a = [int(low[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(high[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def score_colour(value: float | None) -> tuple[str, str]:
    """Fill and text colour for a score in [-1, 1]: blue for agreement, red below chance,
    grey when undefined."""
    if value is None:
        return "#e1e4e8", "#1b1f24"
    fill = _mix("#f7fbff", "#08306b", value) if value >= 0 else _mix("#fff5f0", "#a50f15", -value)
    dark = (value >= 0.55) or (value <= -0.55)
    return fill, "#ffffff" if dark else "#1b1f24"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


@dataclass
class Cell:
    x: int
    y: int
    fill: str
    ink: str
    text: str
    title: str


def heatmap(editors: list[str], pairs: list[dict], measure: str) -> dict:
    """Geometry of the editor × editor matrix for one pairwise measure."""
    size, margin = 56, 110
    half = size // 2
    index = {name: i for i, name in enumerate(editors)}
    values: dict[tuple[int, int], dict] = {}
    for pair in pairs:
        if pair["a"] in index and pair["b"] in index:
            i, j = index[pair["a"]], index[pair["b"]]
            values[(i, j)] = values[(j, i)] = pair
    cells = []
    for i, row in enumerate(editors):
        for j, column in enumerate(editors):
            pair = values.get((i, j))
            if i == j or pair is None:
                fill, ink = ("#ffffff", "#57606a")
                text = "—"
                title = row if i == j else f"{row} and {column}: no article in common"
            else:
                value = pair[measure]
                fill, ink = score_colour(value)
                text = _fmt(value)
                title = f"{row} and {column}: {text} over {pair['articles']} articles"
            cells.append(Cell(margin + j * size, margin + i * size, fill, ink, text, title))
    width = margin + size * len(editors) + 10
    return {
        "cells": cells,
        "size": size,
        "half": half,
        "margin": margin,
        "width": width,
        "height": width,
        "rows": [
            (margin - 8, margin + i * size + size // 2, name) for i, name in enumerate(editors)
        ],
        "columns": [
            (margin + j * size + size // 2, margin - 8, name) for j, name in enumerate(editors)
        ],
    }


@dataclass
class Bar:
    y: int
    x: float
    width: float
    fill: str
    text: str
    text_x: float
    title: str


BAR_MEASURES = (
    ("f1_overlap", "F1 overlap", "#4c78a8"),
    ("krippendorff_alpha", "Krippendorff α", "#f58518"),
    ("alpha_u", "α_u", "#54a24b"),
)


def label_bars(labels: dict[str, dict]) -> dict:
    """Geometry of grouped horizontal bars: per label, F1 overlap, alpha and alpha_u."""
    left, plot, bar, gap = 120, 320, 14, 12
    values = [v[m] for v in labels.values() for m, _, _ in BAR_MEASURES if v[m] is not None]
    low = max(min([0.0, *values]), -1.0)
    scale = plot / (1.0 - low)
    zero = left + (0.0 - low) * scale
    groups = []
    y = 10
    for key, measures in labels.items():
        bars = []
        for offset, (name, title, colour) in enumerate(BAR_MEASURES):
            value = measures[name]
            top = y + offset * bar
            if value is None:
                bars.append(
                    Bar(
                        top,
                        round(zero, 1),
                        0,
                        colour,
                        "n/a",
                        round(zero + 4, 1),
                        f"{key} {title}: undefined",
                    )
                )
                continue
            clipped = max(min(value, 1.0), low)
            x0, x1 = sorted((zero, zero + clipped * scale))
            bars.append(
                Bar(
                    top,
                    round(x0, 1),
                    round(max(x1 - x0, 1.0), 1),
                    colour,
                    f"{value:.2f}",
                    round(x1 + 4, 1),
                    f"{key} {title}: {value:.3f}",
                )
            )
        groups.append({"label": key, "y": y + len(BAR_MEASURES) * bar // 2 + 4, "bars": bars})
        y += len(BAR_MEASURES) * bar + gap
    return {
        "groups": groups,
        "width": left + plot + 50,
        "height": max(y, 30),
        "zero": round(zero, 1),
        "one": round(left + (1.0 - low) * scale, 1),
        "left": left,
        "bar": bar - 2,
        "legend": BAR_MEASURES,
        "low": low,
    }


# --- The report page ---------------------------------------------------------------------


def _filters_or_error(request: HttpRequest) -> tuple[service.Filters | None, str]:
    try:
        return service.parse_filters(request.GET), ""
    except service.AgreementQueryError as exc:
        return None, str(exc)


def _query(filters: service.Filters) -> str:
    params: list[tuple[str, str]] = [("unit", filters.unit)]
    params += [("labels", key) for key in filters.labels]
    params += [("editors", name) for name in filters.editors]
    if filters.articles:
        params.append(("articles", ",".join(str(a) for a in filters.articles)))
    return urlencode(params)


def _report(project: Project, filters: service.Filters, **overrides: object) -> dict:
    options: dict[str, object] = {"articles_limit": filters.limit, **overrides}
    return service.project_report(
        project,
        unit=filters.unit,
        labels=filters.labels,
        editors=filters.editors,
        article_ids=filters.articles,
        **options,
    )


def _suggested(project: Project) -> dict[str, object]:
    """How many submitted spans started as suggestions, overall and per editor."""
    total, editors = suggested_span_counts(project)
    return {"total": total, "editors": list(editors.items())}


@login_required
@require_GET
@vary_on_headers("HX-Request")
def agreement(request: HttpRequest, slug: str) -> HttpResponse:
    project = _reviewer_project(request, slug)
    filters, error = _filters_or_error(request)
    context: dict[str, object] = {
        "project": project,
        "labels": list(project.labels.order_by("order", "key")),
        "editors": [name for _, name in service.project_editors(project)],
        "filters": filters or service.Filters(),
        "units": ((TOKEN, "Tokens"), (CHAR, "Characters")),
        "definitions": agreement_report.DEFINITIONS,
        "fact_definitions": agreement_facts.DEFINITIONS,
        "can_recompute": can_manage(project.caller_role),  # type: ignore[attr-defined]
    }
    status = 200
    if filters is not None:
        try:
            result = _report(project, filters)
        except service.AgreementQueryError as exc:
            error, result = str(exc), None
    else:
        result = None
    if result is not None:
        names = sorted({p["a"] for p in result["pairs"]} | {p["b"] for p in result["pairs"]})
        context.update(
            report=result,
            query=_query(filters),
            kappa_map=heatmap(names, result["pairs"], "cohen_kappa"),
            f1_map=heatmap(names, result["pairs"], "f1_overlap"),
            bars=label_bars(result["labels"]),
            computed_at=datetime.fromisoformat(result["computed_at"])
            if result["computed_at"]
            else None,
            article_rows=[
                {**article, "version_list": result["versions"][str(article["id"])].items()}
                for article in result["articles"]
            ],
            headline=[
                (name, title, result["overall"][name])
                for name, (title, _, _) in agreement_report.DEFINITIONS.items()
            ],
            gold_scores=scores_against_gold(project),
            suggested=_suggested(project),
            model_scores=model_versions(project),
            has_facts=bool(result["relations"]["types"] or result["attributes"]),
        )
    else:
        context["error"] = error
        status = 400
    template = f"{PAGE}#report" if request.htmx else PAGE
    return render(request, template, context, status=status)


# --- The side-by-side view ---------------------------------------------------------------


def _span_classes(span, others: list[list]) -> tuple[tuple[str, ...], str]:
    """How the other editors treated a span: exact, overlap, other label, or missed."""
    exact = sum(
        any(
            o.start == span.start and o.end == span.end and o.label_id == span.label_id
            for o in spans
        )
        for spans in others
    )
    same = sum(
        any(
            o.label_id == span.label_id and o.start < span.end and span.start < o.end for o in spans
        )
        for spans in others
    )
    relabelled = sorted(
        {
            o.label.key
            for spans in others
            for o in spans
            if o.label_id != span.label_id and o.start < span.end and span.start < o.end
        }
    )
    total = len(others)
    if exact == total:
        kind, words = "ag-exact", f"all {total} other editors marked exactly this"
    elif same:
        kind = "ag-partial"
        words = f"{exact} of {total} exactly, {same} of {total} overlapping with the same label"
    else:
        kind, words = "ag-missed", f"no other editor marked it with {span.label.key}"
    classes = [kind]
    if relabelled:
        classes.append("ag-relabel")
        words += f"; labelled {', '.join(relabelled)} by another editor"
    return tuple(classes), f"{span.label.key}: {words}"


def _article_facts(project: Project, article: Article) -> dict | None:
    """The article's own agreement on facts (relation F1, attributes, per pair), or None
    when it is not compared or the project has no facts."""
    row = ArticleFactAgreement.objects.filter(article=article).first()
    if row is None:
        return None
    relation_types, attributes = fact_service.schema_columns(project)
    if not relation_types and not attributes:
        return None
    names = dict(service.project_editors(project))
    part = agreement_facts.build(
        [agreement_facts.FactRecord(row.editors, row.stats)],
        relation_types=relation_types,
        attributes=attributes,
    )
    part["score"] = row.score
    part["pairs"] = [
        {"a": names.get(a, str(a)), "b": names.get(b, str(b)), **values}
        for (a, b), values in part["pairs"].items()
    ]
    return part


@login_required
@require_GET
def agreement_article(request: HttpRequest, slug: str, article_id: int) -> HttpResponse:
    project = _reviewer_project(request, slug)
    article = Article.objects.filter(pk=article_id, project=project).first()
    if article is None:
        raise Http404("No such article in this project.")
    annotations = list(
        Annotation.objects.submitted()
        .filter(article=article)
        .select_related("annotator")
        .order_by("annotator__username")
    )
    spans = {a.pk: list(a.current_spans()) for a in annotations}
    columns = []
    for annotation in annotations:
        others = [spans[o.pk] for o in annotations if o.pk != annotation.pk]
        marks = []
        for span in spans[annotation.pk]:
            classes, title = _span_classes(span, others) if others else ((), span.label.key)
            marks.append(Mark(span.start, span.end, span.label.key, str(span.pk), classes, title))
        columns.append(
            {"annotation": annotation, "marks": marks, "count": len(spans[annotation.pk])}
        )
    rows = {row.unit: row for row in ArticleAgreement.objects.filter(article=article)}
    unit = request.GET.get("unit") if request.GET.get("unit") in (TOKEN, CHAR) else TOKEN
    summary = None
    row = rows.get(unit)
    if row is not None:
        names = dict(service.project_editors(project))
        label_ids = list(project.labels.order_by("order", "key").values_list("id", flat=True))
        keys = list(project.labels.order_by("order", "key").values_list("key", flat=True))
        record = agreement_report.Record(
            row.editors, agreement_stats.align(row.stats, row.labels, label_ids)
        )
        summary = agreement_report.build([record], unit=unit, labels=keys, names=names)
    context = {
        "facts": _article_facts(project, article),
        "project": project,
        "article": article,
        "columns": columns,
        "summary": summary,
        "unit": unit,
        "row": row,
        "back": request.GET.get("back", ""),
    }
    return render(request, ARTICLE_PAGE, context)


# --- CSV downloads -----------------------------------------------------------------------


def _csv_response(filename: str, header: list[str], rows: list[list[object]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise("" if value is None else value) for value in row])
    return response


def _csv_report(request: HttpRequest, slug: str, limit: int | None) -> tuple[Project, dict]:
    project = _reviewer_project(request, slug)
    filters, error = _filters_or_error(request)
    if filters is None:
        raise service.AgreementQueryError(error)
    return project, _report(project, filters, articles_limit=limit)


def _bad_request(error: service.AgreementQueryError) -> HttpResponse:
    return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")


def _table(request: HttpRequest, tables: tuple[str, ...]) -> str:
    """The CSV table asked for (``table=``), the first of `tables` by default."""
    table = request.GET.get("table") or tables[0]
    if table not in tables:
        raise service.AgreementQueryError(f"table must be one of {', '.join(tables)}.")
    return table


FACTS_ARTICLE_COLUMNS = ["article", "external_id", "title", "facts_score", "editors", "versions"]


@login_required
@require_GET
def articles_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The compared articles, least agreement first; ``table=facts``: the articles whose
    editors disagree most on facts."""
    try:
        table = _table(request, ("spans", "facts"))
        project, result = _csv_report(request, slug, None)
    except service.AgreementQueryError as exc:
        return _bad_request(exc)
    if table == "facts":
        rows = [
            [
                article["id"],
                article["external_id"],
                article["title"],
                article["score"],
                " ".join(article["editors"]),
                " ".join(f"{name}:v{version}" for name, version in article["versions"].items()),
            ]
            for article in result["facts_articles"]
        ]
        filename = f"{project.slug}-agreement-facts-articles.csv"
        return _csv_response(filename, FACTS_ARTICLE_COLUMNS, rows)
    rows = [
        [
            article["id"],
            article["external_id"],
            article["title"],
            article["score"],
            " ".join(article["editors"]),
            " ".join(
                f"{name}:v{version}"
                for name, version in result["versions"][str(article["id"])].items()
            ),
        ]
        for article in result["articles"]
    ]
    header = ["article", "external_id", "title", "score", "editors", "versions"]
    return _csv_response(f"{project.slug}-agreement-articles.csv", header, rows)


PAIR_COLUMNS = [
    "a",
    "b",
    "articles",
    "f1_exact",
    "f1_overlap",
    "cohen_kappa",
    "precision_exact",
    "recall_exact",
    "precision_overlap",
    "recall_overlap",
    "spans_a",
    "spans_b",
    "relation_f1_exact",
    "relation_f1_overlap",
    "relations_a",
    "relations_b",
]
RELATION_COLUMNS = ["a", "b", "type", "relations", "f1_exact", "f1_overlap"]
ATTRIBUTE_COLUMNS = [
    "a",
    "b",
    "attribute",
    "type",
    "level",
    "pairs",
    "agreement",
    "krippendorff_alpha",
    "one_given",
]
ALL_PAIRS = "(all)"  # not a possible username: Django's allow letters, digits and @.+-_


def _fact_rows(result: dict, table: str) -> tuple[list[str], list[list[object]]]:
    """Relation F1 per type, or attribute agreement per attribute: pooled over every
    pair (editors "(all)") and then for each pair of editors."""
    pooled = {"a": ALL_PAIRS, "b": ALL_PAIRS, "relation_types": result["relations"]["types"]}
    pooled["attributes"] = result["attributes"]
    rows: list[list[object]] = []
    for pair in [pooled, *result["pairs"]]:
        if table == "relations":
            for key, values in pair["relation_types"].items():
                rows.append(
                    [pair["a"], pair["b"], key, values["relations"]]
                    + [values["f1_exact"], values["f1_overlap"]]
                )
        else:
            for key, values in pair["attributes"].items():
                rows.append(
                    [pair["a"], pair["b"], key]
                    + [values[column] for column in ATTRIBUTE_COLUMNS[3:]]
                )
    return (RELATION_COLUMNS if table == "relations" else ATTRIBUTE_COLUMNS), rows


@login_required
@require_GET
def pairs_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """Each pair of editors: span measures and relation F1; ``table=relations``: relation
    F1 per type, ``table=attributes``: attribute agreement, pooled and per pair."""
    try:
        table = _table(request, ("spans", "relations", "attributes"))
        project, result = _csv_report(request, slug, 0)
    except service.AgreementQueryError as exc:
        return _bad_request(exc)
    if table != "spans":
        header, rows = _fact_rows(result, table)
        return _csv_response(f"{project.slug}-agreement-{table}.csv", header, rows)
    rows = [[pair[column] for column in PAIR_COLUMNS] for pair in result["pairs"]]
    return _csv_response(f"{project.slug}-agreement-pairs.csv", PAIR_COLUMNS, rows)


urlpatterns = [
    path("projects/<slug:slug>/agreement/", agreement, name="agreement"),
    path(
        "projects/<slug:slug>/agreement/articles/<int:article_id>/",
        agreement_article,
        name="agreement-article",
    ),
    path(
        "projects/<slug:slug>/agreement/articles.csv", articles_csv, name="agreement-articles-csv"
    ),
    path("projects/<slug:slug>/agreement/pairs.csv", pairs_csv, name="agreement-pairs-csv"),
]
