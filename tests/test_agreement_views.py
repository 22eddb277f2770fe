"""The agreement page, the side-by-side view, the CSV downloads and the API."""

from __future__ import annotations

import csv
import io
import re

import pytest
import yaml
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotate.models import ArticleAgreement, Role

from .factories import make_annotation, make_article, make_member, make_user

HX = {"HTTP_HX_REQUEST": "true"}
TEXT = "Rebels shelled Aleppo on Monday, killing 12 people."


@pytest.fixture
def compared(project, editor, other_editor):
    """Two articles both editors submitted: one they agree on, one they do not."""
    agreed = make_article(project, TEXT, editors=[editor, other_editor], title="Agreed")
    disputed = make_article(
        project, TEXT, editors=[editor, other_editor], title="Disputed", external_id="=cmd"
    )
    make_annotation(agreed, editor, [(0, 6, "ACTOR"), (15, 21, "LOCATION")], submit=True)
    make_annotation(agreed, other_editor, [(0, 6, "ACTOR"), (15, 21, "LOCATION")], submit=True)
    make_annotation(disputed, editor, [(0, 6, "ACTOR"), (41, 43, "CASUALTY")], submit=True)
    make_annotation(disputed, other_editor, [(0, 14, "SOURCE")], submit=True)
    return agreed, disputed


def url(project, name="agreement", **kwargs):
    return reverse(name, kwargs={"slug": project.slug, **kwargs})


class TestPage:
    def test_reviewers_see_the_full_page(self, client_for, project, reviewer, compared):
        response = client_for(reviewer).get(url(project))
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" in body and 'id="agreement-report"' in body
        assert "Krippendorff" in body and "<svg" in body
        assert "HX-Request" in response.headers["Vary"]
        # Worst first: the disputed article is listed before the agreed one.
        assert body.index("Disputed") < body.index("Agreed")
        assert reverse("agreement-article", args=[project.slug, compared[1].pk]) in body

    def test_htmx_gets_the_report_fragment(self, client_for, project, manager, compared):
        response = client_for(manager).get(url(project), {"unit": "char"}, **HX)
        body = response.content.decode()
        assert response.status_code == 200
        assert body.lstrip().startswith('<section id="agreement-report"')
        assert "<html" not in body
        assert "characters" in body

    def test_filters_apply(self, client_for, project, reviewer, compared):
        response = client_for(reviewer).get(url(project), {"labels": ["ACTOR"]}, **HX)
        body = response.content.decode()
        assert "LOCATION</span></th>" not in body
        assert "ACTOR</span></th>" in body

    def test_a_bad_filter_is_a_400_with_a_message(self, client_for, project, reviewer, compared):
        response = client_for(reviewer).get(url(project), {"labels": "NOPE"})
        assert response.status_code == 400
        assert "Unknown label: NOPE" in response.content.decode()

    def test_no_compared_article_says_so(self, client_for, project, reviewer):
        response = client_for(reviewer).get(url(project))
        assert response.status_code == 200
        assert "No article has been submitted by two" in response.content.decode()
        assert "n/a" in response.content.decode()

    def test_charts_use_no_inline_style(self, client_for, project, reviewer, compared):
        body = client_for(reviewer).get(url(project)).content.decode()
        assert "style=" not in body
        assert "<script>" not in body

    def test_editors_are_refused(self, client_for, project, editor, compared):
        assert client_for(editor).get(url(project)).status_code == 403

    def test_outsiders_get_404(self, client_for, project, outsider, compared):
        assert client_for(outsider).get(url(project)).status_code == 404

    def test_anonymous_users_are_sent_to_log_in(self, client, project):
        response = client.get(url(project))
        assert response.status_code == 302 and "login" in response.url


