"""API, facts: attributes on spans and relations between spans in the own annotation, the
gold and every version; precise refusals; blindness; the OpenAPI request body."""

from __future__ import annotations

import pytest
import yaml

from annotate.models import AnnotationVersion, Relation, RelationType, Role, Span

from .api_support import api, assert_error, body
from .factories import make_article, make_attribute, make_member, make_relation_type, make_user

# From the sample article (offsets into this snippet).
TEXT = (
    "The Syrian Observatory for Human Rights said at least six more were wounded in the "
    "strike on Deir ez-Zor."
)
SOURCE = {"start": 4, "end": 39, "label": "SOURCE"}  # "Syrian Observatory for Human Rights"
FIGURE = {"start": 45, "end": 75, "label": "CASUALTY"}  # "at least six more were wounded"
PLACE = {"start": 94, "end": 105, "label": "LOCATION"}  # "Deir ez-Zor"
WOUNDED = {"kind": "wounded", "low": 6, "high": None, "qualifier": "at_least"}


@pytest.fixture
def schema(project):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed", "wounded"])
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_attribute(project, "CASUALTY", "high", "integer", min=0)
    make_attribute(
        project, "CASUALTY", "qualifier", "choice", choices=["exact", "at_least", "about"]
    )
    make_attribute(project, "SOURCE", "note", "text")
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    make_relation_type(project, "LOCATED_IN", ["CASUALTY"], ["LOCATION"])
    return project


@pytest.fixture
def article(schema, editor, other_editor):
    return make_article(schema, TEXT, editors=[editor, other_editor])


def own(article) -> str:
    return f"/api/articles/{article.pk}/annotation/"


def put(client, url, payload):
    return client.put(url, payload, format="json")


def figure_with(attributes=WOUNDED) -> dict:
    return {**FIGURE, "attributes": attributes}


def first_save(client, article):
    payload = {
        "base_version": 0,
        "spans": [figure_with(), SOURCE],
        "relations": [{"from": 0, "to": 1, "type": "SAID_BY"}],
    }
    response = put(client, own(article), payload)
    assert response.status_code == 200, response.content
    return response.json()


def relations_as_keys(data: dict) -> set[tuple]:
    spans = data["spans"]
    return {
        (spans[r["from"]]["label"], spans[r["from"]]["start"], r["type"], spans[r["to"]]["start"])
        for r in data["relations"]
    }


def test_attributes_and_relations_are_written_and_read_back(article, editor):
    client = api(editor)
    saved = first_save(client, article)
    data = client.get(own(article)).json()
    assert data["version"] == 1 and data == saved
    figure, source = data["spans"][1], data["spans"][0]  # in text order: the source first
    assert figure["attributes"] == {"kind": "wounded", "low": 6, "qualifier": "at_least"}
    assert source["attributes"] == {}
    assert data["relations"] == [{"from": 1, "to": 0, "type": "SAID_BY"}]
    assert data["warnings"] == []


def test_a_relation_survives_any_reordering_of_spans(article, editor):
    client = api(editor)
    first_save(client, article)
    payload = {"base_version": 1, "spans": [SOURCE, PLACE, FIGURE]}
    data = put(client, own(article), payload).json()
    assert data["version"] == 2
    assert relations_as_keys(data) == {("CASUALTY", 45, "SAID_BY", 4)}
    assert data["spans"][1]["attributes"]["low"] == 6  # kept: the span gave no attributes


def test_a_version_one_client_keeps_facts_it_does_not_know(article, editor):
    client = api(editor)
    first_save(client, article)
    plain = [{k: v for k, v in s.items() if k != "attributes"} for s in [FIGURE, SOURCE, PLACE]]
    data = put(client, own(article), {"base_version": 1, "spans": plain}).json()
    assert data["spans"][1]["attributes"]["kind"] == "wounded"
    assert data["relations"] == [{"from": 1, "to": 0, "type": "SAID_BY"}]


