"""Facts, pure: attribute values and relations checked against a project's schema, warnings
for stored states the schema no longer fits, and versions that change only facts."""

from __future__ import annotations

import pytest

from annotate.facts.schema import (
    MAX_TEXT_CHARS,
    AttributeSpec,
    FactError,
    FactSchema,
    RelationSpec,
    attribute_spec_problem,
    check_attributes,
    missing_required,
    relation_fits,
    relation_problems,
    schema_warnings,
)
from annotate.versioning import (
    MergeConflict,
    RelationKey,
    SpanKey,
    State,
    compare_attributes,
    compare_relations,
    describe,
    diff_states,
    has_content_change,
    merge_states,
)

KIND = AttributeSpec("kind", "Kind", "choice", ("killed", "wounded"), required=True)
LOW = AttributeSpec("low", "Low", "integer", min=0)
NOTE = AttributeSpec("note", "Note", "text")
CONFIRMED = AttributeSpec("confirmed", "Confirmed", "boolean")
CASUALTY_SPECS = (KIND, LOW, NOTE, CONFIRMED)
SAID_BY = RelationSpec("SAID_BY", "said by", frozenset({"CASUALTY"}), frozenset({"SOURCE"}))
NEAR = RelationSpec("NEAR", "near", None, None)
TYPES = {"SAID_BY": SAID_BY, "NEAR": NEAR}

FIGURE = SpanKey(10, 20, "CASUALTY")
MINISTRY = SpanKey(30, 42, "SOURCE")
CITY = SpanKey(50, 56, "LOCATION")


# Attribute values


def test_valid_values_are_returned_in_schema_order_without_nulls():
    values = {"low": 6, "kind": "wounded", "note": None, "confirmed": False}
    result = check_attributes("CASUALTY", values, CASUALTY_SPECS)
    assert result == {"kind": "wounded", "low": 6, "confirmed": False}
    assert list(result) == ["kind", "low", "confirmed"]


def test_empty_text_counts_as_not_given():
    assert check_attributes("CASUALTY", {"note": ""}, CASUALTY_SPECS) == {}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kinds": "killed"}, "attribute 'kinds' is not an attribute of CASUALTY"),
        ({"kind": "missing"}, "kind must be one of killed, wounded, not 'missing'"),
        ({"kind": 3}, "kind must be one of killed, wounded, not 3"),
        ({"low": True}, "low must be an integer, not true"),
        ({"low": "6"}, "low must be an integer, not '6'"),
        ({"low": 6.0}, "low must be an integer, not 6.0"),
        ({"low": -1}, "low must be at least 0, not -1"),
        ({"low": 2**40}, "low must be at most"),
        ({"note": ["a"]}, "note must be text, not a list"),
        ({"note": "x" * (MAX_TEXT_CHARS + 1)}, "note is too long"),
        ({"confirmed": "yes"}, "confirmed must be true or false, not 'yes'"),
        ({"confirmed": 1}, "confirmed must be true or false, not 1"),
    ],
)
def test_a_value_that_does_not_fit_is_refused_naming_the_attribute(values, message):
    with pytest.raises(FactError, match=message.replace("(", r"\(")):
        check_attributes("CASUALTY", values, CASUALTY_SPECS)


def test_attributes_must_be_an_object():
    with pytest.raises(FactError, match="must be an object"):
        check_attributes("CASUALTY", ["kind"], CASUALTY_SPECS)


def test_a_label_without_attributes_accepts_none():
    assert check_attributes("SOURCE", {}, ()) == {}
    with pytest.raises(FactError, match=r"its attributes: none"):
        check_attributes("SOURCE", {"kind": "killed"}, ())


def test_missing_required_names_the_required_keys_not_given():
    assert missing_required({}, CASUALTY_SPECS) == ["kind"]
    assert missing_required({"kind": "killed"}, CASUALTY_SPECS) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (AttributeSpec("Kind", "Kind", "text"), "use a-z"),
        (AttributeSpec("kind", "Kind", "colour"), "type must be one of"),
        (AttributeSpec("kind", "Kind", "choice"), "needs a list of choices"),
        (AttributeSpec("kind", "Kind", "choice", ("a", "a")), "appears twice"),
        (AttributeSpec("kind", "Kind", "choice", ("a", " ")), "non-empty string"),
        (AttributeSpec("kind", "Kind", "text", ("a",)), "only a choice attribute"),
        (AttributeSpec("kind", "Kind", "text", min=0), "only an integer attribute"),
        (AttributeSpec("low", "Low", "integer", min=True), "min must be an integer"),
    ],
)
def test_a_bad_attribute_definition_is_described(spec, message):
    assert message in attribute_spec_problem(spec)


