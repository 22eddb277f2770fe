"""Reading predictions (JSON Lines) and checking each line against its article: pure, no
database. Every refusal names the line and says what is wrong."""

from __future__ import annotations

import json

import pytest

from annotate.assistance.predictions import (
    ArticleText,
    PredictedSpanInput,
    line_problem,
    read_predictions,
)
from annotate.facts.schema import AttributeSpec, FactSchema, RelationSpec

TEXT = "Rebels shelled Aleppo on Monday, a spokesman said."
ARTICLE = ArticleText(len(TEXT), TEXT)
LABELS = {"ACTOR": 1, "LOCATION": 2, "SOURCE": 3, "CASUALTY": 4}
SCHEMA = FactSchema(
    attributes={"ACTOR": [AttributeSpec("kind", "Kind", "choice", ("armed", "state"))]},
    relations={"SAID_BY": RelationSpec("SAID_BY", "said by", frozenset({"ACTOR"}), None)},
)
REBELS = {"start": 0, "end": 6, "label": "ACTOR"}
ALEPPO = {"start": 15, "end": 21, "label": "LOCATION"}


def jsonl(*items) -> bytes:
    return "\n".join(item if isinstance(item, str) else json.dumps(item) for item in items).encode()


def line(**fields) -> dict:
    return {"id": "a1", "model": "ner@1", "spans": [REBELS], **fields}


def refusal(*items) -> tuple[int | None, str]:
    result = read_predictions(jsonl(*items))
    assert not result.lines and len(result.errors) == 1, result
    return result.errors[0].line, result.errors[0].detail


def checked(obj: dict, article: ArticleText = ARTICLE) -> str | None:
    result = read_predictions(jsonl(obj))
    assert not result.errors, result.errors
    return line_problem(result.lines[0], article, LABELS, SCHEMA)


def test_a_line_reads_as_its_article_model_spans_and_relations():
    result = read_predictions(
        jsonl(
            line(
                spans=[{**REBELS, "score": 0.9, "text": "Rebels"}, {**ALEPPO, "score": 1}],
                relations=[{"from": 0, "to": 1, "type": "SAID_BY", "score": 0.5}],
            )
        )
    )
    assert not result.errors
    [read] = result.lines
    assert (read.line, read.external_id, read.model) == (1, "a1", "ner@1")
    assert read.spans == [
        PredictedSpanInput(0, 6, "ACTOR", 0.9, "Rebels"),
        PredictedSpanInput(15, 21, "LOCATION", 1.0),
    ]
    assert read.needs_text
    assert line_problem(read, ARTICLE, LABELS, SCHEMA) is None
    assert read.attributes == [{}, {}]


def test_blank_lines_are_skipped_and_lines_keep_their_numbers():
    result = read_predictions(jsonl(line(), "", line(id="a2"), "  "))
    assert [item.line for item in result.lines] == [1, 3]


def test_an_empty_span_list_is_a_prediction_of_nothing():
    result = read_predictions(jsonl(line(spans=[])))
    assert result.lines[0].spans == [] and not result.errors


def test_an_empty_body_is_refused():
    assert refusal("") == (None, "no predictions found: the body is empty")


