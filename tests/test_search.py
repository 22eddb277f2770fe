"""Full-text search: who finds what, ranking, snippets, hostile queries; the page and the API."""

from __future__ import annotations

import contextlib

import pytest
import yaml
from django.db import connection

from annotate.models import Article, Role
from annotate.services.article_search import search_articles

from .factories import make_article, make_member, make_user

ALEPPO = "Rebels shelled Aleppo on Monday. Three people were killed in the old city."
HOMS = "An air strike hit a market in Homs; the Syrian Observatory said <b>twelve</b> died."
BAGHDAD = "قال مسؤولون إن انفجاراً وقع في بغداد. Kataeb Hezbollah denied any role in Baghdad."


@pytest.fixture
def articles(project, editor, other_editor):
    return {
        "aleppo": make_article(project, ALEPPO, title="Shelling in Aleppo", editors=[editor]),
        "homs": make_article(project, HOMS, title="Market strike", editors=[other_editor]),
        "baghdad": make_article(project, BAGHDAD, title="Blast", editors=[editor, other_editor]),
    }


def found(user, role, text, project):
    return [hit.id for hit in search_articles(project=project, user=user, role=role, text=text)]


def test_editors_find_only_their_own_queue(project, editor, other_editor, articles):
    assert found(editor, Role.EDITOR, "killed or died", project) == [articles["aleppo"].pk]
    assert found(other_editor, Role.EDITOR, "killed or died", project) == [articles["homs"].pk]


@pytest.mark.parametrize("queued", [2, 12])
def test_an_editor_finds_their_queue_whether_it_or_the_word_is_the_smaller(
    project, editor, other_editor, queued
):
    """A word in 12 of 14 articles: with 2 of them queued the queue drives the lookup, with
    12 queued the index does; the hits are the same either way."""
    mine = [make_article(project, ALEPPO, editors=[editor]) for _ in range(queued)]
    for _ in range(12 - queued):
        make_article(project, ALEPPO, editors=[other_editor])
    make_article(project, HOMS, editors=[editor])
    make_article(project, HOMS, editors=[other_editor])
    results = search_articles(project=project, user=editor, role=Role.EDITOR, text="Aleppo")
    assert len(results) == queued
    assert sorted(hit.id for hit in results[0:20]) == sorted(a.pk for a in mine)
    assert found(editor, Role.EDITOR, "Homs", project) != []


def test_reviewers_find_every_article_of_the_project(project, reviewer, articles, outsider):
    make_article(outsider.memberships.get().project, ALEPPO, title="Elsewhere")
    hits = found(reviewer, Role.REVIEWER, "killed or died", project)
    assert sorted(hits) == sorted([articles["aleppo"].pk, articles["homs"].pk])


def test_title_and_text_are_both_searched(project, reviewer, articles):
    assert found(reviewer, Role.REVIEWER, "market strike", project) == [articles["homs"].pk]
    assert found(reviewer, Role.REVIEWER, "blast", project) == [articles["baghdad"].pk]


def test_case_is_ignored_accents_and_endings_are_not(project, reviewer):
    make_article(project, "Le président a parlé à Beyrouth.", title="Liban")
    assert len(found(reviewer, Role.REVIEWER, "PRÉSIDENT", project)) == 1
    assert found(reviewer, Role.REVIEWER, "president", project) == []
    assert found(reviewer, Role.REVIEWER, "parle", project) == []


def test_a_phrase_must_occur_as_written(project, reviewer, articles):
    assert found(reviewer, Role.REVIEWER, '"Kataeb Hezbollah"', project) == [articles["baghdad"].pk]
    assert found(reviewer, Role.REVIEWER, '"Hezbollah Kataeb"', project) == []


def test_excluded_words_remove_articles(project, reviewer, articles):
    assert found(reviewer, Role.REVIEWER, "the -Homs", project) == [articles["aleppo"].pk]


def test_arabic_is_searched_word_by_word(project, reviewer, articles):
    assert found(reviewer, Role.REVIEWER, "بغداد", project) == [articles["baghdad"].pk]


def test_better_matches_come_first(project, reviewer):
    once = make_article(project, "Aleppo. " + "Other news. " * 50, title="Roundup")
    often = make_article(project, "Aleppo, Aleppo and Aleppo again.", title="Aleppo")
    assert found(reviewer, Role.REVIEWER, "Aleppo", project) == [often.pk, once.pk]


def test_snippets_mark_the_hits_in_escaped_text(project, reviewer, articles):
    [hit] = search_articles(project=project, user=reviewer, role=Role.REVIEWER, text="twelve")
    assert "&lt;b&gt;<mark>twelve</mark>&lt;/b&gt;" in hit.snippet
    assert "<b>" not in hit.snippet