def test_deleting_a_span_deletes_its_relations_in_the_same_version(article, editor):
    client = api(editor)
    first_save(client, article)
    data = put(client, own(article), {"base_version": 1, "spans": [FIGURE]}).json()
    assert data["version"] == 2 and data["relations"] == []
    versions = client.get(own(article) + "versions/").json()["results"]
    assert versions[1]["description"] == "\u22121 SOURCE, \u2212SAID_BY \u00d71"


def test_a_version_that_only_changes_an_attribute(article, editor):
    client = api(editor)
    first_save(client, article)
    payload = {"base_version": 1, "spans": [figure_with({**WOUNDED, "low": 7}), SOURCE]}
    assert put(client, own(article), payload).json()["version"] == 2
    versions = client.get(own(article) + "versions/").json()["results"]
    assert versions[1]["description"] == "CASUALTY.low 6\u21927"
    v1 = client.get(own(article) + "versions/1/").json()
    v2 = client.get(own(article) + "versions/2/").json()
    assert v1["spans"][1]["attributes"]["low"] == 6 and v2["spans"][1]["attributes"]["low"] == 7
    assert v1["relations"] == v2["relations"] == [{"from": 1, "to": 0, "type": "SAID_BY"}]


def test_a_version_that_only_changes_a_relation(article, editor):
    client = api(editor)
    first_save(client, article)
    payload = {"base_version": 1, "spans": [FIGURE, SOURCE, PLACE], "relations": []}
    put(client, own(article), payload)
    payload = {
        **payload,
        "base_version": 2,
        "relations": [{"from": 0, "to": 2, "type": "LOCATED_IN"}],
    }
    data = put(client, own(article), payload).json()
    assert data["version"] == 3
    assert relations_as_keys(data) == {("CASUALTY", 45, "LOCATED_IN", 94)}
    v2 = client.get(own(article) + "versions/2/").json()
    assert v2["relations"] == [] and len(v2["spans"]) == 3
    versions = client.get(own(article) + "versions/").json()["results"]
    assert versions[2]["description"] == "+LOCATED_IN \u00d71"


def test_a_stale_base_is_409_for_an_attribute_change(article, editor):
    client = api(editor)
    first_save(client, article)
    put(client, own(article), {"base_version": 1, "spans": [figure_with({"low": 8}), SOURCE]})
    response = put(client, own(article), {"base_version": 1, "spans": [figure_with({"low": 9})]})
    assert assert_error(response, 409)["current_version"] == 2
    assert client.get(own(article)).json()["spans"][1]["attributes"] == {"low": 8}


def test_a_stale_base_is_409_for_a_relation_change(article, editor):
    client = api(editor)
    first_save(client, article)
    put(client, own(article), {"base_version": 1, "spans": [FIGURE, SOURCE], "relations": []})
    payload = {
        "base_version": 1,
        "spans": [FIGURE, SOURCE],
        "relations": [{"from": 0, "to": 1, "type": "SAID_BY"}],
    }
    assert_error(put(client, own(article), payload), 409)
    assert client.get(own(article)).json()["relations"] == []