def test_each_bad_line_is_reported_and_good_ones_are_not():
    result = read_predictions(jsonl(line(), "{not json", line(id="a2"), "[1]"))
    assert [(e.line, e.detail.split(":")[0]) for e in result.errors] == [
        (2, "not valid JSON"),
        (4, "each line must be a JSON object, not a list"),
    ]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("{oops}", "not valid JSON"),
        ('{"id": "a1", "model": "m", "spans": [], "x": NaN}', "not valid JSON: NaN is not allowed"),
        ('"a string"', "each line must be a JSON object, not the string 'a string'"),
        ({"model": "m", "spans": []}, "id must be the external id of an article"),
        ({"id": "", "model": "m", "spans": []}, "id must be the external id of an article"),
        ({"id": 17, "model": "m", "spans": []}, "not the number 17"),
        ({"id": "a1", "spans": []}, "model must name the model version"),
        ({"id": "a1", "model": " ", "spans": []}, "model must name the model version"),
        ({"id": "a1", "model": "m" * 201, "spans": []}, "at most 200 characters"),
        ({"id": "a1", "model": "m"}, "spans must be a list of spans (it may be empty), not null"),
        (
            {"id": "a1", "model": "m", "spans": [], "labels": []},
            "'labels' is not a field of a line",
        ),
        ({"id": "a1", "model": "m", "spans": [], "relations": {}}, "relations must be a list"),
        ({"id": "a\u0000", "model": "m", "spans": []}, "id contains a NUL character"),
        ({"id": "a1", "model": "m\ud800", "spans": []}, "model must be printable text"),
    ],
)
def test_a_line_of_the_wrong_shape_is_refused(item, message):
    number, detail = refusal(item)
    assert number == 1
    assert message in detail, detail


@pytest.mark.parametrize(
    ("span", "message"),
    [
        ([0, 6], "span 1: must be an object with start, end and label, not a list"),
        ({"start": 0, "label": "ACTOR"}, "span 1: end missing"),
        ({"start": "0", "end": 6, "label": "ACTOR"}, "start must be an integer"),
        ({"start": 0, "end": 6.0, "label": "ACTOR"}, "end must be an integer"),
        ({"start": True, "end": 6, "label": "ACTOR"}, "start must be an integer"),
        ({"start": -1, "end": 6, "label": "ACTOR"}, "start -1 is negative"),
        ({"start": 6, "end": 6, "label": "ACTOR"}, "end 6 must be greater than start 6"),
        ({"start": 6, "end": 2, "label": "ACTOR"}, "end 2 must be greater than start 6"),
        ({"start": 0, "end": 6, "label": 3}, "label must be a label key"),
        ({**REBELS, "score": 1.5}, "score must be a number from 0 to 1, not 1.5"),
        ({**REBELS, "score": -0.1}, "score must be a number from 0 to 1, not -0.1"),
        ({**REBELS, "score": "0.9"}, "score must be a number from 0 to 1, not the string"),
        ({**REBELS, "score": True}, "score must be a number from 0 to 1, not a boolean"),
        ({**REBELS, "text": 7}, "text must be the text the span covers"),
        ({**REBELS, "attributes": [1]}, "attributes must be an object"),
        ({**REBELS, "attributes": {"k": "a\u0000"}}, "attributes has a string that contains a NUL"),
        ({**REBELS, "confidence": 1}, "'confidence' is not a field of a span"),
    ],
)
def test_a_span_of_the_wrong_shape_is_refused(span, message):
    number, detail = refusal(line(spans=[ALEPPO, span]))
    assert number == 1
    assert message in detail, detail


def test_a_span_given_twice_is_refused():
    _, detail = refusal(line(spans=[REBELS, ALEPPO, {**REBELS, "score": 0.2}]))
    assert detail == "span 2: the same span (ACTOR 0:6) is given twice"


def test_the_same_article_and_model_twice_is_refused_naming_the_first_line():
    result = read_predictions(jsonl(line(), line(model="ner@2"), line()))
    assert [e.as_dict() for e in result.errors] == [
        {
            "line": 3,
            "detail": "article 'a1' has predictions of 'ner@1' on line 1 already; give each "
            "article once per model",
        }
    ]


@pytest.mark.parametrize(
    ("relation", "message"),
    [
        ("SAID_BY", "relation 0: must be an object with from, to and type"),
        ({"from": 0, "to": 1}, "relation 0: type missing"),
        ({"from": 0, "to": 1, "type": "SAID_BY", "score": 2}, "score must be a number"),
        ({"from": 0, "to": 1, "type": "SAID_BY", "why": 1}, "'why' is not a field of a relation"),
    ],
)
def test_a_relation_of_the_wrong_shape_is_refused(relation, message):
    _, detail = refusal(line(spans=[REBELS, ALEPPO], relations=[relation]))
    assert message in detail, detail


