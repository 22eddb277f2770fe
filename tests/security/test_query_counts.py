"""The number of queries a page or API list makes does not grow with the data.

Two worlds are built once for the module: a small one (3 articles, 2 editors, 2 spans, 1
version each) and a large one (30 articles, 5 editors, 12 spans, 8 versions on the article
every detail page shows, 5 releases). Every page and endpoint is requested in both, and the
large world must make exactly as many queries as the small one. Each world has its own users,
so the home page of one does not see the other.

Exports stream in chunks of `CHUNK_SIZE` articles: their query count grows with the number of
chunks, not of articles, so 2 and 30 articles (one chunk each) make the same count, and a
chunk size of 10 makes three chunks' worth for 30.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate.assistance.predictions import PredictedSpanInput, PredictionLine
from annotate.models import Annotation, Article, Role
from annotate.services import exporting
from annotate.services.annotations import SpanInput, annotation_for, save_annotation
from annotate.services.predictions import save_predictions
from annotate.services.releases import create_release
from annotate.services.review import accept_agreed, set_final

from ..api_support import api
from ..conftest import login
from ..factories import make_article, make_member, make_project, make_user

WORDS = [f"word{n:02d}" for n in range(24)]
TEXT = " ".join(WORDS) + "."


def word_span(n: int, label: str = "ACTOR") -> SpanInput:
    start = TEXT.index(WORDS[n])
    return SpanInput(start, start + len(WORDS[n]), label)


@dataclass(frozen=True)
class Size:
    articles: int
    editors: int
    spans: int
    versions: int
    releases: int


SMALL = Size(articles=3, editors=2, spans=2, versions=1, releases=1)
LARGE = Size(articles=30, editors=5, spans=12, versions=8, releases=5)


@dataclass
class World:
    project: object
    manager: object
    reviewer: object
    editors: list
    target: Article  # the article every detail page shows
    articles: list = field(default_factory=list)


def save(article, editor, spans, *, submit: bool = False) -> None:
    annotation = annotation_for(article, editor)
    save_annotation(
        annotation=annotation,
        author=editor,
        role=Role.EDITOR,
        base_version=annotation.version,
        spans=spans,
        status=Annotation.Status.SUBMITTED if submit else None,
    )


def build(prefix: str, size: Size) -> World:
    project = make_project(prefix)
    manager = make_member(project, make_user(f"{prefix}-manager"), Role.MANAGER)
    reviewer = make_member(project, make_user(f"{prefix}-reviewer"), Role.REVIEWER)
    editors = [
        make_member(project, make_user(f"{prefix}-ed{n}"), Role.EDITOR) for n in range(size.editors)
    ]
    articles = [
        make_article(project, TEXT, external_id=f"{prefix}-{n}", editors=editors)
        for n in range(size.articles)
    ]
    target, *others = articles
    labels = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]
    spans = [word_span(n, labels[n % 4]) for n in range(size.spans)]
    for editor in editors:
        # The target: `versions` versions, the last with every span, submitted.
        for v in range(1, size.versions + 1):
            save(target, editor, spans[: max(1, len(spans) * v // size.versions)])
        save(target, editor, spans, submit=True)
    # Every other article but the last is submitted by every editor (the last stays in
    # the editors' queues, so "next" has somewhere to go).
    for article in others[:-1]:
        for editor in editors:
            save(article, editor, spans, submit=True)
    for article in others[:-1]:
        accept_agreed(article, reviewer, role=Role.REVIEWER, min_editors=2, base_version=0)
        set_final(article, reviewer, role=Role.REVIEWER, final=True, base_version=1)
    accept_agreed(target, reviewer, role=Role.REVIEWER, min_editors=2, base_version=0)
    for n in range(size.releases):
        create_release(project=project, name=f"v{n}", user=manager)
    # Predictions of one model version per release, on every article (some with final gold).
    lines = [
        PredictionLine(
            n, article.external_id, f"ner@{v}", [PredictedSpanInput(*s.key) for s in spans]
        )
        for v in range(size.releases)
        for n, article in enumerate(articles)
    ]
    save_predictions(project=project, lines=lines)
    return World(project, manager, reviewer, editors, target, articles)


@pytest.fixture(scope="module")
def worlds(django_db_setup, django_db_blocker):
    """Both worlds, built once and rolled back after the module."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield {"small": build("qc-small", SMALL), "large": build("qc-large", LARGE)}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def count(request) -> int:
    request()  # warm up caches (content types, sessions) so both counts compare like for like
    with CaptureQueriesContext(connection) as queries:
        response = request()
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    assert response.status_code in (200, 302), (response.status_code, response.content[:300])
    return len(queries)