def test_good_attribute_definitions_have_no_problem():
    assert all(attribute_spec_problem(spec) is None for spec in CASUALTY_SPECS)


# Relations


SPANS = [FIGURE, MINISTRY, CITY]


def test_valid_relations_have_no_problems():
    assert relation_problems([(0, 1, "SAID_BY"), (0, 2, "NEAR")], SPANS, TYPES) == []


@pytest.mark.parametrize(
    ("relation", "message"),
    [
        ((0, 3, "SAID_BY"), "to must be the index of a span (0 to 2), not 3"),
        ((-1, 1, "SAID_BY"), "from must be the index of a span"),
        ((True, 1, "SAID_BY"), "from must be the index of a span (0 to 2), not true"),
        (("0", 1, "SAID_BY"), "from must be the index of a span"),
        ((0, 1, "QUOTED"), "type 'QUOTED' is not a relation type of this project"),
        ((1, 0, "SAID_BY"), "SAID_BY cannot start from a SOURCE span (only CASUALTY)"),
        ((0, 2, "SAID_BY"), "SAID_BY cannot end at a LOCATION span (only SOURCE)"),
        ((2, 2, "NEAR"), "from a span to itself"),
    ],
)
def test_a_bad_relation_is_named_by_index(relation, message):
    problems = relation_problems([(0, 1, "SAID_BY"), relation], SPANS, TYPES)
    assert problems == [(1, message)] or (problems[0][0] == 1 and message in problems[0][1])


def test_a_relation_given_twice_is_refused():
    problems = relation_problems([(0, 1, "SAID_BY"), (0, 1, "SAID_BY")], SPANS, TYPES)
    assert problems == [(1, "the same relation (ends and type) appears twice")]


def test_the_same_ends_with_another_type_are_two_relations():
    assert relation_problems([(0, 1, "SAID_BY"), (0, 1, "NEAR")], SPANS, TYPES) == []


def test_relation_fits_follows_the_current_types():
    relation = RelationKey(FIGURE, MINISTRY, "SAID_BY")
    assert relation_fits(relation, TYPES)
    assert not relation_fits(RelationKey(MINISTRY, FIGURE, "SAID_BY"), TYPES)
    assert not relation_fits(relation, {})


# Warnings for stored states


def test_a_state_that_fits_has_no_warnings():
    state = State(
        frozenset(SPANS),
        {FIGURE: {"kind": "killed", "low": 4}},
        frozenset({RelationKey(FIGURE, MINISTRY, "SAID_BY")}),
    )
    schema = FactSchema({"CASUALTY": CASUALTY_SPECS}, TYPES)
    assert schema_warnings(state, schema) == []


def test_warnings_name_what_no_longer_fits():
    state = State(
        frozenset(SPANS),
        {FIGURE: {"kind": "missing", "low": 4, "gone": "x"}},
        frozenset({RelationKey(FIGURE, MINISTRY, "SAID_BY"), RelationKey(FIGURE, CITY, "NEAR")}),
    )
    narrower = RelationSpec("SAID_BY", "said by", frozenset({"LOCATION"}), None)
    schema = FactSchema(
        {"CASUALTY": (AttributeSpec("kind", "Kind", "choice", ("killed",)), LOW)},
        {"SAID_BY": narrower},
    )
    details = [w["detail"] for w in schema_warnings(state, schema)]
    assert details == [
        "CASUALTY 10:20: attribute gone is no longer in the schema of CASUALTY",
        "CASUALTY 10:20: kind must be one of killed, not 'missing' (the schema changed)",
        "SAID_BY from CASUALTY 10:20 to SOURCE 30:42: SAID_BY cannot start from a CASUALTY "
        "span (only LOCATION) (the schema changed)",
        "NEAR from CASUALTY 10:20 to LOCATION 50:56: relation type NEAR no longer exists "
        "(the schema changed)",
    ]


