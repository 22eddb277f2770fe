"""API: importing articles (JSON and JSON Lines), listing them with status, reading one."""

from __future__ import annotations

import json

import pytest

from annotate.models import Annotation, Article, Assignment

from .api_support import api, assert_error
from .factories import make_annotation, make_article, make_project

URL = "/api/projects/demo-news/articles/"
ITEMS = [
    {"external_id": "x1", "title": "One", "text": "Rebels shelled Aleppo.\r\n"},
    {
        "external_id": "x2",
        "title": "Two",
        "text": "Cafe\u0301 owner said.",
        "url": "https://e.org/2",
    },
]


def post(client, payload, content_type="application/json"):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.generic("POST", URL, raw, content_type=content_type)


def ndjson(items) -> bytes:
    return "\n".join(json.dumps(item) for item in items).encode()


# --- import -----------------------------------------------------------------------------


def test_a_manager_imports_a_json_array_canonicalised_and_assigned(
    project, manager, editor, other_editor
):
    response = post(api(manager), ITEMS)
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 2, "skipped": [], "assigned": 4}
    one, two = Article.objects.order_by("external_id")
    assert one.text == "Rebels shelled Aleppo.\n" and two.text == "Café owner said."
    assert Assignment.objects.filter(article=one).count() == 2


def test_importing_again_skips_what_is_there(project, manager):
    post(api(manager), ITEMS)
    response = post(api(manager), [*ITEMS, {"external_id": "x3", "text": "More."}])
    assert response.status_code == 201
    assert response.json()["created"] == 1 and response.json()["skipped"] == ["x1", "x2"]


def test_json_lines_import(project, manager):
    response = post(api(manager), ndjson(ITEMS), content_type="application/x-ndjson")
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2


def test_an_invalid_item_is_400_with_its_index_and_nothing_is_written(project, manager):
    bad = [ITEMS[0], {"external_id": "x2"}, {"external_id": "x3", "text": 5}]
    data = assert_error(post(api(manager), bad), 400)
    assert [e["index"] for e in data["errors"]] == [1, 2]
    assert all(e["detail"] for e in data["errors"])
    assert not Article.objects.exists()


def test_an_invalid_line_is_400_with_its_line_number(project, manager):
    raw = ndjson(ITEMS[:1]) + b"\n{not json\n" + ndjson([{"external_id": "x9", "text": ""}])
    data = assert_error(post(api(manager), raw, "application/x-ndjson"), 400)
    assert [e["line"] for e in data["errors"]] == [2, 3]
    assert not Article.objects.exists()


def test_a_body_over_the_limit_is_413_with_the_error_body(project, manager, settings):
    settings.MAX_UPLOAD_BYTES = 100
    big = [{"external_id": "big", "text": "word " * 100}]
    assert_error(post(api(manager), big), 413)
    assert_error(post(api(manager), ndjson(big), "application/x-ndjson"), 413)
    assert not Article.objects.exists()


def test_an_unsupported_media_type_is_415(project, manager):
    assert_error(post(api(manager), b"external_id,text\nx,y", "text/csv"), 415)


@pytest.mark.parametrize("raw", [b"", b"   ", b"{", b"[1, 2]", b'"text"'])
def test_empty_or_malformed_imports_are_400(project, manager, raw):
    assert_error(post(api(manager), raw), 400)


def test_editors_and_reviewers_cannot_import(project, editor, reviewer):
    for user in (editor, reviewer):
        assert_error(post(api(user), ITEMS), 403)
    assert not Article.objects.exists()


def test_editors_add_one_article_where_the_project_allows_it(project, editor):
    project.editors_can_upload = True
    project.save()
    assert post(api(editor), ITEMS[:1]).status_code == 201
    assert_error(post(api(editor), ITEMS), 400)


def test_outsiders_get_404_for_the_import(project, outsider):
    assert_error(post(api(outsider), ITEMS), 404)


# --- list -------------------------------------------------------------------------------


@pytest.fixture
def articles(project, editor, other_editor):
    """Four articles in four states for the editor."""
    todo = make_article(project, external_id="todo", editors=[editor, other_editor])
    working = make_article(project, external_id="working", editors=[editor, other_editor])
    make_annotation(working, editor, [(0, 6, "ACTOR")])
    done = make_article(project, external_id="done", editors=[editor, other_editor])
    make_annotation(done, editor, [(0, 6, "ACTOR")], submit=True)
    make_annotation(done, other_editor, [(0, 6, "ACTOR")], submit=True)
    closed = make_article(project, external_id="closed", editors=[editor, other_editor])
    gold = Annotation.objects.create(
        article=closed, kind=Annotation.Kind.GOLD, final=True, version=1
    )
    assert gold.final
    unassigned = make_article(project, external_id="not-mine")
    return {"todo": todo, "working": working, "done": done, "closed": closed, "other": unassigned}


def test_an_editor_lists_their_assigned_articles_with_their_own_status(articles, editor):
    data = api(editor).get(URL).json()
    rows = {r["external_id"]: (r["status"], r["version"]) for r in data["results"]}
    assert rows == {
        "todo": ("todo", 0),
        "working": ("in_progress", 1),
        "done": ("submitted", 1),
        "closed": ("closed", 0),
    }
    assert "text" not in data["results"][0] and "gold_version" not in data["results"][0]