@pytest.mark.parametrize(
    "text", ['"', "AND", "OR", "*", "NEAR(a b)", "a NOT", '"""', "'", "(", ")", "-", ":", "^x"]
)
def test_hostile_queries_never_break_the_search(project, reviewer, articles, text):
    from annotate.fulltext import QueryError

    # A query with nothing to look for is refused with a message; anything else is searched.
    with contextlib.suppress(QueryError):
        list(search_articles(project=project, user=reviewer, role=Role.REVIEWER, text=text))


def test_the_index_follows_edits_and_deletes(project, reviewer, articles):
    article = articles["homs"]
    article.title = "Market in Idlib"
    article.save()
    assert found(reviewer, Role.REVIEWER, "Idlib", project) == [article.pk]
    Article.objects.filter(pk=article.pk).delete()
    assert found(reviewer, Role.REVIEWER, "Idlib", project) == []


def test_paging_reads_one_slice_and_counts_all(project, reviewer):
    for n in range(7):
        make_article(project, f"Aleppo report number {n}.", title=f"Report {n}")
    results = search_articles(project=project, user=reviewer, role=Role.REVIEWER, text="Aleppo")
    assert len(results) == 7
    assert [h.title for h in results[5:10]] == [h.title for h in list(results[0:7])[5:]]


def test_the_search_index_exists(db):
    # On SQLite a migration that remakes the article table drops its triggers: this says so.
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            expected = {"annotate_article_fts_insert", "annotate_article_fts_delete"}
            expected.add("annotate_article_fts_update")
        else:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'annotate_article'")
            expected = {"annotate_article_search"}
        assert expected <= {row[0] for row in cursor.fetchall()}


# The page


