"""Agreement on facts in the API, on the report page and in the CSV downloads."""

from __future__ import annotations

import csv
import io
import re

import pytest
import yaml
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .factories import make_article, make_attribute, make_relation_type
from .test_fact_agreement_store import FIGURE, OFFICIALS, TEXT, annotate

DAMASCUS = (65, 73, "LOCATION")


@pytest.fixture
def facts_project(project):
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed", "wounded"])
    make_attribute(project, "CASUALTY", "low", "integer", min=0)
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"])
    make_relation_type(project, "LOCATED_IN", ["CASUALTY"], ["LOCATION"])
    return project


@pytest.fixture
def compared(facts_project, editor, other_editor):
    """edith and otto agree on every fact of one article and on few of the other.

    Agreed: both mark 12 people (killed, low 12) SAID_BY officials.
    Disputed: edith as above; otto says wounded (low 12) and LOCATED_IN Damascus.
    """
    agreed = make_article(facts_project, TEXT, editors=[editor, other_editor], title="Agreed")
    disputed = make_article(
        facts_project, TEXT, editors=[editor, other_editor], title="Disputed", external_id="=x"
    )
    killed = (*FIGURE, {"kind": "killed", "low": 12})
    for article in (agreed, disputed):
        annotate(article, editor, [killed, OFFICIALS], [(0, 1, "SAID_BY")])
    annotate(agreed, other_editor, [killed, OFFICIALS], [(0, 1, "SAID_BY")])
    wounded = (*FIGURE, {"kind": "wounded", "low": 12})
    annotate(disputed, other_editor, [wounded, DAMASCUS], [(0, 1, "LOCATED_IN")])
    return agreed, disputed


def api_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def report(user, project, **params) -> dict:
    response = api_client(user).get(reverse("api-agreement", args=[project.slug]), params)
    assert response.status_code == 200, response.content
    return response.json()


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    return list(csv.reader(io.StringIO(response.content.decode())))


class TestApi:
    def test_relation_f1_overall_and_per_type_as_worked_out_by_hand(
        self, facts_project, reviewer, compared
    ):
        data = report(reviewer, facts_project)
        # SAID_BY: edith 2, otto 1, 1 exact match: 2·1 / 3. LOCATED_IN: otto's 1 unmatched.
        # Overall: 2·1 / (2 + 2).
        assert data["relations"] == {
            "f1_exact": 0.5,
            "f1_overlap": 0.5,
            "relations": 4,
            "types": {
                "SAID_BY": {"f1_exact": 0.666667, "f1_overlap": 0.666667, "relations": 3},
                "LOCATED_IN": {"f1_exact": 0.0, "f1_overlap": 0.0, "relations": 1},
            },
        }

    def test_attribute_agreement_as_worked_out_by_hand_with_null_alpha(
        self, facts_project, reviewer, compared
    ):
        data = report(reviewer, facts_project)
        # kind: (killed, killed), (killed, wounded): 1 of 2 equal; values killed ×3, wounded
        # ×1: alpha = 1 − (4 − 1)·2·(2 − 1) / (4² − 3² − 1²) = 0.
        assert data["attributes"]["CASUALTY.kind"] == {
            "pairs": 2,
            "agreement": 0.5,
            "krippendorff_alpha": 0.0,
            "one_given": 0,
            "level": "nominal",
            "type": "choice",
        }
        # low: 12 everywhere: all equal, and alpha undefined (no variation to explain).
        low = data["attributes"]["CASUALTY.low"]
        assert (low["pairs"], low["agreement"], low["krippendorff_alpha"]) == (2, 1.0, None)
        assert low["level"] == "interval"

    def test_pairs_carry_relation_f1_and_articles_are_ranked_by_facts(
        self, facts_project, reviewer, compared
    ):
        agreed, disputed = compared
        data = report(reviewer, facts_project)
        (pair,) = data["pairs"]
        assert (pair["relation_f1_exact"], pair["relations_a"], pair["relations_b"]) == (0.5, 2, 2)
        assert pair["relation_types"]["LOCATED_IN"]["f1_overlap"] == 0.0
        assert pair["attributes"]["CASUALTY.kind"]["agreement"] == 0.5
        # Disputed: 0 of 2 relations and 2 of 4 attribute values matched; agreed: all.
        assert [(a["id"], a["score"]) for a in data["facts_articles"]] == [
            (disputed.pk, 0.333333),
            (agreed.pk, 1.0),
        ]
        assert data["facts_articles"][0]["versions"] == {"edith": 1, "otto": 1}

    def test_a_label_filter_keeps_relations_and_attributes_of_those_labels(
        self, facts_project, reviewer, compared
    ):
        data = report(reviewer, facts_project, labels="CASUALTY,SOURCE")
        assert data["relations"]["types"]["SAID_BY"]["relations"] == 3
        assert data["relations"]["types"]["LOCATED_IN"] == {
            "f1_exact": None,
            "f1_overlap": None,
            "relations": 0,
        }
        assert set(data["attributes"]) == {"CASUALTY.kind", "CASUALTY.low"}
        assert [a["score"] for a in data["facts_articles"]] == [0.4, 1.0]
        assert report(reviewer, facts_project, labels="ACTOR")["attributes"] == {}

    def test_an_article_set_pools_only_those_articles(self, facts_project, reviewer, compared):
        agreed, _ = compared
        data = report(reviewer, facts_project, articles=str(agreed.pk))
        assert data["relations"]["f1_exact"] == 1.0
        assert data["attributes"]["CASUALTY.kind"]["krippendorff_alpha"] is None

    def test_without_facts_every_measure_is_null(self, facts_project, reviewer):
        data = report(reviewer, facts_project)
        assert data["relations"]["f1_exact"] is None
        assert data["relations"]["types"]["SAID_BY"]["f1_overlap"] is None
        assert data["attributes"]["CASUALTY.low"]["agreement"] is None
        assert data["attributes"]["CASUALTY.low"]["krippendorff_alpha"] is None
        assert data["facts_articles"] == []

    def test_the_schema_describes_relations_and_attributes(self, facts_project, reviewer):
        client = api_client(reviewer)
        schema = yaml.safe_load(client.get(reverse("api-schema")).content)
        report_schema = schema["components"]["schemas"]["AgreementReport"]
        assert {"relations", "attributes", "facts_articles"} <= set(report_schema["properties"])
        relations = schema["components"]["schemas"]["AgreementRelations"]["properties"]
        assert "Hripcsak" in relations["f1_exact"]["description"]


