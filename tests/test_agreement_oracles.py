"""The pooled report against well-kept libraries on random data (test-only oracles:
`krippendorff` (GPL-3.0), statsmodels and scikit-learn never ship with the app)."""

from __future__ import annotations

import warnings
from itertools import combinations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

from annotate.agreement import report, units
from annotate.agreement import stats as agreement_stats

TEXTS = [
    "Rebels shelled Aleppo on Monday, killing 12 people.",
    "Officials in Damascus said the army had retaken the town.",
    "قالت مصادر إن ١٢ شخصاً قتلوا في حلب",
    "Police said two people died; the mayor of Kyiv disagreed.",
]
EDITORS = [1, 2, 3, 4]


@st.composite
def projects(draw, same_editor_count: bool = False):
    n_labels = draw(st.integers(1, 3))
    count = draw(st.integers(2, 4)) if same_editor_count else None
    articles = []
    for key in range(draw(st.integers(1, 6))):
        text = draw(st.sampled_from(TEXTS))
        size = count or draw(st.integers(2, 4))
        chosen = draw(st.permutations(EDITORS))[:size]
        editors = []
        for editor in chosen:
            spans = draw(
                st.lists(
                    st.tuples(
                        st.integers(0, len(text) - 1),
                        st.integers(1, 15),
                        st.integers(0, n_labels - 1),
                    ),
                    max_size=6,
                )
            )
            editors.append(
                agreement_stats.EditorSpans(
                    editor,
                    1,
                    [s for s, _, _ in spans],
                    [min(s + w, len(text)) for s, w, _ in spans],
                    [lab for *_, lab in spans],
                )
            )
        articles.append(agreement_stats.ArticleSpans(key, text, editors))
    return n_labels, articles


def unit_values(article, unit: str, n_labels: int):
    """Per editor: the category of every unit, and per label the in/out value."""
    text = article.text
    if unit == units.CHAR:
        n_units = len(text)
    else:
        token_starts, token_ends = units.tokenize(text)
        n_units = len(token_starts)
    categories, presence = {}, {}
    for editor in article.editors:
        starts = np.array(editor.starts, dtype=np.int64)
        ends = np.array(editor.ends, dtype=np.int64)
        if unit == units.TOKEN and starts.size:
            starts, ends = units.spans_to_token_ranges(token_starts, token_ends, starts, ends)
        categories[editor.editor] = units.unit_categories(n_units, starts, ends, editor.labels)
        presence[editor.editor] = units.label_presence(
            n_units, starts, ends, editor.labels, n_labels
        )
    return n_units, categories, presence


def pooled(articles, n_labels, unit, *, grouped: bool) -> dict:
    stats = agreement_stats.compute(articles, n_labels, (unit,))[unit]
    if grouped:
        totals: dict[tuple, dict] = {}
        for item in stats:
            key = tuple(item["editors"])
            totals[key] = agreement_stats.add(totals.get(key), agreement_stats.contribution(item))
        records = [report.Record(list(key), total) for key, total in totals.items()]
    else:
        records = [report.Record(item["editors"], item) for item in stats]
    return report.build(
        records,
        unit=unit,
        labels=[f"L{i}" for i in range(n_labels)],
        names={e: f"e{e}" for e in EDITORS},
    )


def reliability_data(articles, unit, n_labels):
    """Editors × units, NaN where an editor did not submit the article."""
    columns, label_columns = [], [[] for _ in range(n_labels)]
    for article in articles:
        n_units, categories, presence = unit_values(article, unit, n_labels)
        block = np.full((len(EDITORS), n_units), np.nan)
        label_blocks = [np.full((len(EDITORS), n_units), np.nan) for _ in range(n_labels)]
        for row, editor in enumerate(EDITORS):
            if editor in categories:
                block[row] = categories[editor]
                for label in range(n_labels):
                    label_blocks[label][row] = presence[editor][label]
        columns.append(block)
        for label in range(n_labels):
            label_columns[label].append(label_blocks[label])
    return np.hstack(columns), [np.hstack(blocks) for blocks in label_columns]


