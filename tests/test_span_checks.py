"""Spans that look like slips: across a paragraph break, or longer than the project's limit."""

from __future__ import annotations

from annotate.span_checks import concerns, span_concerns

TEXT = "Four fighters were killed.\n\nLocal officials said so.\nAnd more."


def test_a_short_span_inside_a_paragraph_is_fine():
    assert concerns(TEXT, 0, 13, 150) == ()


def test_a_span_over_the_limit_says_how_long_it_is():
    assert concerns(TEXT, 0, 26, 20) == (
        "is 26 characters long (the project asks to confirm spans over 20)",
    )


def test_no_limit_means_length_alone_never_asks():
    assert concerns("x" * 10_000, 0, 10_000, None) == ()
    assert concerns("x" * 10_000, 0, 10_000, 0) == ()


def test_a_span_across_a_line_break_crosses_a_paragraph_break():
    start = TEXT.index("officials")
    assert concerns(TEXT, start, len(TEXT), None) == ("spans 2 paragraphs",)
    # Only the break itself and one paragraph's words: still a break crossed.
    assert concerns(TEXT, 5, 28, None) == ("crosses a paragraph break",)


def test_both_reasons_are_given_for_a_whole_article():
    assert concerns(TEXT, 0, len(TEXT), 40) == (
        f"is {len(TEXT)} characters long (the project asks to confirm spans over 40)",
        "spans 3 paragraphs",
    )


def test_span_concerns_lists_only_the_suspect_spans_in_text_order():
    found = span_concerns(TEXT, [(28, len(TEXT), "SOURCE"), (0, 13, "CASUALTY")], 150)
    assert [(c.start, c.end, c.label, c.sentence()) for c in found] == [
        (28, len(TEXT), "SOURCE", "spans 2 paragraphs")
    ]
    assert found[0].length == len(TEXT) - 28