class TestPage:
    def test_the_page_shows_relations_attributes_and_fact_articles(
        self, client_for, facts_project, reviewer, compared
    ):
        body = client_for(reviewer).get(reverse("agreement", args=[facts_project.slug]))
        body = body.content.decode()
        assert "Facts: relations" in body and "Facts: attributes" in body
        row = re.search(r"<tr><th scope=\"row\">CASUALTY\.low</th>.*?</tr>", body).group(0)
        assert "n/a" in row  # alpha undefined
        row = re.search(r"<tr><th scope=\"row\">LOCATED_IN</th>.*?</tr>", body).group(0)
        assert "0.000" in row
        section = body[body.index("disagree most on facts") :]
        assert section.index("Disputed") < section.index("Agreed")
        assert "Relation F1, overlap" in body  # the definition
        assert "table=relations" in body and "table=facts" in body

    def test_the_htmx_fragment_has_the_fact_sections(
        self, client_for, facts_project, reviewer, compared
    ):
        response = client_for(reviewer).get(
            reverse("agreement", args=[facts_project.slug]), HTTP_HX_REQUEST="true"
        )
        body = response.content.decode()
        assert body.lstrip().startswith('<section id="agreement-report"')
        assert "Facts: attributes" in body

    def test_the_side_by_side_view_shows_the_articles_own_facts(
        self, client_for, facts_project, reviewer, compared
    ):
        _, disputed = compared
        url = reverse("agreement-article", args=[facts_project.slug, disputed.pk])
        body = client_for(reviewer).get(url).content.decode()
        assert "Facts score 0.333" in body
        facts = body[body.index("<h2>Facts</h2>") : body.index("<h2>Side by side</h2>")]
        row = re.search(r"<tr><td>edith</td><td>otto</td>.*?</tr>", facts, re.S).group(0)
        # No relation matched (0.000); kind 0 of 1 equal, low 1 of 1.
        assert row.count("0.000") == 3 and "1.000" in row

    def test_a_project_without_facts_shows_no_fact_sections(self, client_for, project, reviewer):
        body = client_for(reviewer).get(reverse("agreement", args=[project.slug]))
        assert "Facts: relations" not in body.content.decode()


class TestCsv:
    def test_pairs_csv_carries_relation_f1(self, client_for, facts_project, reviewer, compared):
        url = reverse("agreement-pairs-csv", args=[facts_project.slug])
        rows = read_csv(client_for(reviewer).get(url))
        assert rows[0][-4:] == [
            "relation_f1_exact",
            "relation_f1_overlap",
            "relations_a",
            "relations_b",
        ]
        assert rows[1][-4:] == ["0.5", "0.5", "2", "2"]

    def test_relations_per_type_pooled_then_per_pair(
        self, client_for, facts_project, reviewer, compared
    ):
        url = reverse("agreement-pairs-csv", args=[facts_project.slug])
        rows = read_csv(client_for(reviewer).get(url, {"table": "relations"}))
        assert rows[0] == ["a", "b", "type", "relations", "f1_exact", "f1_overlap"]
        # The schema's order: types by order, then key.
        assert rows[1] == ["(all)", "(all)", "LOCATED_IN", "1", "0.0", "0.0"]
        assert rows[2] == ["(all)", "(all)", "SAID_BY", "3", "0.666667", "0.666667"]
        assert ["edith", "otto", "LOCATED_IN", "1", "0.0", "0.0"] in rows

    def test_attributes_with_undefined_alpha_as_an_empty_cell(
        self, client_for, facts_project, reviewer, compared
    ):
        url = reverse("agreement-pairs-csv", args=[facts_project.slug])
        rows = read_csv(client_for(reviewer).get(url, {"table": "attributes"}))
        assert rows[0][:3] == ["a", "b", "attribute"]
        assert ["(all)", "(all)", "CASUALTY.low", "integer", "interval", "2", "1.0", "", "0"] in (
            rows
        )

    def test_articles_by_facts_with_formulas_neutralised(
        self, client_for, facts_project, reviewer, compared
    ):
        url = reverse("agreement-articles-csv", args=[facts_project.slug])
        rows = read_csv(client_for(reviewer).get(url, {"table": "facts"}))
        assert rows[0][3] == "facts_score"
        assert [row[1] for row in rows[1:]] == ["'=x", compared[0].external_id]

    def test_an_unknown_table_is_a_400(self, client_for, facts_project, reviewer, compared):
        url = reverse("agreement-pairs-csv", args=[facts_project.slug])
        response = client_for(reviewer).get(url, {"table": "people"})
        assert response.status_code == 400
        assert b"table must be one of" in response.content
