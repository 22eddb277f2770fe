"""The labelling page's facts (views/facts.py): each span's figure and relations in the span
list, the side panel of one span (values proposed from its words until the editor confirms
them), saving attributes, adding and removing relations, and what a changed schema shows."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate.models import AnnotationVersion, AttributeDefinition, Relation, Role, Span
from annotate.services.annotations import (
    RelationInput,
    SpanInput,
    annotation_for,
    full_state_of,
    save_annotation,
)
from annotate.versioning import SpanKey

from .factories import make_article, make_attribute, make_relation_type

HX = {"HTTP_HX_REQUEST": "true"}

# From the sample article (000_33d243c699f326a6): two figures and the sources that give them.
TEXT = (
    "The Observatory, which relies on a network of sources inside Syria, said seven fighters "
    "were killed in the strikes and at least six more were wounded.\n\n"
    "Syria's state-run SANA news agency said one child was killed."
)


def key_of(phrase: str, label: str) -> SpanKey:
    start = TEXT.index(phrase)
    return SpanKey(start, start + len(phrase), label)


OBSERVATORY = key_of("The Observatory", "SOURCE")
SEVEN = key_of("seven fighters were killed", "CASUALTY")
SIX = key_of("at least six more were wounded", "CASUALTY")
SANA = key_of("SANA news agency", "SOURCE")
WOUNDED_SIX = {"kind": "wounded", "low": 6, "qualifier": "at_least"}


@pytest.fixture
def schema(project):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed", "wounded"], order=0)
    make_attribute(project, "CASUALTY", "low", "integer", min=0, order=1)
    make_attribute(project, "CASUALTY", "high", "integer", min=0, order=2)
    qualifiers = ["exact", "at_least", "more_than", "about", "up_to", "range"]
    make_attribute(project, "CASUALTY", "qualifier", "choice", choices=qualifiers, order=3)
    make_attribute(project, "CASUALTY", "certain", "boolean", order=4)
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    return project


@pytest.fixture
def article(schema, editor, other_editor):
    return make_article(schema, TEXT, editors=[editor, other_editor], title="Strikes")


@pytest.fixture
def client(editor, client_for):
    return client_for(editor)


def annotate(article, editor, spans, relations=(), attributes=None):
    """Save the editor's annotation: spans (keys), relations (from, to, TYPE) as indexes."""
    annotation = annotation_for(article, editor)
    attributes = attributes or {}
    save_annotation(
        annotation=annotation,
        author=editor,
        role=Role.EDITOR,
        base_version=annotation.version,
        spans=[SpanInput(*k, attributes=attributes.get(k)) for k in spans],
        relations=[RelationInput(*r) for r in relations],
    )
    annotation.refresh_from_db()
    return annotation


def span_id(annotation, key: SpanKey) -> int:
    return annotation.current_spans().get(start=key.start, end=key.end, label__key=key.label).pk


def version_of(annotation) -> int:
    annotation.refresh_from_db()
    return annotation.version


def attributes_of(annotation, key: SpanKey) -> dict:
    annotation.refresh_from_db()
    return full_state_of(annotation).attributes_of(key)


def facts_url(article, span: int) -> str:
    return f"/articles/{article.pk}/spans/{span}/facts/"


def attributes_url(article, span: int) -> str:
    return f"/articles/{article.pk}/spans/{span}/attributes/"


def relation_add_url(article) -> str:
    return f"/articles/{article.pk}/relations/"


def relation_delete_url(article, relation: int) -> str:
    return f"/articles/{article.pk}/relations/{relation}/delete/"


def form(base: int, **values) -> dict:
    return {"base_version": str(base), "request_key": str(uuid.uuid4()), **values}


@pytest.fixture
def said_by(article, editor):
    """Version 1: the wounded figure (with its values) said by the Observatory."""
    return annotate(
        article, editor, [SIX, OBSERVATORY, SEVEN], [(0, 1, "SAID_BY")], {SIX: WOUNDED_SIX}
    )


