"""Agreement on facts, the pure part: counts and coefficients on cases worked out by hand."""

from __future__ import annotations

import pytest

from annotate.agreement import facts, measures

SAID_BY, LOCATED_IN = 7, 8
CASUALTY, SOURCE, LOCATION = 3, 4, 2


def rel(kind, from_span, to_span):
    (fs, fe, fl), (ts, te, tl) = from_span, to_span
    return (kind, fs, fe, fl, ts, te, tl)


FIGURE = (41, 50, CASUALTY)
OFFICIALS = (52, 61, SOURCE)
ALEPPO = (15, 21, LOCATION)


class TestRelationCounts:
    def test_the_same_relation_is_an_exact_match(self):
        a = [rel(SAID_BY, FIGURE, OFFICIALS)]
        counts = facts.relation_counts(a, list(a))
        assert counts == {f"{SAID_BY}:{CASUALTY}:{SOURCE}": [1, 1, 1, 1, 1]}

    def test_overlapping_ends_with_the_same_labels_match_by_overlap_only(self):
        a = [rel(SAID_BY, FIGURE, OFFICIALS)]
        b = [rel(SAID_BY, (44, 50, CASUALTY), (52, 70, SOURCE))]
        assert list(facts.relation_counts(a, b).values()) == [[1, 1, 0, 1, 1]]

    def test_one_end_apart_is_no_match(self):
        a = [rel(SAID_BY, FIGURE, OFFICIALS)]
        b = [rel(SAID_BY, FIGURE, (70, 75, SOURCE))]
        assert list(facts.relation_counts(a, b).values()) == [[1, 1, 0, 0, 0]]

    def test_another_type_or_end_label_never_matches(self):
        a = [rel(SAID_BY, FIGURE, OFFICIALS)]
        b = [rel(LOCATED_IN, FIGURE, OFFICIALS), rel(SAID_BY, FIGURE, (52, 61, LOCATION))]
        counts = facts.relation_counts(a, b)
        assert counts == {
            f"{SAID_BY}:{CASUALTY}:{SOURCE}": [1, 0, 0, 0, 0],
            f"{LOCATED_IN}:{CASUALTY}:{SOURCE}": [0, 1, 0, 0, 0],
            f"{SAID_BY}:{CASUALTY}:{LOCATION}": [0, 1, 0, 0, 0],
        }

    def test_one_relation_overlapping_two_counts_once_on_its_side(self):
        # A links the whole figure; B links two halves of it to the same source.
        a = [rel(SAID_BY, (41, 50, CASUALTY), OFFICIALS)]
        b = [
            rel(SAID_BY, (41, 44, CASUALTY), OFFICIALS),
            rel(SAID_BY, (45, 50, CASUALTY), OFFICIALS),
        ]
        (counts,) = facts.relation_counts(a, b).values()
        assert counts == [1, 2, 0, 1, 2]
        # F1 overlap (1 + 2) / (1 + 2) = 1; exact 0.
        assert measures.span_f1(counts[3], counts[4], counts[0], counts[1]) == 1.0
        assert measures.span_f1(0, 0, 1, 2) == 0.0


class TestAttributeCounts:
    def test_only_identically_marked_spans_are_compared(self):
        a = [(*FIGURE, {"kind": "killed"}), (0, 6, 1, {"kind": "x"})]
        b = [(*FIGURE, {"kind": "killed"}), (0, 7, 1, {"kind": "x"})]
        counts = facts.attribute_counts(a, b)
        assert counts == {f"{CASUALTY}:kind": [1, 1, 0, 0, 0, 0, 0, {":killed": 2}]}

    def test_a_value_only_one_editor_gave_is_counted_apart(self):
        a = [(*FIGURE, {"kind": "killed", "low": 12})]
        b = [(*FIGURE, {"kind": "wounded"})]
        counts = facts.attribute_counts(a, b)
        assert counts[f"{CASUALTY}:low"] == [0, 0, 1, 0, 0, 0, 0, {}]
        assert counts[f"{CASUALTY}:kind"] == [1, 0, 0, 0, 0, 0, 0, {":killed": 1, ":wounded": 1}]

    def test_integers_keep_interval_sums(self):
        a = [(*FIGURE, {"low": 12})]
        b = [(*FIGURE, {"low": 10})]
        # sum 22, squares 144 + 100, squared difference 4.
        assert facts.attribute_counts(a, b)[f"{CASUALTY}:low"][:7] == [1, 0, 0, 1, 22, 244, 4]

    def test_true_and_one_are_different_values(self):
        a = [(*FIGURE, {"flag": True})]
        b = [(*FIGURE, {"flag": 1})]
        entry = facts.attribute_counts(a, b)[f"{CASUALTY}:flag"]
        assert entry[facts.EQUAL] == 0 and entry[facts.INT_PAIRS] == 0