def page(who: str, url, **headers):
    def request_for(world: World):
        client = login(getattr(world, who) if who != "editor" else world.editors[0])
        return lambda: client.get(url(world), headers=headers)

    return request_for


def endpoint(who: str, url, method: str = "get", body=None):
    def request_for(world: World):
        user = getattr(world, who) if who != "editor" else world.editors[0]
        client = api(user)
        if method == "get":
            return lambda: client.get(url(world))
        return lambda: getattr(client, method)(url(world), body(world), format="json")

    return request_for


def slug(name: str, **kwargs):
    return lambda w: reverse(name, kwargs={"slug": w.project.slug, **kwargs})


def article(name: str):
    return lambda w: reverse(name, kwargs={"article_id": w.target.pk})


def api_url(template: str):
    return lambda w: template.format(slug=w.project.slug, article=w.target.pk)


PAGES = {
    "home": page("editor", lambda w: reverse("home")),
    "home (manager)": page("manager", lambda w: reverse("home")),
    "project page": page("editor", slug("project")),
    "project page (reviewer)": page("reviewer", slug("project")),
    "next": page("editor", slug("next-article")),
    "labelling page": page("editor", article("article")),
    "labelling page (htmx)": page("editor", article("article"), **{"HX-Request": "true"}),
    "review queue (htmx)": page("reviewer", slug("review-queue"), **{"HX-Request": "true"}),
    "agreement report (htmx)": page("reviewer", slug("agreement"), **{"HX-Request": "true"}),
    "history page": page("editor", article("annotation-history")),
    "history page (reviewer, other editor)": page(
        "reviewer",
        lambda w: (
            reverse("annotation-history", args=[w.target.pk])
            + f"?annotator={w.editors[1].username}"
        ),
    ),
    "history page (gold)": page(
        "reviewer", lambda w: reverse("annotation-history", args=[w.target.pk]) + "?gold=1"
    ),
    "review queue": page("reviewer", slug("review-queue")),
    "review queue (all)": page(
        "reviewer", lambda w: reverse("review-queue", args=[w.project.slug]) + "?status=all"
    ),
    "adjudication page": page("reviewer", article("adjudicate")),
    "agreement report": page("reviewer", slug("agreement")),
    "import page": page("manager", slug("import-articles")),
    "project overview": page("manager", slug("project-overview")),
    "review queue (waiting)": page(
        "reviewer", lambda w: reverse("review-queue", args=[w.project.slug]) + "?status=waiting"
    ),
}

ENDPOINTS = {
    "projects": endpoint("manager", lambda w: "/api/projects/"),
    "project": endpoint("manager", api_url("/api/projects/{slug}/")),
    "labels": endpoint("manager", api_url("/api/projects/{slug}/labels/")),
    "members": endpoint("manager", api_url("/api/projects/{slug}/members/")),
    "articles (reviewer)": endpoint("reviewer", api_url("/api/projects/{slug}/articles/")),
    "articles (editor)": endpoint("editor", api_url("/api/projects/{slug}/articles/")),
    "article": endpoint("editor", api_url("/api/articles/{article}/")),
    "article ?include=all": endpoint(
        "reviewer", api_url("/api/articles/{article}/?include=annotation,annotations,gold")
    ),
    "annotation": endpoint("editor", api_url("/api/articles/{article}/annotation/")),
    "versions": endpoint("editor", api_url("/api/articles/{article}/annotation/versions/")),
    "version": endpoint("editor", api_url("/api/articles/{article}/annotation/versions/1/")),
    "editors' annotations": endpoint("reviewer", api_url("/api/articles/{article}/annotations/")),
    "gold": endpoint("reviewer", api_url("/api/articles/{article}/gold/")),
    "gold versions": endpoint("reviewer", api_url("/api/articles/{article}/gold/versions/")),
    "releases": endpoint("reviewer", api_url("/api/projects/{slug}/releases/")),
    "release": endpoint("reviewer", api_url("/api/projects/{slug}/releases/v0/")),
    "agreement": endpoint("reviewer", api_url("/api/projects/{slug}/agreement/")),
    "models": endpoint("reviewer", api_url("/api/projects/{slug}/models/")),
    "export jsonl (gold)": endpoint("reviewer", api_url("/api/projects/{slug}/export/")),
    "export conll (editors)": endpoint(
        "reviewer", api_url("/api/projects/{slug}/export/?format=conll&source=editors")
    ),
    "release download": endpoint("reviewer", api_url("/api/projects/{slug}/releases/v0/download/")),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_pages_make_the_same_number_of_queries_for_small_and_large_data(
    worlds, db, name, django_assert_num_queries
):
    small = count(PAGES[name](worlds["small"]))
    request = PAGES[name](worlds["large"])
    request()
    with django_assert_num_queries(small):
        request()


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_api_reads_make_the_same_number_of_queries_for_small_and_large_data(
    worlds, db, name, django_assert_num_queries
):
    small = count(ENDPOINTS[name](worlds["small"]))
    request = ENDPOINTS[name](worlds["large"])
    request()
    with django_assert_num_queries(small):
        response = request()
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)