# The span list and the text


def test_span_list_shows_each_figure_and_its_relations_both_ways(client, article, said_by):
    html = client.get(f"/articles/{article.pk}/").content.decode()
    assert '<span class="figure" title="Attributes">≥6 wounded</span>' in html
    assert "said by → <a" in html and ">The Observatory</a>" in html
    assert "← said by: <a" in html and ">at least six more were wounded</a>" in html
    # The figure without values says so; the remove buttons post to the relation's address.
    assert "attributes not given" in html
    relation = Relation.objects.get(annotation=said_by)
    assert html.count(f'formaction="/articles/{article.pk}/relations/{relation.pk}/delete/"') == 2
    assert f'data-linked="{span_id(said_by, OBSERVATORY)}"' in html


def test_a_figure_reads_at_a_glance_in_the_title_of_its_mark(client, article, said_by):
    html = client.get(f"/articles/{article.pk}/").content.decode()
    assert 'title="CASUALTY: at least six more were wounded · ≥6 wounded"' in html


def test_the_page_holds_the_facts_settings_for_the_script(client, article, said_by):
    html = client.get(f"/articles/{article.pk}/").content.decode()
    assert 'id="facts-config"' in html and '"key": "SAID_BY"' in html
    assert '"from": ["CASUALTY"], "to": ["SOURCE"]' in html
    assert "js/facts.js" in html and 'id="facts-panel"' in html


def test_other_editors_never_see_the_editors_facts(article, said_by, other_editor, client_for):
    html = client_for(other_editor).get(f"/articles/{article.pk}/").content.decode()
    assert "≥6 wounded" not in html and "said by →" not in html


def test_page_queries_do_not_grow_with_relations(client, article, editor):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/articles/{article.pk}/").status_code == 200
        return len(captured)

    annotate(article, editor, [SIX, OBSERVATORY], [(0, 1, "SAID_BY")], {SIX: WOUNDED_SIX})
    few = queries()
    annotate(
        article,
        editor,
        [SIX, OBSERVATORY, SEVEN, SANA],
        [(0, 1, "SAID_BY"), (2, 1, "SAID_BY"), (0, 3, "SAID_BY"), (2, 3, "SAID_BY")],
        {SIX: WOUNDED_SIX, SEVEN: {"kind": "killed", "low": 7}},
    )
    assert queries() == few


# The side panel of one span