def test_a_reviewer_lists_every_article_with_its_stage(articles, reviewer):
    rows = {r["external_id"]: r for r in api(reviewer).get(URL).json()["results"]}
    assert {k: r["status"] for k, r in rows.items()} == {
        "todo": "annotating",
        "working": "annotating",
        "done": "pending",
        "closed": "final",
        "not-mine": "annotating",
    }
    assert rows["done"]["editors_assigned"] == 2 and rows["done"]["editors_submitted"] == 2
    assert rows["closed"]["gold_final"] is True and "version" not in rows["closed"]


def test_the_list_filters_by_status_and_external_id_and_orders(articles, editor, reviewer):
    client = api(editor)
    assert [r["external_id"] for r in client.get(URL + "?status=todo").json()["results"]] == [
        "todo"
    ]
    assert client.get(URL + "?external_id=done").json()["count"] == 1
    ids = [r["id"] for r in client.get(URL + "?ordering=-id").json()["results"]]
    assert ids == sorted(ids, reverse=True)
    assert api(reviewer).get(URL + "?status=final").json()["count"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "?status=final",
        "?status=nonsense",
        "?ordering=text",
        "?text__contains=a",
        "?project=2",
        "?search=x",
    ],
)
def test_unknown_filters_and_values_are_400(articles, editor, query):
    assert_error(api(editor).get(URL + query), 400)


def test_listing_costs_the_same_queries_for_many_articles(
    project, editor, other_editor, reviewer, django_assert_max_num_queries
):
    for n in range(30):
        article = make_article(project, editors=[editor, other_editor])
        if n % 2:
            make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
    for user in (editor, reviewer):
        client = api(user)
        # auth, project, role (two: Project.role_of's only() reloads project_id), count, page
        with django_assert_max_num_queries(6):
            assert client.get(URL + "?page_size=100").json()["count"] == 30


def test_outsiders_get_404_for_the_list(project, outsider):
    assert_error(api(outsider).get(URL), 404)


# --- one article ------------------------------------------------------------------------


def test_an_article_has_its_text_and_sha256(project, editor):
    article = make_article(project, "Café 🔥 text", meta={"source": "wire"})
    data = api(editor).get(f"/api/articles/{article.pk}/").json()
    assert data["text"] == "Café 🔥 text" and data["sha256"] == article.sha256
    assert data["project"] == "demo-news" and data["meta"] == {"source": "wire"}


def test_an_article_reads_as_its_serializer_describes_it(project, editor):
    """The detail view builds the article's dict directly (a hot path); the schema comes
    from ArticleSerializer: the two must agree field for field."""
    from datetime import UTC, datetime

    from annotate.api.serializers.articles import ArticleSerializer

    article = make_article(
        project,
        "Un café à Alep 🔥",
        title="<b>Title</b>",
        url="https://example.org/a?b=1",
        published_at=datetime(2024, 3, 5, 8, 15, 30, 123456, tzinfo=UTC),
        meta={"section": "world", "tags": ["a", "b"], "n": 1.5},
    )
    article.refresh_from_db()
    data = api(editor).get(f"/api/articles/{article.pk}/").json()
    assert data == json.loads(json.dumps(ArticleSerializer(article).data))
    assert data["published_at"] == "2024-03-05T08:15:30.123456Z"


def test_an_article_of_another_project_is_404(project, outsider, editor):
    other = make_article(make_project("third"))
    assert_error(api(editor).get(f"/api/articles/{other.pk}/"), 404)
    mine = make_article(project)
    assert_error(api(outsider).get(f"/api/articles/{mine.pk}/"), 404)
    assert_error(api(editor).get("/api/articles/999999/"), 404)
    assert_error(api().get(f"/api/articles/{mine.pk}/"), 401)


def test_one_request_gives_an_article_with_the_callers_annotation(project, editor, other_editor):
    article = make_article(project, editors=[editor, other_editor])
    make_annotation(article, editor, [(0, 6, "ACTOR")])
    data = api(editor).get(f"/api/articles/{article.pk}/?include=annotation").json()
    assert data["text"] == article.text
    assert data["annotation"]["version"] == 1 and data["annotation"]["annotator"] == "edith"
    assert data["annotation"]["spans"][0]["text"] == "Rebels"
    fresh = api(other_editor).get(f"/api/articles/{article.pk}/?include=annotation").json()
    assert fresh["annotation"]["version"] == 0 and fresh["annotation"]["spans"] == []


def test_reviewers_include_every_editor_and_the_gold_and_editors_cannot(
    project, editor, other_editor, reviewer
):
    article = make_article(project, editors=[editor, other_editor])
    make_annotation(article, other_editor, [(0, 6, "ACTOR")], submit=True)
    url = f"/api/articles/{article.pk}/?include=annotations,gold"
    data = api(reviewer).get(url).json()
    assert [a["annotator"] for a in data["annotations"]] == ["edith", "otto"]
    assert data["gold"]["version"] == 0 and data["gold"]["final"] is False
    assert_error(api(editor).get(url), 403)
    assert_error(api(editor).get(f"/api/articles/{article.pk}/?include=everything"), 400)
