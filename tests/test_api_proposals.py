"""POST /api/projects/{slug}/attributes/propose/: proposed values fitted to the label's
schema; any member, nothing written."""

from __future__ import annotations

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .api_support import api, assert_error
from .factories import make_attribute, make_project

URL = "/api/projects/demo-news/attributes/propose/"
WOUNDED = {"label": "CASUALTY", "text": "at least six more were wounded"}


@pytest.fixture
def casualty_schema(project):
    """The demo schema's CASUALTY attributes."""
    make_attribute(
        project, "CASUALTY", "kind", "choice",
        choices=["killed", "wounded", "missing", "displaced", "detained"],
    )  # fmt: skip
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_attribute(project, "CASUALTY", "high", "integer", min=0)
    make_attribute(
        project, "CASUALTY", "qualifier", "choice",
        choices=["exact", "at_least", "more_than", "about", "up_to", "range"],
    )  # fmt: skip
    make_attribute(
        project, "CASUALTY", "victims", "choice",
        choices=["civilians", "fighters", "security forces", "children", "unknown"],
    )  # fmt: skip
    return project


def propose(user, data):
    return api(user).post(URL, data, format="json")


def test_a_member_gets_the_contract_example(editor, casualty_schema):
    response = propose(editor, WOUNDED)
    assert response.status_code == 200
    assert response.json() == {
        "attributes": {"kind": "wounded", "low": 6, "high": None, "qualifier": "at_least"}
    }


@pytest.mark.parametrize("who", ["reviewer", "manager"])
def test_any_member_may_ask(who, request, casualty_schema):
    user = request.getfixturevalue(who)
    response = propose(user, {"label": "CASUALTY", "text": "four of its fighters"})
    assert response.status_code == 200
    assert response.json()["attributes"] == {
        "low": 4,
        "high": None,
        "qualifier": "exact",
        "victims": "fighters",
    }


def test_a_range_fills_high(editor, casualty_schema):
    response = propose(editor, {"label": "CASUALTY", "text": "between 10 and 15 civilians died"})
    assert response.json()["attributes"] == {
        "kind": "killed",
        "low": 10,
        "high": 15,
        "qualifier": "range",
        "victims": "civilians",
    }


def test_words_that_tell_nothing_give_no_attributes(editor, casualty_schema):
    response = propose(editor, {"label": "CASUALTY", "text": "the Pentagon said"})
    assert response.json() == {"attributes": {}}


def test_an_empty_text_gives_no_attributes(editor, casualty_schema):
    assert propose(editor, {"label": "CASUALTY", "text": ""}).json() == {"attributes": {}}


def test_it_writes_nothing(editor, casualty_schema):
    client = api(editor)  # its token is written here, before the request
    with CaptureQueriesContext(connection) as queries:
        assert client.post(URL, WOUNDED, format="json").status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(
        ("INSERT", "UPDATE", "DELETE")
    )]  # fmt: skip
    assert writes == []


# --- who may ask ------------------------------------------------------------------------


def test_an_outsider_gets_404(outsider, casualty_schema):
    assert_error(propose(outsider, WOUNDED), 404)


def test_an_unknown_project_is_404(editor):
    response = api(editor).post("/api/projects/nowhere/attributes/propose/", WOUNDED, format="json")
    assert_error(response, 404)


def test_without_a_token_it_is_401(casualty_schema):
    assert_error(api().post(URL, WOUNDED, format="json"), 401)


def test_get_is_not_allowed(editor, casualty_schema):
    assert_error(api(editor).get(URL), 405)


# --- what is refused --------------------------------------------------------------------


def test_a_label_the_project_does_not_have_is_400(editor, casualty_schema):
    data = assert_error(propose(editor, {"label": "WEAPON", "text": "six wounded"}), 400)
    assert "WEAPON" in data["detail"] and "label" in data["detail"]


def test_a_label_of_another_project_is_400(editor, casualty_schema):
    make_project("elsewhere-too", labels=[("WEAPON", "Weapon", "#cccccc", "1")])
    assert_error(propose(editor, {"label": "WEAPON", "text": "six wounded"}), 400)


@pytest.mark.parametrize("text", [6, None, ["six"], {"text": "six"}, True])
def test_text_that_is_not_a_string_is_400(editor, casualty_schema, text):
    data = assert_error(propose(editor, {"label": "CASUALTY", "text": text}), 400)
    assert data["detail"].startswith("text:")


def test_a_label_that_is_not_a_string_is_400(editor, casualty_schema):
    assert_error(propose(editor, {"label": 3, "text": "six wounded"}), 400)


def test_text_over_2000_characters_is_400(editor, casualty_schema):
    data = assert_error(propose(editor, {"label": "CASUALTY", "text": "six " * 501}), 400)
    assert "2000" in data["detail"]


def test_text_of_2000_characters_is_read(editor, casualty_schema):
    text = "seven fighters were killed ".ljust(2000, ".")
    response = propose(editor, {"label": "CASUALTY", "text": text})
    assert response.status_code == 200
    assert response.json()["attributes"]["low"] == 7


@pytest.mark.parametrize("data", [{"text": "six wounded"}, {"label": "CASUALTY"}, [], "six"])
def test_a_missing_field_or_a_body_that_is_not_an_object_is_400(editor, casualty_schema, data):
    assert_error(propose(editor, data), 400)


def test_an_unknown_field_is_400(editor, casualty_schema):
    data = assert_error(propose(editor, {**WOUNDED, "attributes": {}}), 400)
    assert "attributes" in data["detail"]


# --- fitted to the label's schema -------------------------------------------------------


def test_a_label_without_attributes_gets_none(editor, casualty_schema):
    response = propose(editor, {"label": "SOURCE", "text": "seven fighters were killed"})
    assert response.json() == {"attributes": {}}


def test_only_the_attributes_the_label_declares_are_proposed(editor, project):
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    response = propose(editor, {"label": "CASUALTY", "text": "more than 20 fighters dead"})
    assert response.json() == {"attributes": {"low": 20}}


def test_a_choice_the_label_does_not_offer_is_left_out(editor, project):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed", "wounded"])
    make_attribute(project, "CASUALTY", "victims", "choice", choices=["civilians", "children"])
    response = propose(editor, {"label": "CASUALTY", "text": "30 rebels were abducted"})
    assert response.json() == {"attributes": {}}


def test_a_number_below_the_minimum_is_left_out(editor, project):
    make_attribute(project, "CASUALTY", "low", "integer", min=1)
    make_attribute(project, "CASUALTY", "qualifier", "choice", choices=["exact", "about"])
    response = propose(editor, {"label": "CASUALTY", "text": "no one was hurt"})
    assert response.json() == {"attributes": {"qualifier": "exact"}}


def test_an_attribute_of_another_type_under_the_same_key_is_left_out(editor, project):
    make_attribute(project, "CASUALTY", "kind", "text")
    make_attribute(project, "CASUALTY", "low", "boolean")
    response = propose(editor, {"label": "CASUALTY", "text": "six were wounded"})
    assert response.json() == {"attributes": {"kind": "wounded"}}


def test_the_schema_describes_the_endpoint(editor):
    schema = yaml.safe_load(api().get("/api/schema/").content)
    operation = schema["paths"]["/api/projects/{slug}/attributes/propose/"]["post"]
    assert operation["operationId"] == "propose_attributes"
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/ProposeRequest")
    assert set(schema["components"]["schemas"]["ProposeRequest"]["properties"]) == {
        "label",
        "text",
    }
    assert "attributes" in schema["components"]["schemas"]["Proposal"]["properties"]
