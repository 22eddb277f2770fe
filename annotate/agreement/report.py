"""The agreement report: stored statistics aggregated into the API's shape. Pure: numpy only.

Input records are either totals of an editor group (every article that the same editors
submitted, summed; see :func:`.stats.add`) or single articles; both carry the same
per-pair lists. Filters act here:

- labels: the units of labels left out count as "none" (their rows and columns of each
  confusion matrix fold into "none"), and per-label figures are given only for the labels
  kept;
- editors: only pairs of kept editors count, an article counts when at least two kept
  editors submitted it, and the multi-rater coefficients use the kept editors only.

How each figure pools (micro-averaging over every unit or span of every compared article):

- ``f1_exact`` / ``f1_overlap``: span counts summed over pairs, articles and labels, then
  :func:`.measures.span_f1`.
- ``cohen_kappa``: Cohen's kappa of each pair of editors on its pooled confusion matrix;
  the overall and per-label values are the mean over pairs (pairs where it is undefined
  are left out of the mean).
- ``fleiss_kappa``: pooled agreeing pairs and category totals; defined only when every
  compared article has the same number of (kept) editors.
- ``krippendorff_alpha``: pooled coincidence matrix, each article weighted ``1/(m - 1)``.
- ``alpha_u``: summed observed and expected unitizing sums (each article its own
  continuum, so a gap never runs from one article into the next).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import fmean

import numpy as np

from . import measures
from .stats import AU_SCALE, expected_au, pair_indices

MEASURES = (
    "f1_exact",
    "f1_overlap",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "alpha_u",
)

DEFINITIONS: dict[str, tuple[str, str, str]] = {
    "f1_exact": (
        "Span F1, exact",
        "Two spans match when they have the same start, end and label. F1 = 2·matches / "
        "(spans of A + spans of B), summed over every pair of editors and article: the "
        "positive specific agreement, which needs no count of unmarked text.",
        "Hripcsak & Rothschild (2005), Agreement, the F-measure, and reliability in "
        "information retrieval, JAMIA 12(3):296–298.",
    ),
    "f1_overlap": (
        "Span F1, overlap",
        "Two spans match when they have the same label and share at least one character. "
        "As one span may overlap several, the value is (A's spans matched + B's spans "
        "matched) / (spans of A + spans of B): the share of all spans that the other "
        "editor matched. It equals F1 when matches are one to one.",
        "Lenient (overlap) matching as in Tsai et al. (2006), BMC Bioinformatics 7:92; "
        "symmetric pooling is our choice, so the figure does not depend on who is the "
        "reference.",
    ),
    "cohen_kappa": (
        "Cohen's kappa",
        "For a pair of editors over units: κ = (p_o − p_c)/(1 − p_c), observed agreement "
        "against the agreement expected from each editor's own category proportions. The "
        "headline is the mean over pairs.",
        "Cohen (1960), A coefficient of agreement for nominal scales, Educational and "
        "Psychological Measurement 20(1):37–46.",
    ),
    "fleiss_kappa": (
        "Fleiss' kappa",
        "Many raters, the same number on every unit: κ = (P̄ − P̄_e)/(1 − P̄_e), the mean "
        "share of agreeing rater pairs per unit against the chance share from the pooled "
        "category proportions. Undefined when articles have different numbers of editors.",
        "Fleiss (1971), Measuring nominal scale agreement among many raters, "
        "Psychological Bulletin 76(5):378–382.",
    ),
    "krippendorff_alpha": (
        "Krippendorff's alpha (nominal)",
        "α = 1 − D_o/D_e from the coincidence matrix of all pairable values: any number "
        "of editors, and editors missing from an article simply contribute no values.",
        "Krippendorff (2011), Computing Krippendorff's alpha-reliability, Annenberg "
        "School for Communication departmental paper 43.",
    ),
    "alpha_u": (
        "Krippendorff's unitizing alpha (α_u)",
        "Compares where spans start and end, on characters: overlapping spans add their "
        "squared start and end differences, a span lying in the other editor's unmarked "
        "text adds its squared length; expected disagreement comes from all placements of "
        "the same spans. Per label (other labels count as unmarked) and summed over labels.",
        "Krippendorff (2004), Content Analysis, 2nd ed., section 11.6, and Measuring the "
        "reliability of qualitative text analysis data, Quality & Quantity 38:787–800; "
        "Krippendorff (1995), Sociological Methodology 25:47–76.",
    ),
}


@dataclass(frozen=True)
class Record:
    """Statistics of one article, or the total of the articles of one editor group."""

    editors: Sequence[int]
    stats: Mapping
    article: int | None = None


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _mean(values: Iterable[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return fmean(defined) if defined else None


def collapse_matrix(n_labels: int, selected: Sequence[int]) -> np.ndarray:
    """Matrix folding categories (none + all labels) into (none + selected labels)."""
    matrix = np.zeros((n_labels + 1, len(selected) + 1))
    matrix[0, 0] = 1
    position = {label: i + 1 for i, label in enumerate(selected)}
    for label in range(n_labels):
        matrix[label + 1, position.get(label, 0)] = 1
    return matrix


def _binary(presence: np.ndarray, units: int) -> np.ndarray:
    """Per label 2×2 confusion ("out", "in") from (units in A, in B, in both)."""
    in_a, in_b, both = presence[:, 0], presence[:, 1], presence[:, 2]
    result = np.empty((presence.shape[0], 2, 2))
    result[:, 1, 1] = both
    result[:, 1, 0] = in_a - both
    result[:, 0, 1] = in_b - both
    result[:, 0, 0] = units - in_a - in_b + both
    return result


def _kept(record: Record, editors: Collection[int] | None) -> list[int]:
    return [i for i, e in enumerate(record.editors) if editors is None or e in editors]


def article_alpha(
    record: Record, collapse: np.ndarray, editors: Collection[int] | None = None
) -> float | None:
    """Krippendorff's alpha over one article's units: its score in the article list."""
    kept = _kept(record, editors)
    if len(kept) < 2:
        return None
    k = collapse.shape[0]
    where = {pair: p for p, pair in enumerate(pair_indices(len(record.editors)))}
    matrices = [
        collapse.T
        @ np.asarray(record.stats["confusion"][where[pair]], float).reshape(k, k)
        @ collapse
        for pair in combinations(kept, 2)
    ]
    return measures.krippendorff_alpha_nominal(measures.coincidence_from_pairs(matrices, len(kept)))


def article_alphas(
    confusions: Sequence[Sequence[Sequence[float]]],
    editors: Sequence[Sequence[int]],
    collapse: np.ndarray,
    kept: Collection[int] | None = None,
) -> list[float | None]:
    """:func:`article_alpha` of many articles at once, from their pairwise confusion lists
    (vectorised over the articles with the same number of editors)."""
    result: list[float | None] = [None] * len(confusions)
    k = collapse.shape[0]
    by_size: dict[int, list[int]] = {}
    for i, names in enumerate(editors):
        by_size.setdefault(len(names), []).append(i)
    for m, chosen in by_size.items():
        pairs = pair_indices(m)
        keep = np.array(
            [[kept is None or e in kept for e in editors[i]] for i in chosen], dtype=bool
        )
        mask = np.array([[keep[r, a] and keep[r, b] for a, b in pairs] for r in range(len(chosen))])
        count = keep.sum(axis=1)
        matrices = np.asarray([confusions[i] for i in chosen], dtype=np.float64)
        matrices = matrices.reshape(len(chosen), len(pairs), k, k)
        folded = np.einsum("npij,ia,jb->npab", matrices, collapse, collapse)
        weight = mask / np.maximum(count - 1, 1)[:, None]
        coincidence = np.einsum("np,npab->nab", weight, folded + folded.transpose(0, 1, 3, 2))
        marginals = coincidence.sum(axis=2)
        n = marginals.sum(axis=1)
        disagreeing = coincidence.sum(axis=(1, 2)) - np.trace(coincidence, axis1=1, axis2=2)
        expected = n * n - (marginals * marginals).sum(axis=1)
        defined = (count >= 2) & (n > 1) & (expected > 1e-12 * np.maximum(n * n, 1.0))
        alpha = 1.0 - (n - 1.0) * disagreeing / np.where(defined, expected, 1.0)
        for row, i in enumerate(chosen):
            result[i] = float(alpha[row]) if defined[row] else None
    return result


class _Fleiss:
    def __init__(self, categories: int) -> None:
        self.agreeing = 0.0
        self.units = 0
        self.totals = np.zeros(categories)

    def kappa(self, raters: int) -> float | None:
        return measures.fleiss_kappa_from_sums(self.agreeing, self.units, raters, self.totals)


def build(
    records: Iterable[Record],
    *,
    unit: str,
    labels: Sequence[str],
    selected: Sequence[int] | None = None,
    editors: Collection[int] | None = None,
    names: Mapping[int, str] | None = None,
) -> dict:
    """The report (the API's shape, plus ``macro``, ``editors`` and ``confusion``).

    `labels` are the label keys in the statistics' order, `selected` the indices kept (all
    by default), `editors` the editor ids kept (all by default), `names` the usernames.
    """
    names = names or {}
    n_labels = len(labels)
    k = n_labels + 1
    selected = sorted(range(n_labels) if selected is None else selected)
    collapse = collapse_matrix(n_labels, selected)
    kc = len(selected) + 1

    articles = 0
    units = 0
    coincidence = np.zeros((kc, kc))
    label_coincidence = np.zeros((n_labels, 2, 2))
    fleiss: dict[int, _Fleiss] = {}
    label_fleiss: dict[int, list[_Fleiss]] = {}
    pairs: dict[tuple[int, int], dict] = {}
    overlaps = np.zeros((n_labels, n_labels))
    au_observed = np.zeros(n_labels)
    au_expected = np.zeros(n_labels)
    per_editor: dict[int, dict] = {}

    for record in records:
        kept = _kept(record, editors)
        m = len(kept)
        if m < 2:
            continue
        stats = record.stats
        count = stats.get("articles", 1)
        articles += count
        units += stats["units"]
        where = {pair: p for p, pair in enumerate(pair_indices(len(record.editors)))}
        group = fleiss.setdefault(m, _Fleiss(kc))
        label_group = label_fleiss.setdefault(m, [_Fleiss(2) for _ in range(n_labels)])
        group.units += stats["units"]
        for label in range(n_labels):
            label_group[label].units += stats["units"]
        marginals_done: set[int] = set()
        for i, j in combinations(kept, 2):
            p = where[(i, j)]
            raw = np.asarray(stats["confusion"][p], float).reshape(k, k)
            confusion = collapse.T @ raw @ collapse
            coincidence += (confusion + confusion.T) / (m - 1)
            group.agreeing += 2 * np.trace(confusion)
            presence = np.asarray(stats["presence"][p], float).reshape(n_labels, 3)
            binary = _binary(presence, stats["units"])
            label_coincidence += (binary + binary.transpose(0, 2, 1)) / (m - 1)
            for label in range(n_labels):
                label_group[label].agreeing += 2 * np.trace(binary[label])
            for editor, axis in ((i, 1), (j, 0)):
                if editor not in marginals_done:
                    marginals_done.add(editor)
                    group.totals += confusion.sum(axis=axis)
                    for label in range(n_labels):
                        label_group[label].totals += binary[label].sum(axis=axis)
            spans = np.asarray(stats["spans"][p], float).reshape(n_labels, 5)
            overlaps += np.asarray(stats["overlaps"][p], float).reshape(n_labels, n_labels)
            au_observed += np.asarray(stats["au_o"][p], float)
            a, b = record.editors[i], record.editors[j]
            entry = pairs.setdefault(
                (a, b),
                {
                    "articles": 0,
                    "confusion": np.zeros((kc, kc)),
                    "binary": np.zeros((n_labels, 2, 2)),
                    "spans": np.zeros((n_labels, 5)),
                },
            )
            entry["articles"] += count
            entry["confusion"] += confusion
            entry["binary"] += binary
            entry["spans"] += spans
        au_expected += np.asarray(expected_au(stats, kept), float) / AU_SCALE
        for i in kept:
            per_editor.setdefault(record.editors[i], {"articles": 0})["articles"] += count

    label_keys = [labels[i] for i in selected]
    spans_total = np.zeros((n_labels, 5))
    for entry in pairs.values():
        spans_total += entry["spans"]

    def f1(rows: np.ndarray) -> tuple[float | None, float | None]:
        n_a, n_b, exact, over_a, over_b = rows.sum(axis=0) if rows.ndim == 2 else rows
        return (
            measures.span_f1(exact, exact, n_a, n_b),
            measures.span_f1(over_a, over_b, n_a, n_b),
        )

    only_m = next(iter(fleiss)) if len(fleiss) == 1 else None
    f1_exact, f1_overlap = f1(spans_total[selected]) if selected else (None, None)
    pair_kappas = [measures.cohen_kappa(entry["confusion"]) for entry in pairs.values()]
    overall = {
        "f1_exact": f1_exact,
        "f1_overlap": f1_overlap,
        "cohen_kappa": _mean(pair_kappas),
        "fleiss_kappa": fleiss[only_m].kappa(only_m) if only_m else None,
        "krippendorff_alpha": measures.krippendorff_alpha_nominal(coincidence)
        if articles
        else None,
        "alpha_u": measures.alpha_u_from_sums(
            au_observed[selected].sum(), au_expected[selected].sum()
        )
        if articles
        else None,
    }
    per_label: dict[str, dict] = {}
    for label in selected:
        exact, overlap = f1(spans_total[label])
        per_label[labels[label]] = {
            "f1_exact": exact,
            "f1_overlap": overlap,
            "cohen_kappa": _mean(
                measures.cohen_kappa(entry["binary"][label]) for entry in pairs.values()
            ),
            "fleiss_kappa": label_fleiss[only_m][label].kappa(only_m) if only_m else None,
            "krippendorff_alpha": measures.krippendorff_alpha_nominal(label_coincidence[label])
            if articles
            else None,
            "alpha_u": measures.alpha_u_from_sums(au_observed[label], au_expected[label])
            if articles
            else None,
        }

    pair_rows = []
    for (a, b), entry in sorted(pairs.items(), key=lambda item: _pair_sort(item[0], names)):
        n_a, n_b, exact, over_a, over_b = entry["spans"][selected].sum(axis=0)
        kappa = measures.cohen_kappa(entry["confusion"])
        pair_rows.append(
            {
                "a": names.get(a, str(a)),
                "b": names.get(b, str(b)),
                "articles": int(entry["articles"]),
                "f1_exact": _round(measures.span_f1(exact, exact, n_a, n_b)),
                "f1_overlap": _round(measures.span_f1(over_a, over_b, n_a, n_b)),
                "cohen_kappa": _round(kappa),
                "precision_exact": _round(measures.ratio_or_none(exact, n_b)),
                "recall_exact": _round(measures.ratio_or_none(exact, n_a)),
                "precision_overlap": _round(measures.ratio_or_none(over_b, n_b)),
                "recall_overlap": _round(measures.ratio_or_none(over_a, n_a)),
                "spans_a": int(n_a),
                "spans_b": int(n_b),
            }
        )

    editor_rows = []
    for editor in sorted(per_editor, key=lambda e: names.get(e, str(e))):
        own = other = own_matched = other_matched = exact_matched = 0.0
        kappas = []
        for (a, b), entry in pairs.items():
            if editor not in (a, b):
                continue
            n_a, n_b, exact, over_a, over_b = entry["spans"][selected].sum(axis=0)
            if editor == a:
                own, other = own + n_a, other + n_b
                own_matched, other_matched = own_matched + over_a, other_matched + over_b
            else:
                own, other = own + n_b, other + n_a
                own_matched, other_matched = own_matched + over_b, other_matched + over_a
            exact_matched += exact
            kappas.append(measures.cohen_kappa(entry["confusion"]))
        precision, recall = measures.precision_recall(own_matched, own, other_matched, other)
        editor_rows.append(
            {
                "editor": names.get(editor, str(editor)),
                "articles": per_editor[editor]["articles"],
                "spans": int(own),
                "cohen_kappa": _round(_mean(kappas)),
                "f1_exact": _round(measures.span_f1(exact_matched, exact_matched, own, other)),
                "f1_overlap": _round(measures.span_f1(own_matched, other_matched, own, other)),
                "precision_overlap": _round(precision),
                "recall_overlap": _round(recall),
            }
        )

    confusion_rows = []
    for x in selected:
        confusion_rows.append(
            [int(overlaps[x, y] + (overlaps[y, x] if x != y else 0)) for y in selected]
        )

    macro_exact = _mean(per_label[key]["f1_exact"] for key in label_keys)
    macro_overlap = _mean(per_label[key]["f1_overlap"] for key in label_keys)
    return {
        "unit": unit,
        "articles_compared": articles,
        "units_compared": units,
        "overall": {name: _round(value) for name, value in overall.items()},
        "labels": {
            key: {name: _round(value) for name, value in values.items()}
            for key, values in per_label.items()
        },
        "macro": {"f1_exact": _round(macro_exact), "f1_overlap": _round(macro_overlap)},
        "pairs": pair_rows,
        "editors": editor_rows,
        "confusion": {"labels": label_keys, "matrix": confusion_rows},
        "fleiss_editors": only_m,
    }


def _pair_sort(pair: tuple[int, int], names: Mapping[int, str]) -> tuple[str, str]:
    return names.get(pair[0], str(pair[0])), names.get(pair[1], str(pair[1]))
