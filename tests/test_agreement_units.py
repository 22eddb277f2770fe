"""Units of agreement, and the vectorised statistics against a plain per-unit computation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.agreement import measures, units
from annotate.agreement import stats as agreement_stats


def tokens(text: str) -> list[str]:
    starts, ends = units.tokenize(text)
    return [text[s:e] for s, e in zip(starts, ends, strict=True)]


class TestTokenisation:
    def test_words_and_punctuation_are_tokens(self):
        assert tokens("Rebels shelled Aleppo, said al-Assad's forces.") == [
            "Rebels", "shelled", "Aleppo", ",", "said", "al", "-", "Assad", "'", "s", "forces",
            ".",
        ]  # fmt: skip

    def test_numbers_and_letters_of_other_scripts_are_words(self):
        assert tokens("قتل ١٢ شخصاً في حلب") == ["قتل", "١٢", "شخصاً", "في", "حلب"]

    def test_combining_marks_stay_inside_their_word(self):
        assert tokens("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]

    def test_zero_width_non_joiner_stays_inside_a_persian_word(self):
        assert tokens("می\u200cخواهم بروم") == ["می\u200cخواهم", "بروم"]

    def test_han_and_kana_characters_are_one_token_each(self):
        assert tokens("北京市カタ") == ["北", "京", "市", "カ", "タ"]

    def test_emoji_and_astral_characters_count_as_one_code_point(self):
        text = "ok 🙂 𝐀𝐁"
        assert tokens(text) == ["ok", "🙂", "𝐀𝐁"]
        starts, _ = units.tokenize(text)
        assert starts.tolist() == [0, 3, 5]

    def test_white_space_makes_no_token(self):
        assert tokens(" \n\t ") == []
        assert tokens("") == []

    def test_many_texts_at_once_give_the_same_tokens(self):
        texts = ["a b", "", "c, d", "北京"]
        starts, ends, char_offsets, token_offsets = units.tokenize_joined(texts)
        for i, text in enumerate(texts):
            got = [
                (s - char_offsets[i], e - char_offsets[i])
                for s, e in zip(
                    starts[token_offsets[i] : token_offsets[i + 1]],
                    ends[token_offsets[i] : token_offsets[i + 1]],
                    strict=True,
                )
            ]
            single = units.tokenize(text)
            assert got == list(zip(single[0].tolist(), single[1].tolist(), strict=True))


class TestSpansOnTokens:
    def test_a_span_covers_every_token_it_shares_a_character_with(self):
        starts, ends = units.tokenize("Rebels shelled Aleppo")
        first, last = units.spans_to_token_ranges(starts, ends, np.array([3]), np.array([9]))
        assert (first[0], last[0]) == (0, 2)  # "bels sh" touches "Rebels" and "shelled"

    def test_a_span_of_white_space_covers_no_token(self):
        starts, ends = units.tokenize("Rebels  shelled")
        first, last = units.spans_to_token_ranges(starts, ends, np.array([6]), np.array([8]))
        assert first[0] == last[0]


class TestCategories:
    def test_unmarked_units_are_none(self):
        assert units.unit_categories(4, [1], [3], [0]).tolist() == [0, 1, 1, 0]

    def test_the_innermost_span_wins(self):
        # An ACTOR (label 0) over 0..6 holding a LOCATION (label 1) over 3..5.
        assert units.unit_categories(6, [0, 3], [6, 5], [0, 1]).tolist() == [1, 1, 1, 2, 2, 1]

    def test_between_equally_long_spans_the_first_label_wins(self):
        assert units.unit_categories(3, [0, 0], [2, 2], [2, 1]).tolist() == [2, 2, 0]

    def test_presence_counts_a_unit_for_every_label_covering_it(self):
        presence = units.label_presence(6, [0, 3], [6, 5], [0, 1], 2)
        assert presence[0].tolist() == [True] * 6
        assert presence[1].tolist() == [False, False, False, True, True, False]

    def test_overlapping_spans_merge_and_adjacent_ones_do_not(self):
        assert units.merge_overlapping([0, 3, 8, 10], [5, 6, 10, 12]) == ([0, 8, 10], [6, 10, 12])


# --- The vectorised engine against the plain definitions ----------------------------------

WORDS = ["Rebels", "shelled", "Aleppo", ",", "al-Assad's", "12", "حلب", "北京", "🙂", " ", "\n"]


@st.composite
def articles(draw):
    n_labels = draw(st.integers(1, 4))
    result = []
    for key in range(draw(st.integers(1, 4))):
        text = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=25)))
        editors = []
        for editor in draw(st.lists(st.integers(1, 9), min_size=2, max_size=4, unique=True)):
            spans = draw(
                st.lists(
                    st.tuples(
                        st.integers(0, len(text) - 1),
                        st.integers(1, 20),
                        st.integers(0, n_labels - 1),
                    ),
                    max_size=8,
                )
            )
            spans = [(s, min(s + w, len(text)), lab) for s, w, lab in spans]
            editors.append(
                agreement_stats.EditorSpans(
                    editor, 1, [s for s, _, _ in spans], [e for _, e, _ in spans],
                    [lab for *_, lab in spans],
                )
            )  # fmt: skip
        result.append(agreement_stats.ArticleSpans(key, text, editors))
    return n_labels, result


def reference(article: agreement_stats.ArticleSpans, n_labels: int, unit: str) -> dict:
    """The statistics by the plain definitions: one category per unit, spans compared
    pairwise, unitizing sums by enumeration of segments."""
    text = article.text
    editors = sorted(article.editors, key=lambda e: e.editor)
    spans = [sorted(set(zip(e.starts, e.ends, e.labels, strict=True))) for e in editors]
    if unit == units.CHAR:
        n_units = len(text)
        mapped = [[(s, e, lab) for s, e, lab in own] for own in spans]
    else:
        t_starts, t_ends = units.tokenize(text)
        n_units = len(t_starts)
        mapped = []
        for own in spans:
            first, last = units.spans_to_token_ranges(
                t_starts, t_ends, np.array([s for s, _, _ in own], dtype=np.int64),
                np.array([e for _, e, _ in own], dtype=np.int64),
            )  # fmt: skip
            mapped.append(
                list(zip(first.tolist(), last.tolist(), [lab for *_, lab in own], strict=True))
            )
    categories = [
        units.unit_categories(n_units, *zip(*own, strict=True)) if own else np.zeros(n_units, int)
        for own in mapped
    ]
    presence = [
        units.label_presence(n_units, *zip(*own, strict=True), n_labels)
        if own
        else np.zeros((n_labels, n_units), bool)
        for own in mapped
    ]

    def merged(own, label):
        ss, ee = units.merge_overlapping([s for s, _, lab in own if lab == label],
                                         [e for _, e, lab in own if lab == label])  # fmt: skip
        return list(zip(ss, ee, strict=True))

    k = n_labels + 1
    result = {name: [] for name in ("confusion", "presence", "spans", "overlaps", "au_o")}
    for i, j in agreement_stats.pair_indices(len(editors)):
        confusion = np.zeros((k, k), dtype=int)
        np.add.at(confusion, (categories[i], categories[j]), 1)
        result["confusion"].append(confusion.ravel().tolist())
        row = []
        for label in range(n_labels):
            a, b = presence[i][label], presence[j][label]
            row += [int(a.sum()), int(b.sum()), int((a & b).sum())]
        result["presence"].append(row)
        row, overlaps = [], np.zeros((n_labels, n_labels), dtype=int)
        for a in spans[i]:
            for b in spans[j]:
                if a[0] < b[1] and b[0] < a[1]:
                    overlaps[a[2], b[2]] += 1
        for label in range(n_labels):
            mine = [s for s in spans[i] if s[2] == label]
            theirs = [s for s in spans[j] if s[2] == label]

            def hit(x, ys):
                return any(x[0] < y[1] and y[0] < x[1] for y in ys)

            row += [
                len(mine), len(theirs), len(set(mine) & set(theirs)),
                sum(hit(x, theirs) for x in mine), sum(hit(y, mine) for y in theirs),
            ]  # fmt: skip
        result["spans"].append(row)
        result["overlaps"].append(overlaps.ravel().tolist())
        result["au_o"].append(
            [
                measures.alpha_u_observed_sum(
                    merged(spans[i], lab), merged(spans[j], lab), len(text)
                )
                for lab in range(n_labels)
            ]
        )
    result["expected"] = [
        round(measures.alpha_u_expected_sum([merged(own, lab) for own in spans], len(text)) * 10**6)
        for lab in range(n_labels)
    ]
    result["units"] = n_units
    return result


@settings(max_examples=120, deadline=None)
@given(data=articles(), chunk=st.sampled_from([1, 60, 1_000_000]))
def test_vectorised_statistics_equal_the_plain_definitions(data, chunk):
    n_labels, batch = data
    computed = agreement_stats.compute(batch, n_labels, chunk_chars=chunk)
    for unit in units.UNITS:
        for article, got in zip(batch, computed[unit], strict=True):
            want = reference(article, n_labels, unit)
            assert got["units"] == want["units"]
            for name in ("confusion", "presence", "spans", "overlaps", "au_o"):
                assert got[name] == want[name], name
            everyone = tuple(range(len(article.editors)))
            assert agreement_stats.expected_au(got, everyone) == pytest.approx(
                want["expected"], abs=1
            )
            without = {key: value for key, value in got.items() if key != "au_e"}
            assert agreement_stats.expected_au(without, everyone) == pytest.approx(
                want["expected"], abs=1
            )


def test_statistics_refuse_a_span_outside_the_article():
    article = agreement_stats.ArticleSpans(
        1,
        "short",
        [
            agreement_stats.EditorSpans(1, 1, [0], [9], [0]),
            agreement_stats.EditorSpans(2, 1, [], [], []),
        ],
    )
    with pytest.raises(ValueError, match="outside"):
        agreement_stats.compute([article], 1)


def test_statistics_need_two_editors():
    article = agreement_stats.ArticleSpans(
        1, "short", [agreement_stats.EditorSpans(1, 1, [], [], [])]
    )
    with pytest.raises(ValueError, match="two editors"):
        agreement_stats.compute([article], 1)


def test_sums_of_articles_are_exact_and_subtract_back():
    batch = [
        agreement_stats.ArticleSpans(
            key,
            "Rebels shelled Aleppo on Monday",
            [
                agreement_stats.EditorSpans(1, 1, [0, 15], [6, 21], [0, 1]),
                agreement_stats.EditorSpans(2, 1, [0], [6 + key], [0]),
            ],
        )
        for key in range(3)
    ]
    stats = agreement_stats.compute(batch, 2, (units.TOKEN,))[units.TOKEN]
    total = None
    for article in stats:
        total = agreement_stats.add(total, agreement_stats.contribution(article))
    assert total["articles"] == 3
    back = agreement_stats.add(total, agreement_stats.contribution(stats[2]), -1)
    again = agreement_stats.add(
        agreement_stats.add(None, agreement_stats.contribution(stats[0])),
        agreement_stats.contribution(stats[1]),
    )
    assert back == again


def test_aligning_to_a_longer_label_list_adds_empty_labels():
    batch = [
        agreement_stats.ArticleSpans(
            1,
            "Rebels shelled Aleppo",
            [
                agreement_stats.EditorSpans(1, 1, [0], [6], [0]),
                agreement_stats.EditorSpans(2, 1, [15], [21], [0]),
            ],
        )
    ]
    one = agreement_stats.compute(batch, 1, (units.CHAR,))[units.CHAR][0]
    aligned = agreement_stats.align(one, [10], [10, 20])
    direct = agreement_stats.compute(batch, 2, (units.CHAR,))[units.CHAR][0]
    for name in ("confusion", "presence", "spans", "overlaps", "au_o", "au_n", "au_x", "au_e"):
        assert aligned[name] == direct[name], name


@settings(max_examples=60, deadline=None)
@given(data=articles(), chunk=st.sampled_from([1, 60, 1_000_000]))
def test_group_totals_equal_the_sum_of_article_contributions(data, chunk):
    n_labels, batch = data
    per_article, totals = agreement_stats.compute_with_totals(batch, n_labels, chunk_chars=chunk)
    for unit in units.UNITS:
        expected: dict[tuple[int, ...], dict] = {}
        for stats in per_article[unit]:
            group = tuple(stats["editors"])
            expected[group] = agreement_stats.add(
                expected.get(group), agreement_stats.contribution(stats)
            )
        assert totals[unit] == expected
