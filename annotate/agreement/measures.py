"""Agreement coefficients, each computed from counts. Pure: numpy only.

Every function returns ``None`` where the coefficient is undefined for the data (no units,
a single category, no spans), never a made-up 0 or 1. Each docstring gives the definition
and its source. The counts they take add up across articles, which is what lets the app
keep small per-article statistics and pool them (see :mod:`.stats`).

Sources
    - Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
      Psychological Measurement* 20(1), 37–46.
    - Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
      *Psychological Bulletin* 76(5), 378–382.
    - Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School
      for Communication, University of Pennsylvania, departmental paper 43.
    - Krippendorff, K. (1995). On the reliability of unitizing continuous data.
      *Sociological Methodology* 25, 47–76.
    - Krippendorff, K. (2004). *Content Analysis: An Introduction to Its Methodology*,
      2nd ed., Sage, section 11.6 (unitizing reliability); and Measuring the reliability of
      qualitative text analysis data, *Quality & Quantity* 38, 787–800.
    - Hripcsak, G. and Rothschild, A. S. (2005). Agreement, the F-measure, and reliability
      in information retrieval. *JAMIA* 12(3), 296–298.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import combinations

import numpy as np

Number = float | int


def ratio_or_none(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else float(numerator) / float(denominator)


# --- Span F1 -----------------------------------------------------------------------------


def span_f1(matched_a: int, matched_b: int, spans_a: int, spans_b: int) -> float | None:
    """Agreement between two editors' span sets as an F1 score.

    With editor A as the reference, precision is the share of B's spans that match one of
    A's (``matched_b / spans_b``) and recall the share of A's spans that B matched
    (``matched_a / spans_a``). For exact matching (same start, end and label) each match
    pairs one span of each, so ``matched_a == matched_b`` and the value is the usual
    ``F1 = 2·tp / (2·tp + fp + fn)``, which Hripcsak & Rothschild (2005) show is the
    positive specific agreement between two raters and needs no "true negatives".

    For overlap matching (same label, at least one character in common) one span may match
    several, so ``matched_a`` and ``matched_b`` differ. We report the symmetric pooled
    value ``(matched_a + matched_b) / (spans_a + spans_b)``: the share of all spans, of
    either editor, that the other editor matched. It equals F1 when the matches are one to
    one, does not depend on which editor is called the reference, and pools over pairs and
    articles by summing the four counts. Undefined (None) when neither editor marked a span.
    """
    return ratio_or_none(matched_a + matched_b, spans_a + spans_b)


def precision_recall(
    matched_own: int, own: int, matched_other: int, other: int
) -> tuple[float | None, float | None]:
    """Precision (share of an editor's spans that the others matched) and recall (share of
    the others' spans that the editor matched), as in information retrieval with the other
    editors as the reference (Hripcsak & Rothschild 2005)."""
    return ratio_or_none(matched_own, own), ratio_or_none(matched_other, other)


# --- Cohen's kappa -----------------------------------------------------------------------


def cohen_kappa(confusion: np.ndarray | Sequence[Sequence[Number]]) -> float | None:
    """Cohen's kappa for two coders from their confusion matrix (rows: coder A's category,
    columns: coder B's, cells: how many units).

    ``kappa = (p_o - p_c) / (1 - p_c)`` with observed agreement ``p_o = trace / N`` and
    chance agreement ``p_c = sum_k (row_k / N)(col_k / N)`` from each coder's own marginal
    proportions (Cohen 1960, the coefficient kappa defined on p. 40). Undefined when there
    are no units or chance agreement is 1 (both coders used one and the same category).
    """
    matrix = np.asarray(confusion, dtype=np.float64)
    total = matrix.sum()
    if total <= 0:
        return None
    observed = np.trace(matrix) / total
    chance = float(np.dot(matrix.sum(axis=1), matrix.sum(axis=0))) / (total * total)
    if np.isclose(chance, 1.0, rtol=0, atol=1e-12):
        return None
    return float((observed - chance) / (1.0 - chance))


# --- Fleiss' kappa -----------------------------------------------------------------------


def fleiss_kappa_from_sums(
    agreeing_pairs: Number, units: Number, raters: int, category_totals: Sequence[Number]
) -> float | None:
    """Fleiss' kappa from sums that add up across units (and so across articles).

    Fleiss (1971) has N units each rated by the same number n of raters, ``n_ij`` raters
    putting unit i in category j. Then ``P_i = (sum_j n_ij^2 - n) / (n(n - 1))``,
    ``P̄ = (1/N) sum_i P_i``, ``p_j = sum_i n_ij / (N n)``, ``P̄_e = sum_j p_j^2`` and
    ``kappa = (P̄ - P̄_e) / (1 - P̄_e)``. Since ``sum_j n_ij^2 - n = sum_j n_ij (n_ij - 1)``
    counts the ordered pairs of raters who agree on unit i, ``agreeing_pairs`` is that
    count summed over units (twice the diagonal of every pairwise confusion matrix) and
    ``category_totals`` is ``sum_i n_ij`` for each j. Undefined with no units, fewer than
    two raters, or a single category in use (``P̄_e = 1``).
    """
    if units <= 0 or raters < 2:
        return None
    mean_agreement = float(agreeing_pairs) / (float(units) * raters * (raters - 1))
    proportions = np.asarray(category_totals, dtype=np.float64) / (float(units) * raters)
    chance = float(np.dot(proportions, proportions))
    if np.isclose(chance, 1.0, rtol=0, atol=1e-12):
        return None
    return (mean_agreement - chance) / (1.0 - chance)


def fleiss_kappa(table: np.ndarray | Sequence[Sequence[Number]]) -> float | None:
    """Fleiss' kappa from the units × categories table of rater counts ``n_ij`` (every row
    summing to the same number of raters n), as in Fleiss (1971); see
    :func:`fleiss_kappa_from_sums` for the formula."""
    counts = np.asarray(table, dtype=np.float64)
    if counts.size == 0:
        return None
    raters = counts.sum(axis=1)
    if not np.all(raters == raters[0]):
        raise ValueError("Fleiss' kappa needs the same number of raters for every unit.")
    agreeing = float((counts * (counts - 1)).sum())
    return fleiss_kappa_from_sums(agreeing, counts.shape[0], int(raters[0]), counts.sum(axis=0))


# --- Krippendorff's alpha (nominal) ------------------------------------------------------


def coincidence_matrix(
    reliability_data: Sequence[Sequence[object]], categories: Sequence[object] | None = None
) -> tuple[np.ndarray, list[object]]:
    """The coincidence matrix of reliability data: coders × units, ``None`` (or NaN) where a
    coder gave no value.

    Krippendorff (2011): for every unit u with ``m_u >= 2`` values, each ordered pair of
    values from different coders adds ``1 / (m_u - 1)`` to cell (c, k); units with fewer
    than two values are not pairable and add nothing. Returns the matrix and its category
    order.
    """

    def present(value: object) -> bool:
        return value is not None and not (isinstance(value, float) and np.isnan(value))

    columns = list(zip(*reliability_data, strict=True)) if reliability_data else []
    if categories is None:
        seen = {v for column in columns for v in column if present(v)}
        categories = sorted(seen, key=lambda v: (str(type(v)), v))
    index = {c: i for i, c in enumerate(categories)}
    matrix = np.zeros((len(categories), len(categories)), dtype=np.float64)
    for column in columns:
        values = [index[v] for v in column if present(v)]
        if len(values) < 2:
            continue
        weight = 1.0 / (len(values) - 1)
        for i, j in combinations(range(len(values)), 2):
            matrix[values[i], values[j]] += weight
            matrix[values[j], values[i]] += weight
    return matrix, list(categories)


def coincidence_from_pairs(confusions: Iterable[np.ndarray], raters: int) -> np.ndarray:
    """The coincidence matrix of units that all have the same `raters` coders, from the
    confusion matrix of every pair of them: ``sum over pairs (C + C^T) / (raters - 1)``.

    This is Krippendorff's (2011) definition regrouped: every ordered pair of values within
    a unit is one cell of one pairwise confusion matrix, weighted by ``1 / (m_u - 1)``.
    Because it is a sum, it adds up across articles with different numbers of editors.
    """
    total: np.ndarray | None = None
    for confusion in confusions:
        matrix = np.asarray(confusion, dtype=np.float64)
        total = matrix + matrix.T if total is None else total + matrix + matrix.T
    if total is None:
        raise ValueError("No pairs given.")
    return total / (raters - 1)


def krippendorff_alpha_nominal(
    coincidence: np.ndarray | Sequence[Sequence[Number]],
) -> float | None:
    """Krippendorff's alpha for nominal data from a coincidence matrix ``o_ck``.

    Krippendorff (2011), nominal data with any number of coders and missing values:
    ``alpha = 1 - D_o / D_e = 1 - (n - 1) · sum_{c≠k} o_ck / sum_{c≠k} n_c n_k`` with
    ``n_c = sum_k o_ck`` and ``n = sum_c n_c`` the number of pairable values. Undefined
    when fewer than two values are pairable or all values fall in one category
    (``D_e = 0``).
    """
    matrix = np.asarray(coincidence, dtype=np.float64)
    if matrix.size == 0:
        return None
    marginals = matrix.sum(axis=1)
    n = marginals.sum()
    if n <= 1:
        return None
    disagreeing = matrix.sum() - np.trace(matrix)
    expected = n * n - float(np.dot(marginals, marginals))
    if expected <= 1e-12 * max(n * n, 1.0):
        return None
    return float(1.0 - (n - 1.0) * disagreeing / expected)


def krippendorff_alphas_nominal(coincidences: np.ndarray) -> list[float | None]:
    """:func:`krippendorff_alpha_nominal` of many coincidence matrices at once (an array
    N × K × K). The operations are the same, so where every sum is exact (cells that are
    multiples of 1/2 and not too large) the values are the same floats too."""
    matrices = np.asarray(coincidences, dtype=np.float64)
    marginals = matrices.sum(axis=2)
    n = marginals.sum(axis=1)
    disagreeing = matrices.sum(axis=(1, 2)) - np.trace(matrices, axis1=1, axis2=2)
    expected = n * n - (marginals * marginals).sum(axis=1)
    defined = (n > 1) & (expected > 1e-12 * np.maximum(n * n, 1.0))
    alpha = 1.0 - (n - 1.0) * disagreeing / np.where(defined, expected, 1.0)
    return [
        float(a) if ok else None for a, ok in zip(alpha.tolist(), defined.tolist(), strict=True)
    ]


def krippendorff_alpha(
    reliability_data: Sequence[Sequence[object]], categories: Sequence[object] | None = None
) -> float | None:
    """Krippendorff's nominal alpha straight from reliability data (coders × units,
    ``None`` for a missing value); see :func:`coincidence_matrix` and
    :func:`krippendorff_alpha_nominal`."""
    matrix, _ = coincidence_matrix(reliability_data, categories)
    return krippendorff_alpha_nominal(matrix)


def krippendorff_alpha_nominal_from_counts(
    pairs: int, equal: int, value_counts: Iterable[int]
) -> float | None:
    """Krippendorff's nominal alpha of units that each hold exactly two values.

    Each such unit adds 1 to ``o_ab`` and to ``o_ba`` of the coincidence matrix
    (Krippendorff 2011, weight ``1 / (m_u - 1)`` with ``m_u = 2``), so with ``pairs`` units,
    ``equal`` of them holding the same value twice, and ``value_counts`` the number of
    times each value occurs among the ``n = 2 · pairs`` pairable values:
    ``sum_{c≠k} o_ck = 2 (pairs − equal)``, ``n_c`` = the value counts, and
    ``alpha = 1 − (n − 1) · 2 (pairs − equal) / (n² − sum_c n_c²)``. All three inputs add up
    over units, pairs of coders and articles. Undefined with no unit or when every value is
    the same (``D_e = 0``).
    """
    n = 2 * int(pairs)
    if n <= 1:
        return None
    expected = n * n - sum(int(c) * int(c) for c in value_counts)
    if expected <= 0:
        return None
    return 1.0 - (n - 1) * 2 * (int(pairs) - int(equal)) / expected


def krippendorff_alpha_interval_from_sums(
    pairs: int, total: int, squares: int, differences: int
) -> float | None:
    """Krippendorff's interval alpha of units that each hold exactly two numbers.

    With ``δ²(c, k) = (c − k)²`` (Krippendorff 2011, interval metric),
    ``alpha = 1 − (n − 1) · sum_ck o_ck δ²_ck / sum_ck n_c n_k δ²_ck``. For units of two
    values a, b the numerator is ``2 · sum_u (a_u − b_u)²`` (``differences`` is that sum
    without the 2) and, over the ``n = 2 · pairs`` pairable values x, the denominator is
    ``sum_i sum_j (x_i − x_j)² = 2 (n · sum x² − (sum x)²)`` (``squares`` and ``total``).
    So ``alpha = 1 − (n − 1) · differences / (n · squares − total²)``: four integers that add
    up over units, pairs and articles, computed exactly. Undefined with no unit or when all
    values are equal.
    """
    n = 2 * int(pairs)
    if n <= 1:
        return None
    expected = n * int(squares) - int(total) * int(total)
    if expected <= 0:
        return None
    return 1.0 - (n - 1) * int(differences) / expected


# --- Krippendorff's unitizing alpha ------------------------------------------------------

Segment = tuple[int, int]  # start, end (end exclusive)


def unitizing_distance(a: Segment, a_is_unit: bool, b: Segment, b_is_unit: bool) -> int:
    """The squared distance between two coders' segments (Krippendorff 2004, section 11.6;
    Krippendorff 1995, with 2004's correction).

    Every coder's continuum is cut into units (marked, of the category at hand) and gaps.
    For overlapping units the distance is the sum of the squared differences of their
    starts and of their ends; a unit lying wholly inside the other coder's gap contributes
    its squared length; everything else (two gaps, segments that do not overlap, a unit
    only partly in a gap) contributes 0.
    """
    (sa, ea), (sb, eb) = a, b
    if a_is_unit and b_is_unit and sa < eb and sb < ea:
        return (sa - sb) ** 2 + (ea - eb) ** 2
    if a_is_unit and not b_is_unit and sb <= sa and ea <= eb:
        return (ea - sa) ** 2
    if b_is_unit and not a_is_unit and sa <= sb and eb <= ea:
        return (eb - sb) ** 2
    return 0


def _segments(units: Sequence[Segment], length: int) -> list[tuple[Segment, bool]]:
    result: list[tuple[Segment, bool]] = []
    position = 0
    for start, end in sorted(units):
        if start < position:
            raise ValueError("A coder's units of one category must not overlap.")
        if start > position:
            result.append(((position, start), False))
        result.append(((start, end), True))
        position = end
    if position < length:
        result.append(((position, length), False))
    return result


def _gaps(units: Sequence[Segment], length: int) -> list[int]:
    return [e - s for (s, e), is_unit in _segments(units, length) if not is_unit]


def alpha_u_observed_sum(
    units_a: Sequence[Segment], units_b: Sequence[Segment], length: int
) -> int:
    """The sum of squared distances between two coders' segmentations of a continuum of
    `length`: ``sum_g sum_h delta^2(g, h)`` over A's segments g and B's segments h
    (Krippendorff 2004, section 11.6, the numerator of the observed disagreement).

    ``D_o = 2 · sum over coder pairs / (m (m - 1) L^2)``; this function gives one pair's
    sum by plain enumeration (the reference that :mod:`.stats` is tested against).
    """
    total = 0
    for seg_a, unit_a in _segments(units_a, length):
        for seg_b, unit_b in _segments(units_b, length):
            total += unitizing_distance(seg_a, unit_a, seg_b, unit_b)
    return total


def alpha_u_expected_parts(
    units_by_coder: Sequence[Sequence[Segment]], length: int
) -> tuple[int, int, int, int, int]:
    """The sums behind unitizing alpha's expected disagreement for one category:
    ``(N, F, X, Q, m)`` with N the number of units of all coders, ``F = sum_g l_g(l_g - 1)
    (2 l_g - 1) / 3``, ``X = sum_g l_g^2 sum_{h: l_h >= l_g} (l_h - l_g + 1)`` over all
    coders' units g and all coders' gaps h, ``Q = sum_g l_g (l_g - 1)`` and m coders.
    See :func:`alpha_u_expected_sum`."""
    lengths = [e - s for units in units_by_coder for s, e in units]
    gaps = [g for units in units_by_coder for g in _gaps(units, length)]
    n = len(lengths)
    f = sum(ell * (ell - 1) * (2 * ell - 1) // 3 for ell in lengths)
    x = sum(ell * ell * sum(h - ell + 1 for h in gaps if h >= ell) for ell in lengths)
    q = sum(ell * (ell - 1) for ell in lengths)
    return n, f, x, q, len(units_by_coder)


def alpha_u_expected_from_parts(n: int, f: int, x: int, q: int, coders: int, length: int) -> float:
    """Unitizing alpha's expected disagreement, scaled like :func:`alpha_u_observed_sum`.

    Krippendorff (2004, section 11.6) gives, for one category c over a continuum of length
    L with m coders,
    ``D_e = (2/L) · sum_g [ (N - 1)(2 l_g^3 - 3 l_g^2 + l_g)/3 + l_g^2 · sum_h (l_h - l_g + 1) ]
    / ( m L (m L - 1) - sum_g l_g (l_g - 1) )``
    (the inner sum over gaps h at least as long as unit g). Multiplying by
    ``m (m - 1) L^2 / 2`` puts it on the scale of the summed squared distances of all
    coder pairs, so ``alpha_u = 1 - sum(observed sums) / expected``. The scaled value is
    ``m (m - 1) L ((N - 1) F + X) / (m L (m L - 1) - Q)``.
    """
    denominator = coders * length * (coders * length - 1) - q
    if denominator <= 0 or coders < 2:
        return 0.0
    return coders * (coders - 1) * length * ((n - 1) * f + x) / denominator


def alpha_u_expected_sum(units_by_coder: Sequence[Sequence[Segment]], length: int) -> float:
    """Expected disagreement of unitizing alpha on the observed-sum scale; see
    :func:`alpha_u_expected_from_parts`."""
    n, f, x, q, m = alpha_u_expected_parts(units_by_coder, length)
    return alpha_u_expected_from_parts(n, f, x, q, m, length)


def alpha_u_from_sums(observed: float, expected: float) -> float | None:
    """``alpha_u = 1 - D_o / D_e`` from observed and expected sums on the same scale; for
    several categories, pass the sums over categories (Krippendorff 2004: the coefficient
    over all categories is ``1 - sum_c D_o,c / sum_c D_e,c``). Undefined when the expected
    disagreement is 0 (no units at all)."""
    if expected <= 0:
        return None
    return 1.0 - float(observed) / float(expected)


def alpha_u(units_by_coder: Sequence[Sequence[Segment]], length: int) -> float | None:
    """Krippendorff's unitizing alpha for one category: each coder's units as (start, end)
    pairs on a continuum [0, length). Reference implementation by enumeration."""
    observed = sum(
        alpha_u_observed_sum(units_by_coder[i], units_by_coder[j], length)
        for i, j in combinations(range(len(units_by_coder)), 2)
    )
    return alpha_u_from_sums(observed, alpha_u_expected_sum(units_by_coder, length))


def alpha_u_categories(
    units_by_category: dict[object, Sequence[Sequence[Segment]]], length: int
) -> float | None:
    """Unitizing alpha over several categories: ``1 - sum_c D_o,c / sum_c D_e,c``."""
    observed = 0.0
    expected = 0.0
    for units_by_coder in units_by_category.values():
        observed += sum(
            alpha_u_observed_sum(units_by_coder[i], units_by_coder[j], length)
            for i, j in combinations(range(len(units_by_coder)), 2)
        )
        expected += alpha_u_expected_sum(units_by_coder, length)
    return alpha_u_from_sums(observed, expected)
