"""The schema page in a real browser: a manager adds an attribute through htmx, sees a
refusal in place, fixes it, and removes a relation type in use only to be told why not; no
step breaks the Content-Security-Policy."""

from __future__ import annotations

import pytest

from annotate.models import AttributeDefinition, Relation, RelationType, Role
from annotate.services.annotations import (
    RelationInput,
    SpanInput,
    annotation_for,
    save_annotation,
)

from ..factories import make_article, make_member, make_project, make_relation_type, make_user

pytestmark = pytest.mark.browser

TEXT = "Local officials said at least six civilians were killed in Deir ez-Zor."


def csp_problems(page) -> list[str]:
    """Console errors other than the refused form's own 400 (which is the point)."""
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text) if m.type == "error" and "status of 400" not in m.text else None
        ),
    )
    return problems


def test_a_manager_edits_the_schema_in_place(new_page, log_in):
    project = make_project("tolls")
    manager = make_member(project, make_user("manon"), Role.MANAGER)
    page = new_page()
    problems = csp_problems(page)
    log_in(page, manager)
    page.goto("/projects/tolls/")
    page.click("text=Schema")
    page.wait_for_url("**/projects/tolls/schema/")

    page.click("#label-CASUALTY >> text=Add an attribute")
    page.wait_for_selector("#schema-panel form")
    assert page.url.endswith("/schema/labels/CASUALTY/attributes/new/")  # pushed by htmx
    page.fill("#id_key", "qualifier")
    page.fill("#id_name", "Qualifier")
    page.select_option("#id_type", "choice")
    page.click("#schema-panel button[type=submit]")
    page.wait_for_selector("#schema-panel .errorlist")
    assert "needs a list of choices" in page.inner_text("#schema-panel")
    assert not AttributeDefinition.objects.exists()

    page.fill("#id_choices", "exact\nat_least\nabout")
    page.click("#schema-panel button[type=submit]")
    page.wait_for_selector("text=Attribute qualifier added to CASUALTY.")
    assert "exact, at_least, about" in page.inner_text("#label-CASUALTY")
    assert page.locator("#schema-panel").count() == 0
    assert page.url.endswith("/projects/tolls/schema/")
    assert problems == []


def test_a_relation_type_in_use_is_not_removed(new_page, log_in):
    project = make_project("tolls")
    manager = make_member(project, make_user("manon"), Role.MANAGER)
    editor = make_member(project, make_user("edith"), Role.EDITOR)
    said_by = make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    make_relation_type(project, "NEAR")
    article = make_article(project, TEXT, editors=[editor])
    save_annotation(
        annotation=annotation_for(article, editor),
        author=editor,
        role=Role.EDITOR,
        base_version=0,
        spans=[SpanInput(21, 43, "CASUALTY"), SpanInput(6, 15, "SOURCE")],
        relations=[RelationInput(0, 1, "SAID_BY")],
    )
    page = new_page()
    log_in(page, manager)
    page.goto("/projects/tolls/schema/")
    page.click(f"a[href$='/relation-types/{said_by.pk}/remove/']")
    page.wait_for_selector("#schema-panel")
    assert "cannot be removed: 1 stored relation uses it" in page.inner_text("#schema-panel")
    assert page.locator("#schema-panel button").count() == 0

    near = RelationType.objects.get(key="NEAR")
    page.click(f"a[href$='/relation-types/{near.pk}/remove/']")
    page.click("#schema-panel button[type=submit]")
    page.wait_for_selector("text=Relation type NEAR removed.")
    assert list(RelationType.objects.values_list("key", flat=True)) == ["SAID_BY"]
    assert Relation.objects.count() == 1