def oracle_alpha(data: np.ndarray) -> float | None:
    """The package's alpha, or None where alpha is undefined (the package raises there)."""
    pairable = data[:, (~np.isnan(data)).sum(axis=0) >= 2]
    if np.unique(pairable[~np.isnan(pairable)]).size < 2:
        return None
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


@settings(max_examples=60, deadline=None)
@given(data=projects(), unit=st.sampled_from(units.UNITS), grouped=st.booleans())
def test_krippendorff_alpha_equals_the_krippendorff_package(data, unit, grouped):
    n_labels, articles = data
    result = pooled(articles, n_labels, unit, grouped=grouped)
    overall, per_label = reliability_data(articles, unit, n_labels)
    assert result["overall"]["krippendorff_alpha"] == pytest.approx(oracle_alpha(overall), abs=1e-6)
    for label in range(n_labels):
        assert result["labels"][f"L{label}"]["krippendorff_alpha"] == pytest.approx(
            oracle_alpha(per_label[label]), abs=1e-6
        )


@settings(max_examples=60, deadline=None)
@given(data=projects(same_editor_count=True), unit=st.sampled_from(units.UNITS))
def test_fleiss_kappa_equals_statsmodels(data, unit):
    n_labels, articles = data
    result = pooled(articles, n_labels, unit, grouped=True)
    tables = []
    for article in articles:
        n_units, categories, _ = unit_values(article, unit, n_labels)
        table = np.zeros((n_units, n_labels + 1))
        for values in categories.values():
            table[np.arange(n_units), values] += 1
        tables.append(table)
    table = np.vstack(tables)
    used = table.sum(axis=0) > 0
    if table.shape[0] == 0 or used.sum() < 2:
        assert result["overall"]["fleiss_kappa"] is None
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = fleiss_kappa(table[:, used])
    assert result["overall"]["fleiss_kappa"] == pytest.approx(expected, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(data=projects(), unit=st.sampled_from(units.UNITS))
def test_cohen_kappa_of_each_pair_equals_scikit_learn(data, unit):
    n_labels, articles = data
    result = pooled(articles, n_labels, unit, grouped=True)
    values: dict[tuple[int, int], tuple[list, list]] = {}
    for article in articles:
        _, categories, _ = unit_values(article, unit, n_labels)
        for a, b in combinations(sorted(categories), 2):
            left, right = values.setdefault((a, b), ([], []))
            left.extend(categories[a].tolist())
            right.extend(categories[b].tolist())
    got = {(p["a"], p["b"]): p["cohen_kappa"] for p in result["pairs"]}
    assert set(got) == {(f"e{a}", f"e{b}") for a, b in values}
    expected_all = []
    for (a, b), (left, right) in values.items():
        if len(set(left) | set(right)) < 2:
            expected = None
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = cohen_kappa_score(left, right)
            expected = None if np.isnan(expected) else float(expected)
        expected_all.append(expected)
        assert got[(f"e{a}", f"e{b}")] == pytest.approx(expected, abs=1e-6)
    defined = [k for k in expected_all if k is not None]
    mean = sum(defined) / len(defined) if defined else None
    assert result["overall"]["cohen_kappa"] == pytest.approx(mean, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(data=projects(), unit=st.sampled_from(units.UNITS))
def test_totals_and_single_articles_give_the_same_report(data, unit):
    n_labels, articles = data
    by_article = pooled(articles, n_labels, unit, grouped=False)
    by_group = pooled(articles, n_labels, unit, grouped=True)
    assert by_article == by_group


@settings(max_examples=40, deadline=None)
@given(data=projects(), unit=st.sampled_from(units.UNITS), kept=st.sets(st.sampled_from(EDITORS)))
def test_article_scores_at_once_equal_one_by_one(data, unit, kept):
    n_labels, articles = data
    stats = agreement_stats.compute(articles, n_labels, (unit,))[unit]
    collapse = report.collapse_matrix(n_labels, list(range(0, n_labels, 2)))
    kept = kept or None
    one_by_one = [
        report.article_alpha(report.Record(item["editors"], item), collapse, kept) for item in stats
    ]
    at_once = report.article_alphas(
        [item["confusion"] for item in stats], [item["editors"] for item in stats], collapse, kept
    )
    assert at_once == pytest.approx(one_by_one, abs=1e-9)