def put_one_more_span(world: World):
    client = api(world.editors[0])
    url = f"/api/articles/{world.target.pk}/annotation/"

    def request():
        current = client.get(url).json()
        spans = [{k: s[k] for k in ("start", "end", "label")} for s in current["spans"]]
        taken = {(s["start"], s["end"]) for s in spans}
        free = next(
            n for n in range(len(WORDS)) if (word_span(n).start, word_span(n).end) not in taken
        )
        new = word_span(free, "SOURCE")
        spans.append({"start": new.start, "end": new.end, "label": new.label})
        body = {"base_version": current["version"], "spans": spans}
        with CaptureQueriesContext(connection) as queries:
            response = client.put(url, body, format="json")
        assert response.status_code == 200, response.content
        return len(queries)

    return request


def test_an_annotation_put_makes_the_same_number_of_queries_for_small_and_large_data(worlds, db):
    small = put_one_more_span(worlds["small"])
    large = put_one_more_span(worlds["large"])
    small()
    large()
    assert large() == small()


def test_an_export_makes_queries_per_chunk_not_per_article(worlds, db, monkeypatch):
    def export(world: World, chunk_size: int = exporting.CHUNK_SIZE) -> int:
        defaults = {**exporting.export_records.__kwdefaults__, "chunk_size": chunk_size}
        monkeypatch.setattr(exporting.export_records, "__kwdefaults__", defaults)
        client = api(world.reviewer)
        url = f"/api/projects/{world.project.slug}/export/?source=editors"
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            b"".join(response.streaming_content)
        records = int(response["X-Export-Records"])
        return len(queries), records

    (small, _), (large, records) = export(worlds["small"]), export(worlds["large"])
    assert records > 100 and records < exporting.CHUNK_SIZE  # one chunk each
    assert small == large
    # Smaller chunks: the count grows by the same number of queries for each extra chunk.
    chunks = {size: -(-records // size) for size in (records, 50, 25)}
    counts = {size: export(worlds["large"], size)[0] for size in chunks}
    per_chunk = (counts[50] - counts[records]) / (chunks[50] - 1)
    assert per_chunk >= 1
    assert counts[25] - counts[records] == per_chunk * (chunks[25] - 1)


# --- page sizes ---------------------------------------------------------------------------


@pytest.fixture
def many(project, manager, editor):
    Article.objects.bulk_create(
        Article(project=project, external_id=f"bulk-{n}", title="t", text="Some text.")
        for n in range(501)
    )
    return project


def test_a_huge_page_size_is_capped_at_500(many, manager):
    response = api(manager).get(f"/api/projects/{many.slug}/articles/?page_size=100000")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 500
    assert response.json()["count"] == 501


@pytest.mark.parametrize("value", ["0", "-1", "-100000", "abc", "", "1e9", "99999999999999999999"])
def test_a_bad_page_size_falls_back_to_the_default(many, manager, value):
    response = api(manager).get(f"/api/projects/{many.slug}/articles/?page_size={value}")
    assert response.status_code in (200, 400), response.content[:200]
    if response.status_code == 200:
        assert len(response.json()["results"]) in (50, 500)


@pytest.mark.parametrize("value", ["0", "-1", "abc", "99999999999999999999", "2.5"])
def test_a_bad_page_number_is_a_404_or_400_never_a_500(many, manager, value):
    response = api(manager).get(f"/api/projects/{many.slug}/articles/?page={value}")
    assert response.status_code in (400, 404), response.content[:200]
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/projects/?page_size=100000",
        "/api/projects/{slug}/members/?page_size=100000",
        "/api/projects/{slug}/labels/?page_size=100000",
        "/api/projects/{slug}/releases/?page_size=100000",
    ],
)
def test_every_list_endpoint_caps_its_page_size(many, manager, url):
    response = api(manager).get(url.format(slug=many.slug))
    assert response.status_code == 200
    assert response.json()["count"] <= 500