def test_panel_fragment_proposes_values_for_a_figure_and_saves_nothing(client, article, editor):
    annotation = annotate(article, editor, [SIX, OBSERVATORY])
    response = client.get(facts_url(article, span_id(annotation, SIX)), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "not saved yet" in html and "Confirm attributes" in html
    assert '<span class="figure is-proposed" title="Proposed, not saved">≥6 wounded</span>' in html
    assert '<option value="wounded" selected>' in html
    assert 'name="attr-low" step="1" inputmode="numeric" min="0" value="6"' in html
    assert attributes_of(annotation, SIX) == {}
    assert AnnotationVersion.objects.filter(annotation=annotation).count() == 1


def test_panel_full_page_shows_saved_values_and_relations(client, article, said_by):
    response = client.get(facts_url(article, span_id(said_by, SIX)))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "Save attributes" in html and "not saved yet" not in html
    assert '<span class="figure" title="Saved">≥6 wounded</span>' in html
    assert "Remove the relation said by → The Observatory" in html


def test_the_span_page_leads_to_its_facts_without_javascript(client, article, said_by):
    six = span_id(said_by, SIX)
    html = client.get(f"/articles/{article.pk}/spans/{six}/").content.decode()
    assert f'href="{facts_url(article, six)}"' in html


def test_panel_offers_the_relations_a_span_could_get(client, article, said_by):
    html = client.get(facts_url(article, span_id(said_by, SEVEN)), **HX).content.decode()
    observatory = span_id(said_by, OBSERVATORY)
    assert f'<option value="SAID_BY&gt;{observatory}">said by → The Observatory</option>' in html


def test_panel_of_a_span_no_longer_current_is_404(client, article, editor, said_by):
    old = span_id(said_by, SEVEN)
    annotate(article, editor, [SIX, OBSERVATORY], [(0, 1, "SAID_BY")])
    response = client.get(facts_url(article, old), **HX)
    assert response.status_code == 404


def test_panel_of_another_editors_span_is_404(article, said_by, other_editor, client_for):
    response = client_for(other_editor).get(facts_url(article, span_id(said_by, SIX)))
    assert response.status_code == 404


def test_values_that_no_longer_fit_the_schema_show_a_warning(client, article, said_by):
    AttributeDefinition.objects.filter(key="kind").update(choices=["killed", "missing"])
    page = client.get(f"/articles/{article.pk}/")
    assert page.status_code == 200
    assert "⚠ no longer fits" in page.content.decode()
    panel = client.get(facts_url(article, span_id(said_by, SIX)), **HX).content.decode()
    assert "No longer fits the schema:" in panel and "kind must be one of killed, missing" in panel
    assert '<option value="wounded" selected>wounded (no longer a choice)</option>' in panel


# Saving attributes


def test_saving_attributes_makes_one_version_and_answers_the_workspace(client, article, said_by):
    six = span_id(said_by, SIX)
    response = client.post(
        attributes_url(article, six),
        form(
            1,
            **{
                "attr-kind": "wounded",
                "attr-low": "6",
                "attr-high": "",
                "attr-qualifier": "about",
                "attr-certain": ["", "1"],
            },
        ),
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.strip().startswith('<div id="workspace"')
    values = {"kind": "wounded", "low": 6, "qualifier": "about", "certain": True}
    assert attributes_of(said_by, SIX) == values
    assert version_of(said_by) == 2
    # The span has a new row under the same key: the workspace focuses it, with its panel.
    new = span_id(said_by, SIX)
    assert f'data-focus="{new}"' in html and f'<div class="facts-box" data-span="{new}"' in html
    assert "Attributes saved." in html and "~6 wounded" in html
    assert Relation.objects.filter(annotation=said_by, removed_in__isnull=True).count() == 1


def test_confirming_proposed_values_saves_them_as_the_editors(client, article, editor):
    annotation = annotate(article, editor, [SIX])
    panel = client.get(facts_url(article, span_id(annotation, SIX)), **HX).content.decode()
    assert "not saved yet" in panel
    # What the form holds as proposed, sent back unchanged: the editor's Enter.
    proposed = {
        "attr-kind": "wounded",
        "attr-low": "6",
        "attr-high": "",
        "attr-qualifier": "at_least",
        "attr-certain": "",
    }
    response = client.post(attributes_url(article, span_id(annotation, SIX)), form(1, **proposed))
    assert response.status_code == 302
    assert attributes_of(annotation, SIX) == {**WOUNDED_SIX, "certain": False}
    panel = client.get(facts_url(article, span_id(annotation, SIX)), **HX).content.decode()
    assert "not saved yet" not in panel and "Save attributes" in panel


def test_attributes_full_form_post_redirects_back_with_a_message(client, article, said_by):
    response = client.post(
        attributes_url(article, span_id(said_by, SEVEN)),
        form(1, **{"attr-kind": "killed", "attr-low": "7"}),
        follow=True,
    )
    assert response.redirect_chain == [(f"/articles/{article.pk}/", 302)]
    assert "Attributes saved." in response.content.decode()
    assert attributes_of(said_by, SEVEN) == {"kind": "killed", "low": 7, "certain": False}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"attr-low": "six"}, "Low must be a whole number"),
        ({"attr-low": "-3"}, "low must be at least 0"),
        ({"attr-kind": "drowned"}, "kind must be one of killed, wounded"),
    ],
)
def test_values_that_do_not_fit_are_refused_with_a_message(
    client, article, said_by, values, message
):
    response = client.post(attributes_url(article, span_id(said_by, SIX)), form(1, **values), **HX)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response["HX-Retarget"] == "#labelling-alerts"
    assert attributes_of(said_by, SIX) == WOUNDED_SIX and version_of(said_by) == 1