class TestSideBySide:
    def test_it_marks_agreement_and_disagreement(self, client_for, project, reviewer, compared):
        _, disputed = compared
        response = client_for(reviewer).get(
            url(project, "agreement-article", article_id=disputed.pk)
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "edith" in body and "otto" in body
        assert re.search(r'lbl-CASUALTY ag-missed"', body)  # nobody else marked it
        assert re.search(r'lbl-ACTOR ag-missed ag-relabel"', body)  # SOURCE for the other
        assert reverse("label-css", args=[project.slug]) in body

    def test_agreed_spans_are_marked_exact(self, client_for, project, reviewer, compared):
        agreed, _ = compared
        body = (
            client_for(reviewer)
            .get(url(project, "agreement-article", article_id=agreed.pk))
            .content.decode()
        )
        assert len(re.findall(r'lbl-\w+ ag-exact"', body)) == 4
        assert not re.search(r"lbl-\w+ ag-(missed|partial)", body)

    def test_editors_cannot_see_each_others_work(self, client_for, project, editor, compared):
        response = client_for(editor).get(
            url(project, "agreement-article", article_id=compared[0].pk)
        )
        assert response.status_code == 403

    def test_an_article_of_another_project_is_404(self, client_for, project, reviewer, outsider):
        other = make_article(outsider.memberships.get().project, TEXT)
        response = client_for(reviewer).get(url(project, "agreement-article", article_id=other.pk))
        assert response.status_code == 404


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


class TestCsv:
    def test_articles_csv_lists_every_article_with_formulas_neutralised(
        self, client_for, project, reviewer, compared
    ):
        response = client_for(reviewer).get(url(project, "agreement-articles-csv"))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = read_csv(response)
        assert rows[0] == ["article", "external_id", "title", "score", "editors", "versions"]
        external_ids = [row[1] for row in rows[1:]]
        assert "'=cmd" in external_ids  # would have been a formula
        assert len(rows) == 3

    def test_pairs_csv_has_one_row_per_pair(self, client_for, project, reviewer, compared):
        rows = read_csv(client_for(reviewer).get(url(project, "agreement-pairs-csv")))
        assert rows[0][:3] == ["a", "b", "articles"]
        assert rows[1][:3] == ["edith", "otto", "2"]

    def test_usernames_that_look_like_formulas_are_neutralised(self, client_for, project, reviewer):
        sneaky = make_member(project, make_user("@sum"), Role.EDITOR)
        plain = make_member(project, make_user("zed"), Role.EDITOR)
        article = make_article(project, TEXT, editors=[sneaky, plain])
        make_annotation(article, sneaky, [(0, 6, "ACTOR")], submit=True)
        make_annotation(article, plain, [(0, 6, "ACTOR")], submit=True)
        rows = read_csv(client_for(reviewer).get(url(project, "agreement-pairs-csv")))
        assert rows[1][0] == "'@sum"

    def test_csv_is_for_reviewers_only(self, client_for, project, editor, compared):
        assert client_for(editor).get(url(project, "agreement-pairs-csv")).status_code == 403

    def test_a_bad_filter_is_a_400(self, client_for, project, reviewer, compared):
        response = client_for(reviewer).get(url(project, "agreement-pairs-csv"), {"unit": "x"})
        assert response.status_code == 400


def api_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def api_url(project) -> str:
    return reverse("api-agreement", kwargs={"slug": project.slug})


class TestApi:
    def test_it_returns_the_contract_shape(self, project, reviewer, compared):
        response = api_client(reviewer).get(api_url(project), {"unit": "char"})
        assert response.status_code == 200
        data = response.json()
        assert data["unit"] == "char"
        assert data["articles_compared"] == 2
        measures = {
            "f1_exact",
            "f1_overlap",
            "cohen_kappa",
            "fleiss_kappa",
            "krippendorff_alpha",
            "alpha_u",
        }
        assert set(data["overall"]) == measures
        assert set(data["labels"]) == {"ACTOR", "LOCATION", "CASUALTY", "SOURCE"}
        assert all(set(values) == measures for values in data["labels"].values())
        pair = data["pairs"][0]
        assert {"a", "b", "articles", "f1_exact", "f1_overlap", "cohen_kappa"} <= set(pair)
        assert (pair["a"], pair["b"], pair["articles"]) == ("edith", "otto", 2)
        assert {"id", "external_id", "score"} <= set(data["articles"][0])
        agreed, disputed = compared
        assert data["versions"] == {
            str(agreed.pk): {"edith": 1, "otto": 1},
            str(disputed.pk): {"edith": 1, "otto": 1},
        }

    def test_undefined_measures_are_null(self, project, reviewer, compared):
        data = api_client(reviewer).get(api_url(project)).json()
        # A label one editor used and the other did not: a real 0, not undefined.
        assert data["labels"]["CASUALTY"]["f1_exact"] == 0.0
        filtered = (
            api_client(reviewer)
            .get(api_url(project), {"articles": str(compared[0].pk), "labels": "SOURCE"})
            .json()
        )
        assert filtered["labels"]["SOURCE"]["f1_exact"] is None
        assert filtered["labels"]["SOURCE"]["cohen_kappa"] is None
        assert filtered["labels"]["SOURCE"]["krippendorff_alpha"] is None
        assert filtered["labels"]["SOURCE"]["alpha_u"] is None

    def test_an_empty_project_has_nulls_and_no_articles(self, project, reviewer):
        data = api_client(reviewer).get(api_url(project)).json()
        assert data["articles_compared"] == 0
        assert data["overall"] == {
            "f1_exact": None,
            "f1_overlap": None,
            "cohen_kappa": None,
            "fleiss_kappa": None,
            "krippendorff_alpha": None,
            "alpha_u": None,
        }
        assert data["pairs"] == [] and data["articles"] == []

    def test_filters_by_labels_and_editors(self, project, reviewer, compared):
        data = (
            api_client(reviewer)
            .get(api_url(project), {"labels": "ACTOR,SOURCE", "editors": "edith,otto"})
            .json()
        )
        assert set(data["labels"]) == {"ACTOR", "SOURCE"}

    def test_bad_parameters_are_400_with_a_detail(self, project, reviewer, compared):
        client = api_client(reviewer)
        for params in ({"unit": "word"}, {"labels": "NOPE"}, {"editors": "ghost"}, {"x": "1"}):
            response = client.get(api_url(project), params)
            assert response.status_code == 400, params
            assert response.json()["detail"]

    def test_editors_get_403_and_outsiders_404(self, project, editor, outsider, compared):
        assert api_client(editor).get(api_url(project)).status_code == 403
        assert api_client(outsider).get(api_url(project)).status_code == 404

    def test_anonymous_callers_get_401(self, project):
        assert APIClient().get(api_url(project)).status_code == 401

    def test_the_schema_describes_the_endpoint(self, project, reviewer):
        client = api_client(reviewer)
        schema = yaml.safe_load(client.get(reverse("api-schema")).content)
        operation = schema["paths"]["/api/projects/{slug}/agreement/"]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"unit", "labels", "editors", "articles"} <= names


class TestAdmin:
    def test_the_article_list_shows_the_score_and_sorts_by_it(
        self, client_for, admin_user, project, compared
    ):
        agreed, disputed = compared
        changelist = reverse("admin:annotate_article_changelist")
        client = client_for(admin_user)
        column = client.get(changelist).context["cl"].list_display.index("agreement")
        body = client.get(changelist, {"o": str(column)}).content.decode()
        assert "agreement (α)" in body.lower()
        low = f"{ArticleAgreement.objects.get(article=disputed, unit='token').score:.3f}"
        assert low in body and "1.000" in body
        assert body.index(low) < body.index("1.000")
        body = client.get(changelist, {"o": f"-{column}"}).content.decode()
        assert body.index("1.000") < body.index(low)
