"""How facts read at a glance (annotate/facts/display.py): pure, no database."""

from __future__ import annotations

import pytest

from annotate.facts.display import attributes_text, figure_text, removed_relations_note
from annotate.facts.schema import AttributeSpec


@pytest.mark.parametrize(
    ("attributes", "shown"),
    [
        ({"kind": "wounded", "low": 6, "high": None, "qualifier": "at_least"}, "≥6 wounded"),
        ({"kind": "killed", "low": 10, "high": 15, "qualifier": "range"}, "10–15 killed"),
        ({"kind": "killed", "low": 12, "qualifier": "about"}, "~12 killed"),
        ({"kind": "killed", "low": 20, "qualifier": "more_than"}, ">20 killed"),
        ({"kind": "missing", "low": 30, "qualifier": "up_to"}, "≤30 missing"),
        ({"low": 0, "qualifier": "exact"}, "0"),
        ({"kind": "killed", "low": 2500}, "2,500 killed"),
        ({"low": 4, "high": 4, "qualifier": "range"}, "4"),
        ({"low": 4, "qualifier": "something new"}, "4"),
    ],
)
def test_a_figure_reads_as_a_newsroom_writes_it(attributes, shown):
    assert figure_text(attributes) == shown


@pytest.mark.parametrize("attributes", [{}, {"kind": "killed"}, {"low": True}, {"low": "6"}])
def test_no_figure_without_a_whole_number(attributes):
    assert figure_text(attributes) == ""


def test_other_attributes_follow_the_figure_in_schema_order():
    specs = [
        AttributeSpec("victims", "Victims", "choice", ("civilians", "fighters")),
        AttributeSpec("low", "Low", "integer"),
        AttributeSpec("confirmed", "Confirmed", "boolean"),
    ]
    values = {"confirmed": False, "low": 3, "victims": "civilians", "gone": "x"}
    assert attributes_text(values, specs) == "3, civilians, not confirmed, gone: x"


def test_a_long_summary_is_cut():
    text = attributes_text({"note": "x" * 200}, [AttributeSpec("note", "Note", "text")])
    assert len(text) == 60 and text.endswith("…")


@pytest.mark.parametrize(
    ("summary", "note"),
    [
        ({"removed": {"SOURCE": 1}}, ""),
        (
            {"relations": {"added": {}, "removed": {"SAID_BY": 1}}},
            "Its relation (SAID_BY) was removed with it.",
        ),
        (
            {"relations": {"removed": {"SAID_BY": 2, "LOCATED_IN": 1}}},
            "Its 3 relations (LOCATED_IN, SAID_BY) were removed with it.",
        ),
        (None, ""),
    ],
)
def test_a_deleted_span_says_which_relations_went_with_it(summary, note):
    assert removed_relations_note(summary) == note