def test_too_many_lines_is_too_large():
    result = read_predictions(jsonl(line(), line(id="a2"), line(id="a3")), max_lines=2)
    assert result.too_large and result.errors[0].line == 3
    assert "more than 2 lines in one upload" in result.errors[0].detail


def test_too_many_bytes_is_too_large():
    result = read_predictions(jsonl(line()), max_bytes=10)
    assert result.too_large and "the limit is 10 bytes" in result.errors[0].detail


def test_invalid_utf8_names_the_line():
    result = read_predictions(jsonl(line()) + b"\n\xff\xfe")
    assert result.errors[0].line == 2 and "not valid UTF-8" in result.errors[0].detail


# --- against the article and the project ------------------------------------------------------


def test_a_span_past_the_end_of_the_text_is_refused():
    assert checked(line(spans=[REBELS, {"start": 40, "end": 60, "label": "ACTOR"}])) == (
        f"span 1: end 60 is past the end of the text ({len(TEXT)} characters)"
    )


def test_an_unknown_label_is_refused_listing_the_projects():
    assert checked(line(spans=[{"start": 0, "end": 6, "label": "PERSON"}])) == (
        "span 0: label 'PERSON' is not a label of this project (ACTOR, CASUALTY, LOCATION, SOURCE)"
    )


def test_a_text_that_does_not_match_the_article_is_refused():
    assert checked(line(spans=[{**REBELS, "text": "Rebel"}])) == (
        "span 0: text 'Rebel' does not match the article at 0:6 ('Rebels')"
    )


def test_a_text_that_matches_is_accepted():
    assert checked(line(spans=[{**REBELS, "text": "Rebels"}])) is None


def test_attributes_must_fit_the_labels_schema():
    assert checked(line(spans=[{**REBELS, "attributes": {"kind": "armed"}}])) is None
    assert checked(line(spans=[{**REBELS, "attributes": {"kind": "alien"}}])) == (
        "span 0: attribute kind must be one of armed, state, not 'alien'"
    )
    assert "is not an attribute of LOCATION" in checked(
        line(spans=[{**ALEPPO, "attributes": {"kind": "armed"}}])
    )


def test_attributes_are_normalised_for_storing():
    result = read_predictions(jsonl(line(spans=[{**REBELS, "attributes": {"kind": None}}])))
    assert line_problem(result.lines[0], ARTICLE, LABELS, SCHEMA) is None
    assert result.lines[0].attributes == [{}]


@pytest.mark.parametrize(
    ("relation", "message"),
    [
        ({"from": 0, "to": 5, "type": "SAID_BY"}, "to must be the index of a span (0 to 1)"),
        ({"from": "0", "to": 1, "type": "SAID_BY"}, "from must be the index of a span"),
        ({"from": 0, "to": 1, "type": "BORN_IN"}, "type 'BORN_IN' is not a relation type"),
        ({"from": 1, "to": 0, "type": "SAID_BY"}, "SAID_BY cannot start from a LOCATION span"),
        ({"from": 0, "to": 0, "type": "SAID_BY"}, "a relation cannot go from a span to itself"),
    ],
)
def test_relations_must_join_spans_of_the_line_with_a_type_that_fits(relation, message):
    problem = checked(line(spans=[REBELS, ALEPPO], relations=[relation]))
    assert problem.startswith("relation 0: ") and message in problem, problem


def test_a_relation_given_twice_is_refused():
    twice = {"from": 0, "to": 1, "type": "SAID_BY"}
    assert checked(line(spans=[REBELS, ALEPPO], relations=[twice, twice])) == (
        "relation 1: the same relation (ends and type) appears twice"
    )
