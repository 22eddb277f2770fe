"""A reviewer adjudicates a relation in a real browser: sees which source each editor
linked the figure to (the disagreement marked), switches by key whose facts an accepted span
takes, accepts the spans by keyboard, then accepts the relation the choice left out and
removes another. The gold in the database must be exactly what the page showed."""

from __future__ import annotations

import pytest

from annotate.models import Role
from annotate.services.annotations import full_state_of, gold_for

from ..factories import (
    make_article,
    make_attribute,
    make_member,
    make_project,
    make_relation_type,
    make_user,
)
from ..test_review_facts import (
    FIGURE,
    OBSERVATORY,
    SAID_BY_OBSERVATORY,
    SAID_BY_SANA,
    SANA,
    TEXT,
    submit,
)

pytestmark = pytest.mark.browser


def test_reviewer_adjudicates_a_relation(new_page, log_in):
    from playwright.sync_api import expect

    project = make_project("demo-news")
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    edith = make_member(project, make_user("edith"), Role.EDITOR)
    otto = make_member(project, make_user("otto"), Role.EDITOR)
    rita = make_member(project, make_user("rita"), Role.REVIEWER)
    article = make_article(project, TEXT, title="Wounded", editors=[edith, otto])
    submit(article, edith, {"low": 6}, SANA)
    submit(article, otto, {"low": 6}, OBSERVATORY)

    page = new_page()
    log_in(page, rita)
    page.goto(f"/articles/{article.pk}/review/")
    base = page.locator('input[name="base_version"]')
    expect(base).to_have_value("0")
    page.wait_for_load_state("load")
    loads = []
    page.on("load", lambda _: loads.append(page.url))

    figure_row = page.locator(f"#c{FIGURE.start}-{FIGURE.end}-CASUALTY")
    differing = figure_row.locator(".fact-relation.differs")
    expect(differing).to_have_count(2)
    expect(differing.first).to_contain_text("SAID_BY → SANA")
    expect(differing.first).to_contain_text("(differs)")
    expect(differing.last).to_contain_text("SAID_BY → The Observatory")

    # `f` on a row: from the majority to edith's facts.
    figure_row.focus()
    page.keyboard.press("f")
    expect(page.locator("#facts-from")).to_have_value("edith")
    # Accept the figure and both sources by keyboard.
    for key in (FIGURE, SANA, OBSERVATORY):
        version = int(base.input_value())
        row = page.locator(f"#c{key.start}-{key.end}-{key.label}")
        row.focus()
        page.keyboard.press("a")
        expect(base).to_have_value(str(version + 1))
    expect(page.locator(".gold-table")).to_contain_text("SAID_BY → SANA (from edith)")
    assert full_state_of(gold_for(article)).relations == {SAID_BY_SANA}

    # otto's relation is offered now that both its ends are in the gold.
    offer = page.locator(".relation-offer", has_text="The Observatory")
    expect(offer).to_contain_text("otto")
    offer.focus()
    page.keyboard.press("a")
    expect(base).to_have_value("4")
    expect(page.locator(".gold-table")).to_contain_text("(from otto)")

    # Remove the SANA relation: it was the wrong source after all.
    page.get_by_role("button", name="Remove relation SAID_BY to SANA").click()
    expect(base).to_have_value("5")
    expect(page.locator(".gold-table")).not_to_contain_text("SAID_BY → SANA")
    assert loads == []

    state = full_state_of(gold_for(article))
    assert state.relations == {SAID_BY_OBSERVATORY}
    assert state.attributes_of(FIGURE) == {"low": 6}