def test_stale_attributes_are_refused_with_409(client, article, editor, said_by):
    six = span_id(said_by, SIX)
    # Another tab changed the same figure meanwhile (version 2).
    annotate(
        article,
        editor,
        [SIX, OBSERVATORY, SEVEN],
        [(0, 1, "SAID_BY")],
        {SIX: {**WOUNDED_SIX, "low": 7}},
    )
    response = client.post(attributes_url(article, six), form(1, **{"attr-low": "8"}), **HX)
    html = response.content.decode()
    assert response.status_code == 409
    assert "changed since" in html and "Reload" in html
    assert attributes_of(said_by, SIX)["low"] == 7 and version_of(said_by) == 2


def test_attributes_of_another_span_merge_with_a_change_made_meanwhile(
    client, article, editor, said_by
):
    seven = span_id(said_by, SEVEN)
    annotate(
        article,
        editor,
        [SIX, OBSERVATORY, SEVEN],
        [(0, 1, "SAID_BY")],
        {SIX: {**WOUNDED_SIX, "low": 7}},
    )
    response = client.post(
        attributes_url(article, seven), form(1, **{"attr-kind": "killed", "attr-low": "7"}), **HX
    )
    assert response.status_code == 200 and "Merged" in response.content.decode()
    assert attributes_of(said_by, SEVEN)["low"] == 7 and attributes_of(said_by, SIX)["low"] == 7


# Relations


