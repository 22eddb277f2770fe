"""Agreement on facts pooled from stored statistics, against independent oracles on random
data: the `krippendorff` package (GPL-3.0, test-only) for nominal and interval alpha, and
plain enumeration of every pair of relations for relation F1."""

from __future__ import annotations

import math
from itertools import combinations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.agreement import facts, measures

LABELS = [1, 2, 3]
TYPES = {10: "SAID_BY", 11: "LOCATED_IN"}
KINDS = ["killed", "wounded", "missing"]
# A small pool of spans, so that editors often mark the same ones, and overlaps happen.
POOL = [(0, 5, 1), (0, 5, 2), (2, 8, 1), (10, 15, 2), (12, 18, 2), (20, 30, 3), (25, 28, 3)]
ATTRIBUTES = {
    "1:kind": facts.AttributeColumn("A.kind", "choice", 1),
    "1:low": facts.AttributeColumn("A.low", "integer", 1),
    "2:low": facts.AttributeColumn("B.low", "integer", 2),
    "3:named": facts.AttributeColumn("C.named", "boolean", 3),
}


@st.composite
def editor_facts(draw, pk: int) -> facts.EditorFacts:
    spans = draw(st.lists(st.sampled_from(POOL), unique=True, max_size=len(POOL)))
    with_values = []
    for start, end, label in spans:
        values: dict[str, object] = {}
        if label == 1:
            values["kind"] = draw(st.sampled_from([*KINDS, None]))
            values["low"] = draw(st.one_of(st.none(), st.integers(0, 6)))
        elif label == 2:
            values["low"] = draw(st.one_of(st.none(), st.integers(-3, 40)))
        else:
            values["named"] = draw(st.sampled_from([True, False, None]))
        given = {k: v for k, v in values.items() if v is not None}
        with_values.append((start, end, label, given))
    relations = set()
    if len(spans) >= 2:
        for _ in range(draw(st.integers(0, 5))):
            a, b = draw(st.permutations(spans))[:2]
            relations.add((draw(st.sampled_from(sorted(TYPES))), *a, *b))
    return facts.EditorFacts(pk, 1, sorted(relations), with_values)


@st.composite
def projects(draw) -> list[list[facts.EditorFacts]]:
    articles = []
    for _ in range(draw(st.integers(1, 5))):
        editors = draw(st.permutations([1, 2, 3, 4]))[: draw(st.integers(2, 4))]
        articles.append([draw(editor_facts(pk)) for pk in editors])
    return articles


def pooled(articles, editors=None, labels=None) -> dict:
    """The report as the app builds it: article statistics summed into group totals."""
    totals: dict[tuple, facts.FactStats] = {}
    for article in articles:
        stats = facts.article_stats(article)
        group = tuple(stats["editors"])
        totals[group] = facts.add(totals.get(group), facts.contribution(stats))
    records = [facts.FactRecord(group, total) for group, total in totals.items()]
    return facts.build(
        records, relation_types=TYPES, attributes=ATTRIBUTES, labels=labels, editors=editors
    )


def pairs_of(articles, editors=None):
    for article in articles:
        ordered = sorted(article, key=lambda e: e.editor)
        for a, b in combinations(ordered, 2):
            if editors is None or (a.editor in editors and b.editor in editors):
                yield a, b


def oracle_alpha(articles, key: str, level: str) -> float | None:
    """Krippendorff's alpha by the `krippendorff` package: one unit per identically marked
    span and pair of editors, with a missing value where only one gave one."""
    label, name = key.split(":")
    columns = []
    for a, b in pairs_of(articles):
        values_b = {(s, e, lab): v for s, e, lab, v in b.spans}
        for s, e, lab, values_a in a.spans:
            if lab != int(label) or (s, e, lab) not in values_b:
                continue
            x, y = values_a.get(name), values_b[(s, e, lab)].get(name)
            if x is not None or y is not None:
                columns.append((x, y))
    domain = sorted({v for column in columns for v in column if v is not None}, key=repr)
    if len(domain) < 2 or not any(None not in column for column in columns):
        return None
    code = {v: float(v) if level == "interval" else float(i) for i, v in enumerate(domain)}
    data = np.array([[np.nan if v is None else code[v] for v in column] for column in columns]).T
    with np.errstate(invalid="ignore", divide="ignore"):  # no variation among pairable values
        return krippendorff.alpha(reliability_data=data, level_of_measurement=level)