def test_the_page_shows_results_with_links_and_snippets(client_for, editor, project, articles):
    response = client_for(editor).get(f"/projects/{project.slug}/search/", {"q": "Aleppo"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 article found" in html
    assert f'href="/articles/{articles["aleppo"].pk}/"' in html
    assert "<mark>Aleppo</mark>" in html
    assert "<!doctype html>" in html


def test_the_htmx_fragment_is_only_the_results(client_for, reviewer, project, articles):
    response = client_for(reviewer).get(
        f"/projects/{project.slug}/search/", {"q": "Aleppo"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="search-results"')
    assert f'href="/articles/{articles["aleppo"].pk}/review/"' in html


def test_the_page_without_a_query_shows_the_form(client_for, editor, project):
    response = client_for(editor).get(f"/projects/{project.slug}/search/")
    assert response.status_code == 200
    assert 'name="q"' in response.content.decode()


def test_a_search_that_finds_nothing_says_so(client_for, reviewer, project, articles):
    response = client_for(reviewer).get(f"/projects/{project.slug}/search/", {"q": "Mosul"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "0 articles found" in html
    assert "No article matches “Mosul”." in html


def test_a_query_with_nothing_to_look_for_says_so(client_for, editor, project):
    response = client_for(editor).get(f"/projects/{project.slug}/search/", {"q": '"*"'})
    assert response.status_code == 400
    assert "at least one word" in response.content.decode()


def test_the_page_pages(client_for, reviewer, project):
    for n in range(23):
        make_article(project, f"Aleppo report {n}.", title=f"Report {n}")
    client = client_for(reviewer)
    html = client.get(f"/projects/{project.slug}/search/", {"q": "Aleppo"}).content.decode()
    assert "Page 1 of 2" in html and 'rel="next"' in html
    html = client.get(
        f"/projects/{project.slug}/search/", {"q": "Aleppo", "page": "2"}
    ).content.decode()
    assert html.count('class="search-hit"') == 3


def test_outsiders_get_404(client_for, outsider, project):
    response = client_for(outsider).get(f"/projects/{project.slug}/search/", {"q": "Aleppo"})
    assert response.status_code == 404


def test_the_project_page_links_to_search(client_for, editor, project):
    html = client_for(editor).get(f"/projects/{project.slug}/").content.decode()
    assert f'href="/projects/{project.slug}/search/"' in html


# The API


def test_the_api_answers_a_paginated_list(client_for, editor, project, articles):
    response = client_for(editor).get(f"/api/projects/{project.slug}/search/", {"q": "Baghdad"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    [hit] = body["results"]
    assert hit["id"] == articles["baghdad"].pk
    assert hit["external_id"] == articles["baghdad"].external_id
    assert hit["title"] == "Blast"
    assert "<mark>Baghdad</mark>" in hit["snippet"]


def test_the_api_pages_with_page_size(client_for, reviewer, project):
    for n in range(5):
        make_article(project, f"Aleppo report {n}.", title=f"Report {n}")
    client = client_for(reviewer)
    body = client.get(
        f"/api/projects/{project.slug}/search/", {"q": "Aleppo", "page_size": 2, "page": 3}
    ).json()
    assert body["count"] == 5 and len(body["results"]) == 1 and body["next"] is None


@pytest.mark.parametrize(
    "params, field",
    [({}, "q"), ({"q": "*"}, "q"), ({"q": "a", "x": "1"}, "x"), ({"q": "a", "page": "0"}, "page")],
)
def test_the_api_refuses_bad_parameters(client_for, editor, project, params, field):
    response = client_for(editor).get(f"/api/projects/{project.slug}/search/", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_api_hides_other_projects(client_for, outsider, project):
    response = client_for(outsider).get(f"/api/projects/{project.slug}/search/", {"q": "a"})
    assert response.status_code == 404


def test_the_api_needs_a_login(client, project):
    assert client.get(f"/api/projects/{project.slug}/search/", {"q": "a"}).status_code in (
        401,
        403,
    )


def test_a_new_members_queue_is_empty(client_for, project, articles):
    newcomer = make_member(project, make_user("nina"), Role.EDITOR)
    body = client_for(newcomer).get(f"/api/projects/{project.slug}/search/", {"q": "the"}).json()
    assert body["count"] == 0


def test_many_hits_come_newest_first_and_the_count_stops(project, reviewer, monkeypatch):
    from annotate.services import article_search

    monkeypatch.setattr(article_search, "RANK_LIMIT", 3)
    monkeypatch.setattr(article_search, "MAX_HITS", 4)
    made = [make_article(project, "Aleppo " * (n + 1), title=f"Report {n}") for n in range(6)]
    results = search_articles(project=project, user=reviewer, role=Role.REVIEWER, text="Aleppo")
    assert len(results) == 4 and results.capped and not results.ranked
    assert [hit.id for hit in results[0:4]] == [a.pk for a in reversed(made)][:4]
    few = search_articles(project=project, user=reviewer, role=Role.REVIEWER, text="Report 2")
    assert len(few) == 1 and few.ranked and not few.capped


def test_the_page_says_when_there_are_too_many_to_rank(client_for, reviewer, project, monkeypatch):
    from annotate.services import article_search

    monkeypatch.setattr(article_search, "RANK_LIMIT", 1)
    make_article(project, "Aleppo one.")
    make_article(project, "Aleppo two.")
    html = client_for(reviewer).get(f"/projects/{project.slug}/search/", {"q": "Aleppo"})
    assert "Too many to rank: the newest first." in html.content.decode()


def test_hyphenated_names_and_runs_without_spaces(project, reviewer):
    hyphen = make_article(project, "Mustafa al-Kadhemi spoke.", title="Kadhemi")
    chinese = make_article(project, "我在北京工作。", title="Beijing")
    for query in ("al-Kadhemi", '"al Kadhemi"', "Kadhemi"):
        assert found(reviewer, Role.REVIEWER, query, project) == [hyphen.pk]
    assert found(reviewer, Role.REVIEWER, "我在北京工作", project) == [chinese.pk]
    assert found(reviewer, Role.REVIEWER, "北京", project) == []


def test_the_schema_describes_a_paginated_list_of_hits(client_for, editor):
    schema = yaml.safe_load(client_for(editor).get("/api/schema/").content)
    operation = schema["paths"]["/api/projects/{slug}/search/"]["get"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/PaginatedSearchHitList"}
    hit = schema["components"]["schemas"]["SearchHit"]
    assert set(hit["required"]) == {"id", "external_id", "title", "snippet"}
    assert {"page", "page_size"} <= {p["name"] for p in operation["parameters"]}
    assert any(p["name"] == "q" and p["required"] for p in operation["parameters"])


@pytest.mark.parametrize("others", [0, 5])
def test_an_editors_count_is_the_same_however_it_is_counted(project, editor, others):
    # With many matching articles outside the queue, SQLite counts through the queue instead.
    mine = [make_article(project, f"Aleppo {n}", editors=[editor]) for n in range(2)]
    for n in range(others):
        make_article(project, f"Aleppo elsewhere {n}")
    results = search_articles(project=project, user=editor, role=Role.EDITOR, text="Aleppo")
    assert len(results) == 2
    assert sorted(hit.id for hit in results[0:20]) == sorted(a.pk for a in mine)