# Versions of states


def test_a_state_keeps_only_attributes_of_its_spans_and_drops_nulls():
    state = State(frozenset({FIGURE}), {FIGURE: {"low": None}, MINISTRY: {"x": 1}})
    assert state.attributes == {}
    assert State(frozenset({FIGURE}), {FIGURE: {}}) == State(frozenset({FIGURE}))


def test_a_change_of_one_attribute_is_a_change_and_reads_old_to_new():
    old = State(frozenset({FIGURE}), {FIGURE: {"low": 6}})
    new = State(frozenset({FIGURE}), {FIGURE: {"low": 7}})
    change = diff_states(old, new)
    assert not change.is_empty()
    summary = change.summary()
    assert summary["attributes"] == {"CASUALTY.low": {"changed": 1, "from": 6, "to": 7}}
    assert describe(summary) == "CASUALTY.low 6\u21927"
    assert has_content_change(summary)


def test_attribute_changes_over_several_spans_are_counted():
    other = SpanKey(60, 70, "CASUALTY")
    old = State(frozenset({FIGURE, other}))
    new = State(frozenset({FIGURE, other}), {FIGURE: {"low": 1}, other: {"low": 2}})
    assert describe(diff_states(old, new).summary()) == "CASUALTY.low \u00d72"


def test_relations_added_and_removed_are_counted_per_type():
    said = RelationKey(FIGURE, MINISTRY, "SAID_BY")
    near = RelationKey(FIGURE, CITY, "NEAR")
    old = State(frozenset(SPANS), relations=frozenset({near}))
    new = State(frozenset(SPANS), relations=frozenset({said}))
    summary = diff_states(old, new).summary()
    assert summary["relations"] == {"added": {"SAID_BY": 1}, "removed": {"NEAR": 1}}
    assert describe(summary) == "+SAID_BY \u00d71, \u2212NEAR \u00d71"


def test_a_status_only_summary_has_no_content_change():
    assert not has_content_change({"added": {}, "removed": {}, "status": "submitted"})


def test_compare_lists_changed_attributes_and_relations():
    said = RelationKey(FIGURE, MINISTRY, "SAID_BY")
    old = State(frozenset(SPANS), {FIGURE: {"low": 6, "kind": "killed"}})
    new = State(frozenset(SPANS), {FIGURE: {"low": 7, "kind": "killed"}}, frozenset({said}))
    assert [(r.key, r.was, r.now) for r in compare_attributes(old, new)] == [("low", 6, 7)]
    assert [(r.kind, r.relation) for r in compare_relations(old, new)] == [("added", said)]


def test_disjoint_fact_edits_merge_both_ways():
    said = RelationKey(FIGURE, MINISTRY, "SAID_BY")
    other = SpanKey(100, 110, "CASUALTY")
    base = State(frozenset({FIGURE, MINISTRY, other}))
    ours = State(base.spans, relations=frozenset({said}))
    theirs = State(base.spans, {other: {"low": 3}})
    merged = merge_states(base, ours, theirs)
    assert merged == State(base.spans, {other: {"low": 3}}, frozenset({said}))
    assert merge_states(base, theirs, ours) == merged


def test_a_relation_to_a_span_the_other_side_changed_conflicts():
    said = RelationKey(FIGURE, MINISTRY, "SAID_BY")
    base = State(frozenset({FIGURE, MINISTRY}))
    ours = State(base.spans, relations=frozenset({said}))
    theirs = State(frozenset({FIGURE}))  # removed the source
    with pytest.raises(MergeConflict):
        merge_states(base, ours, theirs)
    with pytest.raises(MergeConflict):
        merge_states(base, ours, State(base.spans, {MINISTRY: {"x": 1}}))


def test_two_attribute_changes_on_one_span_conflict():
    base = State(frozenset({FIGURE}), {FIGURE: {"low": 1}})
    with pytest.raises(MergeConflict):
        merge_states(
            base,
            State(base.spans, {FIGURE: {"low": 2}}),
            State(base.spans, {FIGURE: {"low": 1, "kind": "killed"}}),
        )