def oracle_relations(articles, editors=None, labels=None) -> dict[str, list[int]]:
    """Relation counts per type by plain enumeration of every pair of relations."""

    def keep(r):
        return labels is None or (r[3] in labels and r[6] in labels)

    def overlaps(r, q):
        return (
            r[0] == q[0]
            and r[3] == q[3]
            and r[6] == q[6]
            and r[1] < q[2]
            and q[1] < r[2]
            and r[4] < q[5]
            and q[4] < r[5]
        )

    counts = {key: [0, 0, 0, 0, 0] for key in TYPES.values()}
    for a, b in pairs_of(articles, editors):
        ra = [r for r in a.relations if keep(r)]
        rb = [r for r in b.relations if keep(r)]
        for mine, theirs, own, matched in ((ra, rb, 0, 3), (rb, ra, 1, 4)):
            for r in mine:
                row = counts[TYPES[r[0]]]
                row[own] += 1
                row[matched] += any(overlaps(r, q) for q in theirs)
                if own == 0:
                    row[2] += r in theirs
    return counts


def close(value: float | None, expected: float | None) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return value is None
    return value is not None and value == pytest.approx(expected, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(projects())
def test_attribute_alpha_and_share_equal_match_the_oracle(articles):
    report = pooled(articles)
    for key, column in ATTRIBUTES.items():
        values = report["attributes"][column.name]
        expected = oracle_alpha(articles, key, column.level)
        assert close(values["krippendorff_alpha"], expected), (key, values, expected)


@settings(max_examples=150, deadline=None)
@given(projects())
def test_relation_f1_matches_plain_enumeration(articles):
    report = pooled(articles)
    expected = oracle_relations(articles)
    for key, (n_a, n_b, exact, over_a, over_b) in expected.items():
        values = report["relations"]["types"][key]
        assert values["relations"] == n_a + n_b
        assert close(values["f1_exact"], measures.span_f1(exact, exact, n_a, n_b))
        assert close(values["f1_overlap"], measures.span_f1(over_a, over_b, n_a, n_b))


@settings(max_examples=100, deadline=None)
@given(projects(), st.sets(st.sampled_from([1, 2, 3, 4]), min_size=2), st.sampled_from(LABELS))
def test_filters_pick_pairs_and_labels_as_if_the_rest_were_never_there(articles, kept, left_out):
    labels = set(LABELS) - {left_out}
    report = pooled(articles, editors=kept, labels=labels)
    expected = oracle_relations(articles, editors=kept, labels=labels)
    for key, (n_a, n_b, exact, over_a, over_b) in expected.items():
        values = report["relations"]["types"][key]
        assert close(values["f1_exact"], measures.span_f1(exact, exact, n_a, n_b))
        assert close(values["f1_overlap"], measures.span_f1(over_a, over_b, n_a, n_b))
    # Attributes: the same as a project where only the kept editors ever worked.
    only_kept = [[e for e in article if e.editor in kept] for article in articles]
    alone = pooled([a for a in only_kept if len(a) >= 2], labels=labels)
    assert report["attributes"] == alone["attributes"]
    assert set(report["attributes"]) == {c.name for c in ATTRIBUTES.values() if c.label in labels}


@settings(max_examples=100, deadline=None)
@given(projects())
def test_the_share_equal_matches_counting_pairs_of_values(articles):
    report = pooled(articles)
    for key, column in ATTRIBUTES.items():
        label, name = key.split(":")
        equal = pairs = one = 0
        for a, b in pairs_of(articles):
            values_b = {(s, e, lab): v for s, e, lab, v in b.spans}
            for s, e, lab, values_a in a.spans:
                if lab == int(label) and (s, e, lab) in values_b:
                    x, y = values_a.get(name), values_b[(s, e, lab)].get(name)
                    if x is not None and y is not None:
                        pairs += 1
                        equal += x == y and type(x) is type(y)
                    elif x is not None or y is not None:
                        one += 1
        values = report["attributes"][column.name]
        assert (values["pairs"], values["one_given"]) == (pairs, one)
        assert close(values["agreement"], equal / pairs if pairs else None)
