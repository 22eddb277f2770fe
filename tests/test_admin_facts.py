"""The Django admin and facts: attributes edited on the label's page and relation types on
the project's, checked by the same rules as the schema page; span attributes and relations
shown read-only with the history."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from annotate.models import AttributeDefinition, RelationType
from annotate.services.annotations import (
    RelationInput,
    SpanInput,
    annotation_for,
    save_annotation,
)

from .factories import make_article, make_attribute, make_project, make_relation_type

TEXT = "Local officials said at least six civilians were killed in Deir ez-Zor."


class _Form(HTMLParser):
    """The values a browser would send for the admin's change form, as rendered."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.data: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            checkable = a.get("type") in ("checkbox", "radio")
            if checkable and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value", "on" if checkable else ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            if self._textarea:
                value = self.data[self._textarea][0]
                self.data[self._textarea][0] = value[1:] if value.startswith("\n") else value
            self._textarea = None
        elif tag == "select":
            self._select = None


def flat(response) -> str:
    """The page with runs of whitespace as one space, to read cells as rendered."""
    return " ".join(response.content.decode().split())


def form_of(client, url: str) -> dict[str, list[str]]:
    parser = _Form()
    parser.feed(client.get(url).content.decode())
    parser.data.pop("csrfmiddlewaretoken", None)
    return parser.data


@pytest.fixture
def root(admin_user, client_for):
    return client_for(admin_user)


def label_url(project, key: str) -> str:
    label = project.labels.get(key=key)
    return reverse("admin:annotate_label_change", args=[label.pk])


def project_url(project) -> str:
    return reverse("admin:annotate_project_change", args=[project.pk])


def annotated(project, editor):
    article = make_article(project, TEXT, editors=[editor])
    return save_annotation(
        annotation=annotation_for(article, editor),
        author=editor,
        role="editor",
        base_version=0,
        spans=[
            SpanInput(21, 43, "CASUALTY", attributes={"kind": "killed", "low": 6}),
            SpanInput(6, 15, "SOURCE"),
        ],
        relations=[RelationInput(0, 1, "SAID_BY")],
    ).annotation


# --- the schema ----------------------------------------------------------------------------


def test_an_attribute_is_added_on_the_labels_page_with_choices_one_per_line(project, root):
    data = form_of(root, label_url(project, "CASUALTY"))
    data.update({
        "attributes-TOTAL_FORMS": ["1"],
        "attributes-0-key": ["kind"],
        "attributes-0-name": ["Kind"],
        "attributes-0-type": ["choice"],
        "attributes-0-choices": ["killed\r\nwounded\r\n"],
        "attributes-0-order": ["0"],
    })  # fmt: skip
    response = root.post(label_url(project, "CASUALTY"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    attribute = AttributeDefinition.objects.get()
    assert (attribute.key, attribute.choices) == ("kind", ["killed", "wounded"])
    page = root.get(label_url(project, "CASUALTY")).content.decode()
    assert "killed\nwounded</textarea>" in page


def test_a_bad_attribute_is_refused_with_the_schema_rule(project, root):
    data = form_of(root, label_url(project, "CASUALTY"))
    data.update({
        "attributes-TOTAL_FORMS": ["1"],
        "attributes-0-key": ["low"],
        "attributes-0-name": ["Low"],
        "attributes-0-type": ["text"],
        "attributes-0-min": ["0"],
        "attributes-0-order": ["0"],
    })  # fmt: skip
    response = root.post(label_url(project, "CASUALTY"), data)
    assert response.status_code == 200
    assert "only an integer attribute has a minimum" in response.content.decode()
    assert not AttributeDefinition.objects.exists()


def test_the_labels_page_says_how_many_spans_carry_each_attribute(project, editor, root):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed"])
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    annotated(project, editor)
    page = flat(root.get(label_url(project, "CASUALTY")))
    assert "Current spans with a value" in page
    assert page.count('<td class="field-spans_using"> <p>1</p> </td>') == 2


def test_relation_types_are_edited_on_the_projects_page_with_its_labels_only(project, root):
    make_project("other", labels=[("WITNESS", "Witness", "#ffffff", "w")])
    data = form_of(root, project_url(project))
    labels = {label.key: str(label.pk) for label in project.labels.all()}
    data.update({
        "relation_types-TOTAL_FORMS": ["1"],
        "relation_types-0-key": ["SAID_BY"],
        "relation_types-0-name": ["said by"],
        "relation_types-0-order": ["0"],
        "relation_types-0-from_labels": [labels["CASUALTY"], labels["ACTOR"]],
        "relation_types-0-to_labels": [labels["SOURCE"]],
    })  # fmt: skip
    page = root.get(project_url(project)).content.decode()
    assert 'type="checkbox" name="relation_types-__prefix__-from_labels"' in page
    assert "WITNESS" not in page
    response = root.post(project_url(project), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    relation_type = RelationType.objects.get()
    assert sorted(relation_type.from_labels.values_list("key", flat=True)) == ["ACTOR", "CASUALTY"]


def test_a_relation_type_in_use_cannot_be_deleted_in_the_admin(project, editor, root):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed"])
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    said_by = make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    annotated(project, editor)
    data = form_of(root, project_url(project))
    data["relation_types-0-DELETE"] = ["on"]
    response = root.post(project_url(project), data)
    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in (
        response.content.decode()
    )
    assert RelationType.objects.filter(pk=said_by.pk).exists()


# --- history, read-only --------------------------------------------------------------------


def test_the_annotation_page_shows_span_attributes_and_relations(project, editor, root):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed"])
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    annotation = annotated(project, editor)
    body = flat(root.get(reverse("admin:annotate_annotation_change", args=[annotation.pk])))
    assert "<p>kind: killed · low: 6</p>" in body
    assert "Current relations" in body and "<p>SAID_BY</p>" in body
    assert "</span></span> at least six civilians <span" in body
    assert "</span></span> officials <span" in body


def test_the_span_and_version_pages_show_attributes_and_relations(project, editor, root):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed"])
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    annotation = annotated(project, editor)
    span = annotation.current_spans().get(label__key="CASUALTY")
    body = root.get(reverse("admin:annotate_span_change", args=[span.pk])).content.decode()
    assert "kind: killed · low: 6" in body
    version = annotation.versions.get(number=1)
    body = flat(root.get(reverse("admin:annotate_annotationversion_change", args=[version.pk])))
    assert "Relations at this version" in body and "(SAID_BY, new)" in body
    assert "<td>kind: killed · low: 6</td>" in body