def test_restore_brings_back_attributes_and_relations(article, editor):
    client = api(editor)
    saved = first_save(client, article)
    put(
        client,
        own(article),
        {"base_version": 1, "spans": [figure_with({}), SOURCE], "relations": []},
    )
    response = client.post(own(article) + "versions/1/restore/", {"base_version": 2}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["version"] == 3
    assert [s["attributes"] for s in data["spans"]] == [s["attributes"] for s in saved["spans"]]
    assert data["relations"] == saved["relations"]


def rel(source: object, target: object, kind: str) -> dict:
    return {"from": source, "to": target, "type": kind}


def assert_refused(article, editor, payload: dict, where: dict, message: str) -> None:
    data = assert_error(put(api(editor), own(article), {"base_version": 0, **payload}), 400)
    assert message in data["detail"]
    assert data["errors"][0].items() >= where.items() and message in data["errors"][0]["detail"]
    assert not AnnotationVersion.objects.exists() and not Span.objects.exists()
    assert not Relation.objects.exists()


@pytest.mark.parametrize(
    ("spans", "index", "message"),
    [
        ([figure_with({"kind": "dead"})], 0, "kind must be one of killed, wounded"),
        ([SOURCE, figure_with({"low": "6"})], 1, "low must be an integer"),
        ([figure_with({"low": True})], 0, "low must be an integer, not true"),
        ([figure_with({"low": -1})], 0, "low must be at least 0"),
        ([figure_with({"victims": "x"})], 0, "'victims' is not an attribute"),
        ([figure_with(["wounded"])], 0, "attributes must be an object"),
        ([{**SOURCE, "attributes": {"kind": "killed"}}], 0, "not an attribute of SOURCE"),
        ([{**SOURCE, "attributes": {"note": "x" * 501}}], 0, "note is too long"),
        ([{**SOURCE, "attributes": {"note": 5}}], 0, "note must be text"),
    ],
)
def test_an_attribute_refusal_names_the_span_and_writes_nothing(
    article, editor, spans, index, message
):
    assert_refused(article, editor, {"spans": spans}, {"index": index}, message)


@pytest.mark.parametrize(
    ("spans", "relations", "index", "message"),
    [
        ([FIGURE, SOURCE], [rel(0, 2, "SAID_BY")], 0, "to must be the index of a span"),
        ([FIGURE, SOURCE], [rel(1, 0, "SAID_BY")], 0, "cannot start from a SOURCE span"),
        ([FIGURE, SOURCE], [rel(0, 1, "QUOTES")], 0, "'QUOTES' is not a relation type"),
        ([FIGURE, SOURCE], [rel(0, 1, "SAID_BY")] * 2, 1, "appears twice"),
        ([FIGURE, PLACE], [rel(1, 1, "LOCATED_IN")], 0, "itself"),
        ([FIGURE, SOURCE], [rel("0", 1, "SAID_BY")], 0, "from must be the index of a span"),
    ],
)
def test_a_relation_refusal_names_the_relation_and_writes_nothing(
    article, editor, spans, relations, index, message
):
    payload = {"spans": spans, "relations": relations}
    assert_refused(article, editor, payload, {"relation": index}, message)


@pytest.mark.parametrize(
    ("relations", "message"),
    [
        (["SAID_BY"], "must be an object with from, to and type"),
        ([{"from": 0, "to": 1}], "needs type"),
        ([{"from": 0, "to": 1, "type": "SAID_BY", "note": "x"}], "Unknown relation field note"),
        ({"from": 0}, "list"),
    ],
)
def test_a_malformed_relation_is_refused(article, editor, relations, message):
    payload = {"base_version": 0, "spans": [FIGURE, SOURCE], "relations": relations}
    data = assert_error(put(api(editor), own(article), payload), 400)
    assert message in str(data)
    assert not AnnotationVersion.objects.exists()


def test_submitting_needs_the_required_attributes(article, editor, project):
    make_attribute(
        project, "SOURCE", "type", "choice", choices=["official", "monitor"], required=True
    )
    client = api(editor)
    first_save(client, article)
    payload = {"base_version": 1, "spans": [FIGURE, SOURCE], "submit": True}
    data = assert_error(put(client, own(article), payload), 400)
    assert data["errors"] == [
        {"index": 1, "detail": "SOURCE 4:39 needs attribute type before submitting"}
    ]
    payload["spans"] = [FIGURE, {**SOURCE, "attributes": {"type": "monitor"}}]
    assert put(client, own(article), payload).json()["status"] == "submitted"


def test_the_gold_reads_and_writes_facts(article, reviewer):
    client = api(reviewer)
    gold = f"/api/articles/{article.pk}/gold/"
    payload = {
        "base_version": 0,
        "spans": [figure_with(), SOURCE],
        "relations": [{"from": 0, "to": 1, "type": "SAID_BY"}],
        "final": True,
    }
    response = put(client, gold, payload)
    assert response.status_code == 200, response.content
    data = client.get(gold).json()
    assert data["final"] and data["relations"] == [{"from": 1, "to": 0, "type": "SAID_BY"}]
    assert data["spans"][1]["attributes"]["qualifier"] == "at_least"
    version = client.get(gold + "versions/1/").json()
    assert version["relations"] == data["relations"]


def test_reviewers_see_each_editors_facts(article, editor, other_editor, reviewer):
    first_save(api(editor), article)
    rows = api(reviewer).get(f"/api/articles/{article.pk}/annotations/").json()
    by_editor = {row["annotator"]: row for row in rows}
    assert by_editor["edith"]["relations"] == [{"from": 1, "to": 0, "type": "SAID_BY"}]
    assert by_editor["edith"]["spans"][1]["attributes"]["low"] == 6
    assert by_editor["otto"]["relations"] == [] and by_editor["otto"]["warnings"] == []
    one = api(reviewer).get(f"/api/articles/{article.pk}/annotations/edith/").json()
    assert one["relations"] == by_editor["edith"]["relations"]


def test_reads_warn_where_the_schema_changed_and_never_fail(article, editor, project):
    client = api(editor)
    first_save(client, article)
    project.labels.get(key="CASUALTY").attributes.filter(key="qualifier").delete()
    said_by = RelationType.objects.get(key="SAID_BY")
    said_by.to_labels.set(project.labels.filter(key="ACTOR"))
    data = client.get(own(article)).json()
    assert data["warnings"] == [
        {
            "span": 1,
            "detail": "CASUALTY 45:75: attribute qualifier is no longer in the schema of CASUALTY",
        },
        {
            "relation": 0,
            "detail": "SAID_BY from CASUALTY 45:75 to SOURCE 4:39: SAID_BY cannot end at a "
            "SOURCE span (only ACTOR) (the schema changed)",
        },
    ]
    assert client.get(own(article) + "versions/1/").json()["warnings"] == data["warnings"]
    # Nothing stored was rewritten. A version-1 write keeps the stored attribute, and drops
    # the relation that no longer fits its type.
    assert data["spans"][1]["attributes"]["qualifier"] == "at_least"
    plain = [{k: v for k, v in s.items() if k != "attributes"} for s in [FIGURE, SOURCE, PLACE]]
    data = put(client, own(article), {"base_version": 1, "spans": plain}).json()
    assert data["spans"][1]["attributes"]["qualifier"] == "at_least"
    assert data["relations"] == [] and len(data["warnings"]) == 1


def test_a_relation_type_in_use_cannot_be_deleted(article, editor):
    from django.db.models import ProtectedError

    first_save(api(editor), article)
    with pytest.raises(ProtectedError):
        RelationType.objects.get(key="SAID_BY").delete()


# Blindness: nobody sees another editor's facts before adjudication, through any route.

SECRET_SOURCE_KIND = "zzsecretkindzz"


def test_another_editors_facts_never_reach_an_editor(article, editor, other_editor, project):
    client = api(editor)
    payload = {
        "base_version": 0,
        "spans": [figure_with(), {**SOURCE, "attributes": {"note": SECRET_SOURCE_KIND}}],
        "relations": [{"from": 0, "to": 1, "type": "SAID_BY"}],
    }
    assert put(client, own(article), payload).status_code == 200
    spy = api(other_editor)
    a = f"/api/articles/{article.pk}/"
    routes = [
        a,
        a + "?include=annotation",
        a + "?include=annotations",
        a + "?include=gold",
        a + "annotation/",
        a + "annotation/versions/",
        a + "annotation/versions/1/",
        a + "annotations/",
        a + "annotations/edith/",
        a + "annotations/edith/versions/",
        a + "annotations/edith/versions/1/",
        a + "gold/",
        a + "gold/versions/",
        f"/api/projects/{project.slug}/",
        f"/api/projects/{project.slug}/articles/",
        f"/api/projects/{project.slug}/agreement/",
        f"/api/projects/{project.slug}/export/?format=jsonl&source=editors",
        f"/api/projects/{project.slug}/export/?format=w3c&source=editors",
    ]
    for route in routes:
        response = spy.get(route)
        content = body(response).decode()
        assert SECRET_SOURCE_KIND not in content, route
        assert "SAID_BY" not in content or route.endswith(f"/{project.slug}/"), route
    own_view = spy.get(a + "annotation/").json()
    assert own_view["spans"] == [] and own_view["relations"] == []


def test_an_outsider_gets_404_for_facts(article, editor):
    first_save(api(editor), article)
    outsider = make_member(make_project_elsewhere(), make_user("olga"), Role.MANAGER)
    assert_error(api(outsider).get(own(article)), 404)


def make_project_elsewhere():
    from .factories import make_project

    return make_project("far-away")


# The OpenAPI schema describes the write, not the read.


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


EXAMPLES = {"base_version": 0, "start": 45, "end": 75, "label": "CASUALTY"}


def example(schema: dict, name: str, node: dict):
    """A value for a required field, built from the schema alone."""
    node = resolve(schema, node)
    if name in EXAMPLES:
        return EXAMPLES[name]
    if node.get("type") == "array":
        return [example(schema, name, node["items"])]
    if node.get("type") == "object" or "properties" in node:
        return {
            key: example(schema, key, node["properties"][key]) for key in node.get("required", [])
        }
    raise AssertionError(f"no example for required field {name}: {node}")


@pytest.mark.parametrize("which", ["annotation", "gold"])
def test_a_put_body_built_from_the_schema_request_component_succeeds(
    article, editor, reviewer, which
):
    schema = yaml.safe_load(api().get("/api/schema/").content)
    operation = schema["paths"][f"/api/articles/{{article_id}}/{which}/"]["put"]
    component = resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])
    properties = component["properties"]
    assert set(component["required"]) == {"base_version", "spans"}
    assert {"base_version", "spans", "relations", "note"} <= set(properties)
    assert not {"article", "annotator", "version", "status", "updated_at"} & set(properties)
    span = resolve(schema, properties["spans"]["items"])
    assert "attributes" in span["properties"] and "id" not in span.get("required", [])
    relation = resolve(schema, properties["relations"]["items"])
    assert set(relation["properties"]) == {"from", "to", "type"}
    payload = example(schema, "body", component)
    payload["spans"][0]["attributes"] = {"low": 6}  # and the facts the component describes
    user = editor if which == "annotation" else reviewer
    response = put(api(user), f"/api/articles/{article.pk}/{which}/", payload)
    assert response.status_code == 200, response.content
    assert response.json()["spans"][0]["attributes"] == {"low": 6}
    # The response component is the read shape.
    answer = resolve(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"version", "spans", "relations", "warnings"} <= set(answer["required"])


def test_reads_cost_the_same_queries_for_few_and_many_relations(schema, editor, reviewer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    words = " ".join(f"word{n:02d}" for n in range(40))
    costs = []
    for count in (2, 20):
        article = make_article(schema, words, editors=[editor])
        spans = [
            {"start": 7 * n, "end": 7 * n + 6, "label": "CASUALTY" if n % 2 else "SOURCE"}
            for n in range(2 * count)
        ]
        for span in spans[1::2]:
            span["attributes"] = {"low": 1}
        relations = [rel(n, n - 1, "SAID_BY") for n in range(1, 2 * count, 2)]
        payload = {"base_version": 0, "spans": spans, "relations": relations}
        assert put(api(editor), own(article), payload).status_code == 200
        a = f"/api/articles/{article.pk}/"
        reads = []
        for client, url in [
            (api(editor), a + "annotation/"),
            (api(editor), a + "annotation/versions/1/"),
            (api(reviewer), a + "annotations/"),
            (api(reviewer), a + "annotations/edith/"),
        ]:
            client.get(url)  # the token row exists from here on
            with CaptureQueriesContext(connection) as captured:
                assert len(client.get(url).json()) > 0
            reads.append(len(captured))
        costs.append(reads)
    assert costs[0] == costs[1]
