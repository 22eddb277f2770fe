"""The agreement coefficients against published worked examples, and their undefined cases."""

from __future__ import annotations

import numpy as np
import pytest

from annotate.agreement import measures

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: nominal data,
# four observers, twelve units, missing values (None). Published: alpha = 0.743.
KRIPPENDORFF_2011_NOMINAL = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

# Krippendorff (2011), section A: binary data, two observers, ten units. Published: 0.095.
KRIPPENDORFF_2011_BINARY = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
]

# Fleiss' kappa worked example (Wikipedia, "Fleiss' kappa"): 10 subjects, 14 raters,
# 5 categories. Published: P̄ = 0.378, P̄e = 0.213, kappa = 0.210.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_krippendorff_alpha_matches_the_published_nominal_example_with_missing_values():
    assert measures.krippendorff_alpha(KRIPPENDORFF_2011_NOMINAL) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_coincidence_matrix_matches_the_published_one():
    # Krippendorff (2011), section C, the coincidence matrix of the example (values 1..5).
    matrix, categories = measures.coincidence_matrix(KRIPPENDORFF_2011_NOMINAL)
    assert categories == [1, 2, 3, 4, 5]
    expected = [
        [7, 4 / 3, 1 / 3, 1 / 3, 0],
        [4 / 3, 10, 4 / 3, 1 / 3, 0],
        [1 / 3, 4 / 3, 8, 1 / 3, 0],
        [1 / 3, 1 / 3, 1 / 3, 4, 0],
        [0, 0, 0, 0, 3],
    ]
    np.testing.assert_allclose(matrix, expected)
    assert matrix.sum() == pytest.approx(40)  # n: pairable values


def test_krippendorff_alpha_matches_the_published_binary_example():
    assert measures.krippendorff_alpha(KRIPPENDORFF_2011_BINARY) == pytest.approx(0.095, abs=5e-4)


def test_fleiss_kappa_matches_the_published_worked_example():
    assert measures.fleiss_kappa(FLEISS_TABLE) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_from_sums_equals_the_table_form():
    agreeing = sum(n * (n - 1) for row in FLEISS_TABLE for n in row)
    totals = [sum(column) for column in zip(*FLEISS_TABLE, strict=True)]
    assert measures.fleiss_kappa_from_sums(agreeing, 10, 14, totals) == pytest.approx(
        measures.fleiss_kappa(FLEISS_TABLE)
    )


def test_fleiss_kappa_refuses_units_with_different_numbers_of_raters():
    with pytest.raises(ValueError, match="same number of raters"):
        measures.fleiss_kappa([[1, 1], [2, 1]])


def test_cohen_kappa_matches_the_published_fifty_application_example():
    # Wikipedia, "Cohen's kappa": 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no;
    # p_o = 0.7, p_e = 0.5, kappa = 0.4.
    assert measures.cohen_kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)


def test_cohen_kappa_matches_cohens_own_example():
    # Cohen (1960), Table 1: observed proportions of two judges over three categories
    # (200 units); p_o = 0.70, p_c = 0.41, kappa = 0.492.
    table = [[88, 14, 18], [10, 40, 10], [2, 6, 12]]
    assert measures.cohen_kappa(table) == pytest.approx(0.492, abs=5e-4)


# Krippendorff (2004), Content Analysis, 2nd ed., p. 254 (section 11.6): two coders on a
# continuum from 150 to 450 with categories c and k, as transcribed in DKPro Agreement's
# Krippendorff2004Test (Meyer et al. 2014). Published: uDo(c) = 0.0144, uDe(c) = 0.0532,
# c-alpha_u = 0.7286; k-alpha_u = 1.
BEGIN, LENGTH = 150, 300
C_UNITS = [
    [(225 - BEGIN, 295 - BEGIN), (370 - BEGIN, 400 - BEGIN)],
    [(220 - BEGIN, 300 - BEGIN), (355 - BEGIN, 375 - BEGIN), (400 - BEGIN, 420 - BEGIN)],
]
K_UNITS = [
    [(180 - BEGIN, 240 - BEGIN), (300 - BEGIN, 350 - BEGIN)],
    [(180 - BEGIN, 240 - BEGIN), (300 - BEGIN, 350 - BEGIN)],
]


def test_unitizing_distances_match_the_published_ones():
    # Krippendorff (2004, p. 254): the distances of the example's overlapping segments.
    assert measures.unitizing_distance((225, 295), True, (220, 300), True) == 50
    assert measures.unitizing_distance((370, 400), True, (355, 375), True) == 850
    assert measures.unitizing_distance((400, 450), False, (400, 420), True) == 400


