"""The workflow's pure parts: the server-drawn chart, editors against the gold, and marks
over exactly the same words."""

from __future__ import annotations

from annotate.agreement.gold import Counts, compare, scores
from annotate.charts import column_chart, nice_ceiling
from annotate.highlight import Mark, render


def test_nice_ceiling_rounds_up_to_one_two_or_five():
    assert [nice_ceiling(n) for n in (0, 1, 2, 3, 6, 11, 49, 51, 100)] == [
        1,
        1,
        2,
        5,
        10,
        20,
        50,
        100,
        100,
    ]


def test_columns_scale_to_the_round_maximum_and_label_every_seventh_day():
    points = [(f"d{i}", i % 3, f"day {i}") for i in range(14)]
    chart = column_chart(points, width=300, height=100)
    assert len(chart.columns) == 14
    tallest = max(chart.columns, key=lambda c: c.height)
    assert tallest.value == 2 and tallest.y == 8  # the top of the plot: 2 is the maximum
    assert [c.height for c in chart.columns if c.value == 0] == [0] * 5
    assert [c.label for c in chart.columns if c.label] == ["d6", "d13"]  # the last one, back 7
    assert [t.value for t in chart.ticks] == [0, 1, 2]
    assert chart.columns[0].x >= chart.left and chart.columns[-1].x + chart.columns[-1].width <= 300


def test_an_odd_maximum_has_no_half_tick_and_an_empty_chart_says_so():
    assert [t.value for t in column_chart([("a", 5, "")]).ticks] == [0, 5]
    assert column_chart([("a", 0, ""), ("b", 0, "")]).empty


def test_an_editor_is_scored_against_the_gold_per_label():
    counts = compare(
        [(0, 6, "ACTOR"), (15, 21, "LOCATION"), (22, 30, "ACTOR")],
        [(0, 6, "ACTOR"), (15, 21, "ACTOR"), (40, 45, "SOURCE")],
    )
    assert (counts["ACTOR"].matched, counts["ACTOR"].editor, counts["ACTOR"].gold) == (1, 2, 2)
    assert counts["LOCATION"].precision == 0.0 and counts["LOCATION"].recall is None
    assert counts["SOURCE"].precision is None and counts["SOURCE"].recall == 0.0
    assert counts["ACTOR"].f1 == 0.5


def test_scores_add_up_over_articles():
    work = [("ann", 1), ("ann", 2), ("bob", 1)]
    editor = {("ann", 1): [(0, 6, "ACTOR")], ("ann", 2): [(0, 3, "ACTOR")], ("bob", 1): []}
    gold = {1: [(0, 6, "ACTOR")], 2: [(0, 4, "ACTOR")]}
    ann, bob = scores(work, editor, gold)
    assert (ann.editor, ann.articles) == ("ann", 2)
    assert (ann.overall.matched, ann.overall.editor, ann.overall.gold) == (1, 2, 2)
    assert ann.overall.f1 == 0.5
    assert bob.overall.recall == 0.0 and bob.overall.precision is None
    assert Counts().f1 is None


def test_two_labels_on_the_same_words_mark_the_inner_one_as_a_twin():
    html = render("Rebels shelled", [Mark(0, 6, "ACTOR"), Mark(0, 6, "SOURCE")])
    assert html.count("<mark") == 2
    outer, inner = html.split("<mark")[1:]
    assert "twin" not in outer and 'class="span lbl-SOURCE twin"' in inner
    nested = render("Rebels shelled", [Mark(0, 14, "ACTOR"), Mark(0, 6, "SOURCE")])
    assert "twin" not in nested
