"""The manager's schema page: attributes of each label and the project's relation types,
added, changed and removed through services.schema (the API's rules), page and fragment."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotate.models import AttributeDefinition, Relation, RelationType
from annotate.services import schema
from annotate.services.annotations import (
    RelationInput,
    SpanInput,
    annotation_for,
    save_annotation,
)

from .conftest import login
from .factories import make_article, make_attribute, make_relation_type

HX = {"HTTP_HX_REQUEST": "true"}
# From the sample article: a casualty figure, who gave it, where.
TEXT = "Local officials said at least six civilians were killed in Deir ez-Zor."
SOURCE = (6, 15)  # "officials"
FIGURE = (21, 43)  # "at least six civilians"


def schema_url(project, name="project-schema", *args):
    return reverse(name, args=[project.slug, *args])


def annotate_figure(project, editor, attributes=None, relations=()):
    article = make_article(project, TEXT, editors=[editor])
    return save_annotation(
        annotation=annotation_for(article, editor),
        author=editor,
        role="editor",
        base_version=0,
        spans=[SpanInput(*FIGURE, "CASUALTY", attributes=attributes), SpanInput(*SOURCE, "SOURCE")],
        relations=list(relations),
    )


@pytest.fixture
def kind(project):
    return make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed", "wounded"])


@pytest.fixture
def said_by(project):
    return make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])


# --- who may see it ------------------------------------------------------------------------


def test_the_page_lists_attributes_and_relation_types(manager, kind, said_by, project):
    response = login(manager).get(schema_url(project))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<code>kind</code>" in body and "killed, wounded" in body
    assert "<code>SAID_BY</code>" in body
    assert '<div id="schema"' in body and "<html" in body


def test_the_htmx_request_gets_the_schema_fragment(manager, kind, project):
    response = login(manager).get(schema_url(project), **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="schema"') and "<html" not in body
    assert "<code>kind</code>" in body
    assert "HX-Request" in response["Vary"]


def test_editors_and_reviewers_get_403(editor, reviewer, project):
    for user in (editor, reviewer):
        assert login(user).get(schema_url(project)).status_code == 403


def test_outsiders_get_404(outsider, project, kind):
    client = login(outsider)
    assert client.get(schema_url(project)).status_code == 404
    url = schema_url(project, "schema-attribute-remove", kind.pk)
    assert client.post(url, {"confirm": "yes"}).status_code == 404
    assert AttributeDefinition.objects.filter(pk=kind.pk).exists()


def test_an_attribute_of_another_project_is_404(manager, outsider):
    other = AttributeDefinition.objects.create(
        label=outsider.memberships.get().project.labels.get(key="CASUALTY"),
        key="kind",
        name="Kind",
        type="text",
    )
    project = manager.memberships.get().project
    response = login(manager).get(schema_url(project, "schema-attribute", other.pk))
    assert response.status_code == 404


def test_the_project_page_links_the_schema_for_managers_only(manager, editor, project):
    link = schema_url(project)
    assert link in login(manager).get(reverse("project", args=[project.slug])).content.decode()
    assert link not in login(editor).get(reverse("project", args=[project.slug])).content.decode()


# --- attributes ----------------------------------------------------------------------------


def test_a_manager_adds_an_attribute(manager, project):
    url = schema_url(project, "schema-attribute-add", "CASUALTY")
    assert login(manager).get(url).status_code == 200
    response = login(manager).post(
        url,
        {"key": "qualifier", "name": "Qualifier", "type": "choice",
         "choices": "exact\r\n at_least \r\n\r\nabout", "order": ""},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == schema_url(project)
    attribute = AttributeDefinition.objects.get()
    assert (attribute.label.key, attribute.key, attribute.type) == (
        "CASUALTY",
        "qualifier",
        "choice",
    )
    assert attribute.choices == ["exact", "at_least", "about"] and not attribute.required


def test_an_htmx_add_answers_the_refreshed_fragment(manager, project):
    url = schema_url(project, "schema-attribute-add", "CASUALTY")
    data = {"key": "low", "name": "Low", "type": "integer", "min": "0", "required": "on"}
    response = login(manager).post(url, data, **HX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "Attribute low added to CASUALTY." in body and "at least 0" in body
    assert response["HX-Push-Url"] == schema_url(project)
    assert AttributeDefinition.objects.get().min == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"key": "Kind", "type": "text"}, "key", "use a-z, digits and _"),
        ({"key": "kind", "type": "choice", "choices": ""}, "choices", "needs a list of choices"),
        ({"key": "kind", "type": "choice", "choices": "a\nb\na"}, "choices", "appears twice"),
        ({"key": "low", "type": "text", "min": "0"}, "min", "only an integer attribute"),
        ({"key": "low", "type": "integer", "min": "²"}, "min", "whole number in digits"),
        ({"key": "low", "type": "date"}, "type", "Select a valid choice"),
        ({"key": "low", "type": "integer", "name": ""}, "name", "This field is required"),
        ({"key": "low", "type": "integer", "order": "99999"}, "order", "from 0 to 32767"),
    ],
)
def test_a_bad_attribute_shows_the_message_by_its_field_and_writes_nothing(
    manager, project, data, field, message
):
    url = schema_url(project, "schema-attribute-add", "CASUALTY")
    response = login(manager).post(url, {"name": "A name", **data})
    assert response.status_code == 400
    form = response.context["panel"]["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert not AttributeDefinition.objects.exists()


def test_a_key_the_label_has_is_refused(manager, project, kind):
    url = schema_url(project, "schema-attribute-add", "CASUALTY")
    response = login(manager).post(url, {"key": "kind", "name": "Kind", "type": "text"}, **HX)
    assert response.status_code == 400
    assert "CASUALTY already has an attribute with this key" in response.content.decode()
    assert AttributeDefinition.objects.count() == 1


def test_a_manager_changes_an_attribute(manager, project, kind):
    url = schema_url(project, "schema-attribute", kind.pk)
    form = login(manager).get(url).content.decode()
    assert "killed\nwounded</textarea>" in form
    response = login(manager).post(
        url, {"key": "kind", "name": "Kind of harm", "type": "choice",
              "choices": "killed\nwounded\nmissing", "order": "3"},
    )  # fmt: skip
    assert response.status_code == 302
    kind.refresh_from_db()
    assert (kind.name, kind.choices, kind.order) == (
        "Kind of harm",
        ["killed", "wounded", "missing"],
        3,
    )


def test_removing_an_attribute_in_use_says_how_many_spans_carry_it(manager, editor, project, kind):
    annotate_figure(project, editor, attributes={"kind": "killed"})
    url = schema_url(project, "schema-attribute-remove", kind.pk)
    page = login(manager).get(url).content.decode()
    assert "1 current span carries a value for <code>kind</code>" in page
    response = login(manager).post(url, {})
    assert response.status_code == 400 and "Tick the box" in response.content.decode()
    assert AttributeDefinition.objects.filter(pk=kind.pk).exists()
    response = login(manager).post(url, {"confirm": "yes"}, follow=True)
    assert "The values of 1 span stay stored." in response.content.decode()
    assert not AttributeDefinition.objects.exists()


def test_removing_an_attribute_never_rewrites_stored_values(manager, editor, project, kind):
    result = annotate_figure(project, editor, attributes={"kind": "killed"})
    login(manager).post(schema_url(project, "schema-attribute-remove", kind.pk), {"confirm": "yes"})
    span = result.annotation.current_spans().get(label__key="CASUALTY")
    assert span.attributes == {"kind": "killed"}


# --- relation types ------------------------------------------------------------------------


def test_a_manager_adds_a_relation_type_with_its_labels(manager, project):
    url = schema_url(project, "schema-relation-type-add")
    page = login(manager).get(url).content.decode()
    assert 'type="checkbox" name="from_labels" value="CASUALTY"' in page
    response = login(manager).post(
        url,
        {"key": "SAID_BY", "name": "said by", "from_labels": ["CASUALTY", "ACTOR"],
         "to_labels": ["SOURCE"]},
    )  # fmt: skip
    assert response.status_code == 302
    relation_type = RelationType.objects.get()
    assert sorted(relation_type.from_labels.values_list("key", flat=True)) == ["ACTOR", "CASUALTY"]
    assert list(relation_type.to_labels.values_list("key", flat=True)) == ["SOURCE"]


def test_no_label_ticked_means_any_label(manager, project):
    login(manager).post(
        schema_url(project, "schema-relation-type-add"), {"key": "NEAR", "name": "near"}
    )
    page = login(manager).get(schema_url(project)).content.decode()
    assert page.count("any label") == 2


def test_a_bad_relation_type_shows_the_message_and_writes_nothing(manager, project, said_by):
    url = schema_url(project, "schema-relation-type-add")
    response = login(manager).post(url, {"key": "SAID_BY", "name": "again"}, **HX)
    assert response.status_code == 400
    assert "the project already has a relation type with this key" in response.content.decode()
    response = login(manager).post(url, {"key": "said by", "name": "x", "to_labels": ["SOURCE"]})
    assert response.status_code == 400
    assert "use A-Z" in response.context["panel"]["relation_form"].errors["key"][0]
    response = login(manager).post(url, {"key": "NEAR", "name": "x", "to_labels": ["WITNESS"]})
    assert response.status_code == 400
    errors = response.context["panel"]["relation_form"].errors
    assert "WITNESS is not one of the available choices" in errors["to_labels"][0]
    assert RelationType.objects.count() == 1


def test_a_manager_changes_a_relation_type(manager, project, said_by):
    url = schema_url(project, "schema-relation-type", said_by.pk)
    page = login(manager).get(url, **HX).content.decode()
    assert 'value="CASUALTY"' in page and "<html" not in page
    login(manager).post(url, {"key": "SAID_BY", "name": "attributed to", "to_labels": ["SOURCE"]})
    said_by.refresh_from_db()
    assert said_by.name == "attributed to" and not said_by.from_labels.exists()


def test_a_relation_type_in_use_cannot_be_removed(manager, editor, project, said_by):
    annotate_figure(project, editor, relations=[RelationInput(0, 1, "SAID_BY")])
    url = schema_url(project, "schema-relation-type-remove", said_by.pk)
    assert "1 stored relation uses it" in login(manager).get(url).content.decode()
    response = login(manager).post(url, **HX)
    assert response.status_code == 409
    assert "SAID_BY cannot be removed: 1 relation uses it" in response.content.decode()
    assert RelationType.objects.filter(pk=said_by.pk).exists() and Relation.objects.count() == 1


def test_an_unused_relation_type_is_removed(manager, project, said_by):
    response = login(manager).post(schema_url(project, "schema-relation-type-remove", said_by.pk))
    assert response.status_code == 302
    assert not RelationType.objects.exists()


def test_changing_an_attribute_removed_meanwhile_does_not_bring_it_back(manager, project, kind):
    client = login(manager)
    url = schema_url(project, "schema-attribute", kind.pk)
    client.get(url)
    AttributeDefinition.objects.filter(pk=kind.pk).delete()
    data = {"key": "kind", "name": "Kind", "type": "choice", "choices": "killed"}
    response = client.post(url, data)
    assert response.status_code == 404
    with pytest.raises(schema.RemovedMeanwhile, match="removed meanwhile"):
        schema.save_attribute(label=kind.label, spec=kind.spec(), attribute=kind)
    assert not AttributeDefinition.objects.exists()