class TestAlpha:
    def test_nominal_alpha_worked_by_hand(self):
        # Pairs (a, a), (a, b), (b, b), (c, c): n = 8 values, a ×3, b ×3, c ×2.
        # Coincidences off the diagonal: o_ab = o_ba = 1, so D_o = 2/8; expected
        # D_e = (64 − 9 − 9 − 4) / (8·7) = 42/56. alpha = 1 − (2/8)/(42/56) = 2/3.
        alpha = measures.krippendorff_alpha_nominal_from_counts(4, 3, [3, 3, 2])
        assert alpha == pytest.approx(2 / 3)

    def test_interval_alpha_worked_by_hand(self):
        # Pairs (1, 2), (3, 3), (5, 4): n = 6, sum 18, squares 64, squared differences 2.
        # D_o = 2·2/6; D_e = 2(6·64 − 18²)/(6·5) = 4. alpha = 1 − (2/3)/4 = 5/6.
        alpha = measures.krippendorff_alpha_interval_from_sums(3, 18, 64, 2)
        assert alpha == pytest.approx(5 / 6)

    def test_alpha_is_undefined_without_pairs_or_variation(self):
        assert measures.krippendorff_alpha_nominal_from_counts(0, 0, []) is None
        assert measures.krippendorff_alpha_nominal_from_counts(2, 2, [4]) is None
        assert measures.krippendorff_alpha_interval_from_sums(0, 0, 0, 0) is None
        assert measures.krippendorff_alpha_interval_from_sums(2, 48, 576, 0) is None

    def test_perfect_disagreement_on_two_values_is_below_zero(self):
        # (a, b), (b, a): n = 4, a ×2, b ×2: alpha = 1 − 3·4/(16 − 8) = −0.5.
        assert measures.krippendorff_alpha_nominal_from_counts(2, 0, [2, 2]) == -0.5


def editor(pk, relations=(), spans=()):
    return facts.EditorFacts(pk, 1, list(relations), list(spans))


class TestArticlesAndTotals:
    def test_article_score_is_the_share_of_facts_matched(self):
        said = rel(SAID_BY, FIGURE, OFFICIALS)
        stats = facts.article_stats(
            [
                editor(2, [said], [(*FIGURE, {"kind": "killed", "low": 12})]),
                editor(1, [said, rel(LOCATED_IN, FIGURE, ALEPPO)], [(*FIGURE, {"low": 12})]),
            ]
        )
        assert stats["editors"] == [1, 2]
        # Relations: 2 matched of 3; low equal (2 of 2 values); kind given by one (0 of 1).
        assert facts.article_score(stats) == pytest.approx((2 + 2) / (3 + 2 + 1))
        # Only CASUALTY and SOURCE: LOCATED_IN ends at a LOCATION and leaves.
        assert facts.article_score(stats, labels={CASUALTY, SOURCE}) == pytest.approx(4 / 5)

    def test_an_article_without_facts_has_no_score(self):
        stats = facts.article_stats([editor(1), editor(2)])
        assert facts.article_score(stats) is None

    def test_adding_then_subtracting_leaves_exactly_what_was_there(self):
        said = rel(SAID_BY, FIGURE, OFFICIALS)
        first = facts.article_stats(
            [editor(1, [said], [(*FIGURE, {"kind": "killed"})]), editor(2, [said])]
        )
        second = facts.article_stats(
            [editor(1, [], [(*FIGURE, {"kind": "x"})]), editor(2, [], [(*FIGURE, {"kind": "y"})])]
        )
        total = facts.add(None, facts.contribution(first))
        both = facts.add(total, facts.contribution(second))
        assert both["articles"] == 2
        assert facts.add(both, facts.contribution(second), -1) == total
        empty = facts.add(total, facts.contribution(first), -1)
        assert empty == {"articles": 0, "relations": [{}], "attributes": [{}]}

    def test_three_editors_give_three_pairs(self):
        said = rel(SAID_BY, FIGURE, OFFICIALS)
        stats = facts.article_stats([editor(1, [said]), editor(2, [said]), editor(3)])
        assert [list(p.values()) for p in stats["relations"]] == [
            [[1, 1, 1, 1, 1]],  # 1 and 2
            [[1, 0, 0, 0, 0]],  # 1 and 3
            [[1, 0, 0, 0, 0]],  # 2 and 3
        ]
        # Editors 1 and 2 only: all matched.
        assert facts.article_score(stats, kept={1, 2}) == 1.0


def test_summing_in_place_gives_what_adding_gives():
    said = rel(SAID_BY, FIGURE, OFFICIALS)
    parts = [
        facts.article_stats(
            [
                editor(1, [said], [(*FIGURE, {"kind": "killed", "low": n})]),
                editor(2, [said][: n % 2], [(*FIGURE, {"kind": "wounded", "low": 3})]),
            ]
        )
        for n in range(4)
    ]
    added = in_place = None
    for part in parts:
        added = facts.add(added, facts.contribution(part))
        in_place = facts.add_into(in_place, facts.contribution(part))
    assert in_place == added
    assert parts[0]["relations"][0] == {f"{SAID_BY}:{CASUALTY}:{SOURCE}": [1, 0, 0, 0, 0]}