def test_adding_a_relation_makes_one_version(client, article, said_by):
    seven, observatory = span_id(said_by, SEVEN), span_id(said_by, OBSERVATORY)
    response = client.post(
        relation_add_url(article),
        form(1, from_span=str(seven), to_span=str(observatory), type="SAID_BY"),
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Relation saved." in html
    assert version_of(said_by) == 2 and html.count("said by → <a") == 2


def test_a_relation_chosen_from_the_list_may_point_either_way(client, article, said_by):
    observatory, seven = span_id(said_by, OBSERVATORY), span_id(said_by, SEVEN)
    # From the Observatory's panel: "← said by: seven fighters were killed".
    response = client.post(
        relation_add_url(article), form(1, from_span=str(observatory), target=f"SAID_BY<{seven}")
    )
    assert response.status_code == 302
    ends = Relation.objects.filter(annotation=said_by, removed_in__isnull=True)
    assert sorted(ends.values_list("from_start", "to_start")) == [(SEVEN.start, 0), (SIX.start, 0)]


@pytest.mark.parametrize(
    ("ends", "message"),
    [
        (("OBSERVATORY", "SIX", "SAID_BY"), "SAID_BY cannot start from a SOURCE span"),
        (("SIX", "OBSERVATORY", "SAID_BY"), "already related as SAID_BY"),
        (("SEVEN", "OBSERVATORY", "LOCATED_IN"), "LOCATED_IN"),
    ],
)
def test_relations_that_do_not_fit_are_refused(client, article, said_by, ends, message):
    spans = {"SEVEN": SEVEN, "SIX": SIX, "OBSERVATORY": OBSERVATORY}
    ids = [str(span_id(said_by, spans[e])) if e in spans else "999999" for e in ends[:2]]
    response = client.post(
        relation_add_url(article), form(1, from_span=ids[0], to_span=ids[1], type=ends[2]), **HX
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert version_of(said_by) == 1


def test_a_relation_to_a_span_not_in_the_annotation_is_404(client, article, said_by):
    seven = span_id(said_by, SEVEN)
    response = client.post(
        relation_add_url(article), form(1, from_span=str(seven), to_span="999999", type="SAID_BY")
    )
    assert response.status_code == 404 and version_of(said_by) == 1


@pytest.mark.parametrize(
    "values",
    [
        {"to_span": "seven"},
        {"to_span": "-1"},
        {"from_span": ""},
        {"target": "SAID_BY"},
        {"target": "SAID_BY>x"},
    ],
)
def test_relation_ends_that_are_not_ids_are_refused(client, article, said_by, values):
    base = {
        "from_span": str(span_id(said_by, SEVEN)),
        "to_span": str(span_id(said_by, OBSERVATORY)),
    }
    response = client.post(relation_add_url(article), form(1, **{**base, **values}), **HX)
    assert response.status_code == 400
    assert "Not saved." in response.content.decode() and version_of(said_by) == 1


def test_a_relation_between_another_editors_spans_is_404(client, article, said_by, other_editor):
    theirs = annotate(article, other_editor, [SEVEN, SANA])
    response = client.post(
        relation_add_url(article),
        form(
            1,
            from_span=str(span_id(theirs, SEVEN)),
            to_span=str(span_id(theirs, SANA)),
            type="SAID_BY",
        ),
    )
    assert response.status_code == 404


def test_removing_a_relation_makes_one_version(client, article, said_by):
    relation = Relation.objects.get(annotation=said_by)
    response = client.post(relation_delete_url(article, relation.pk), form(1), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "Relation removed." in html
    assert not Relation.objects.filter(annotation=said_by, removed_in__isnull=True).exists()
    assert "said by →" not in html


def test_a_relation_to_a_span_deleted_meanwhile_is_refused_with_409(
    client, article, editor, said_by
):
    seven, observatory = span_id(said_by, SEVEN), span_id(said_by, OBSERVATORY)
    annotate(article, editor, [SIX, OBSERVATORY], [(0, 1, "SAID_BY")])  # in another tab
    response = client.post(
        relation_add_url(article),
        form(1, from_span=str(seven), to_span=str(observatory), type="SAID_BY"),
        **HX,
    )
    assert response.status_code == 409 and "Reload" in response.content.decode()
    assert Relation.objects.filter(annotation=said_by, removed_in__isnull=True).count() == 1


def test_removing_a_relation_already_removed_meanwhile_changes_nothing(
    client, article, editor, said_by
):
    relation = Relation.objects.get(annotation=said_by)
    annotate(article, editor, [SIX, OBSERVATORY, SEVEN], [])  # removed in another tab
    response = client.post(relation_delete_url(article, relation.pk), form(1), **HX)
    assert response.status_code == 200 and version_of(said_by) == 2


def test_another_editors_relation_cannot_be_removed(article, said_by, other_editor, client_for):
    relation = Relation.objects.get(annotation=said_by)
    response = client_for(other_editor).post(relation_delete_url(article, relation.pk), form(1))
    assert response.status_code == 404
    assert Relation.objects.filter(pk=relation.pk, removed_in__isnull=True).exists()


def test_deleting_a_span_removes_its_relations_and_says_so(client, article, said_by):
    observatory = span_id(said_by, OBSERVATORY)
    response = client.post(f"/articles/{article.pk}/spans/{observatory}/delete/", form(1), **HX)
    assert response.status_code == 200
    assert "Its relation (SAID_BY) was removed with it." in response.content.decode()
    assert not Relation.objects.filter(annotation=said_by, removed_in__isnull=True).exists()
    assert not Span.objects.filter(pk=observatory, removed_in__isnull=True).exists()


def test_removing_a_relation_with_a_plain_form_redirects_back(client, article, said_by):
    relation = Relation.objects.get(annotation=said_by)
    response = client.post(relation_delete_url(article, relation.pk), form(1), follow=True)
    assert response.redirect_chain == [(f"/articles/{article.pk}/", 302)]
    assert "Relation removed." in response.content.decode()
    assert version_of(said_by) == 2


def test_a_refused_plain_form_shows_the_page_with_the_reason(client, article, said_by):
    response = client.post(
        attributes_url(article, span_id(said_by, SIX)), form(1, **{"attr-low": "six"})
    )
    html = response.content.decode()
    assert response.status_code == 400 and "<html" in html and 'id="workspace"' in html
    assert "Not saved." in html and "Low must be a whole number" in html