def test_unitizing_alpha_matches_the_published_example():
    observed = measures.alpha_u_observed_sum(C_UNITS[0], C_UNITS[1], LENGTH)
    expected = measures.alpha_u_expected_sum(C_UNITS, LENGTH)
    scale = 2 / (2 * 1 * LENGTH**2)  # back to D_o and D_e: 2 sum / (m (m - 1) L^2)
    assert observed * scale == pytest.approx(0.0144, abs=5e-5)
    assert expected * scale == pytest.approx(0.0532, abs=5e-5)
    assert measures.alpha_u(C_UNITS, LENGTH) == pytest.approx(0.7286, abs=5e-5)
    assert measures.alpha_u(K_UNITS, LENGTH) == pytest.approx(1.0)
    overall = measures.alpha_u_categories({"c": C_UNITS, "k": K_UNITS}, LENGTH)
    assert overall == pytest.approx(0.8591, abs=5e-4)


@pytest.mark.parametrize(
    ("units", "published"),
    [
        # Krippendorff (1995, p. 57), four pairs of coders on 24 time units. The published
        # alphas were computed for a continuous scale; stretching the example approaches
        # them. DKPro Agreement notes a small slip in the 1995 expected disagreement
        # (corrected in 2004), hence the tolerance.
        ([[(2, 10), (14, 20)], [(4, 8), (15, 17)]], 0.553),
        ([[(0, 18)], [(0, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 9), (9, 10)]], -0.926),
        (
            [
                [(2, 8), (10, 12), (14, 18), (20, 22)],
                [(0, 2), (4, 8), (10, 14), (16, 18), (20, 22)],
            ],
            0.679,
        ),
        (
            [
                [(0, 2), (2, 10), (10, 14), (14, 20), (20, 24)],
                [(0, 4), (4, 8), (8, 15), (15, 17), (17, 24)],
            ],
            0.066,
        ),
    ],
)
def test_unitizing_alpha_approaches_the_1995_published_examples(units, published):
    stretch = 50_000
    stretched = [[(s * stretch, e * stretch) for s, e in coder] for coder in units]
    assert measures.alpha_u(stretched, 24 * stretch) == pytest.approx(published, abs=0.02)


def test_unitizing_alpha_hand_computed_case():
    # L = 10, coder A marks [2, 6), coder B marks [3, 6).
    # Observed: the units overlap: (2 - 3)^2 + (6 - 6)^2 = 1.
    # Expected parts: units of length 4 and 3, so N = 2, F = 4·3·7/3 + 3·2·5/3 = 28 + 10 = 38,
    # Q = 4·3 + 3·2 = 18. Gaps: A has 2 and 4, B has 3 and 4. X = 4^2 · (4-4+1) [gap 4 of A]
    # + 4^2 · (4-4+1) [gap 4 of B] + 3^2 · ((3-3+1) + (4-3+1) + (4-3+1)) = 16 + 16 + 45 = 77.
    # E = m(m-1) L ((N-1) F + X) / (m L (m L - 1) - Q) = 2·10·(38 + 77)/(20·19 - 18) = 2300/362.
    units = [[(2, 6)], [(3, 6)]]
    assert measures.alpha_u_expected_parts(units, 10) == (2, 38, 77, 18, 2)
    assert measures.alpha_u_expected_sum(units, 10) == pytest.approx(2300 / 362)
    assert measures.alpha_u(units, 10) == pytest.approx(1 - 362 / 2300)


def test_span_f1_exact_is_the_usual_f1():
    # A marks 4 spans, B marks 5, 3 match exactly: P = 3/5, R = 3/4, F1 = 2PR/(P+R) = 2/3.
    assert measures.span_f1(3, 3, 4, 5) == pytest.approx(2 * 3 / (4 + 5))


def test_span_f1_overlap_counts_matches_on_both_sides():
    assert measures.span_f1(2, 1, 2, 2) == pytest.approx(3 / 4)


class TestUndefinedCases:
    def test_no_units_gives_no_kappa(self):
        assert measures.cohen_kappa([[0, 0], [0, 0]]) is None

    def test_one_category_in_use_gives_no_kappa(self):
        assert measures.cohen_kappa([[10, 0], [0, 0]]) is None

    def test_one_category_in_use_gives_no_alpha(self):
        assert measures.krippendorff_alpha([[1, 1, 1], [1, 1, 1]]) is None

    def test_no_pairable_values_give_no_alpha(self):
        assert measures.krippendorff_alpha([[1, None], [None, 2]]) is None

    def test_one_category_in_use_gives_no_fleiss_kappa(self):
        assert measures.fleiss_kappa([[3, 0], [3, 0]]) is None

    def test_no_units_give_no_fleiss_kappa(self):
        assert measures.fleiss_kappa_from_sums(0, 0, 3, [0, 0]) is None

    def test_no_spans_give_no_f1(self):
        assert measures.span_f1(0, 0, 0, 0) is None

    def test_spans_on_one_side_only_give_zero_f1(self):
        assert measures.span_f1(0, 0, 3, 0) == 0.0

    def test_no_units_give_no_unitizing_alpha(self):
        assert measures.alpha_u([[], []], 20) is None

    def test_kappa_below_chance_is_negative_not_clamped(self):
        assert measures.cohen_kappa([[0, 5], [5, 0]]) == pytest.approx(-1.0)
