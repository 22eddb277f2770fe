"""Retries and failures: a request sent twice writes once, and a write that fails half-way
leaves nothing behind.

The failure tests make a function called in the middle of a write raise, send the write
through the test client as a browser or API client would (the 500 is returned, not
raised), and check the database is exactly as before. They run with real transactions
(`transaction=True`), so what is checked is what a committed database would hold.
"""

from __future__ import annotations

import uuid
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import (
    Annotation,
    AnnotationVersion,
    Article,
    Assignment,
    Release,
    Role,
    Span,
)
from annotate.services import agreement as agreement_service
from annotate.services import importing as importing_service
from annotate.services import releases as releases_service
from annotate.services.review import accept_agreed, set_final

from ..api_support import api, assert_error
from ..conftest import login
from ..factories import make_annotation, make_article, make_user

TEXT = "Rebels shelled Aleppo on Monday."
REBELS = {"start": 0, "end": 6, "label": "ACTOR"}
ALEPPO = {"start": 15, "end": 21, "label": "LOCATION"}


class Boom(Exception):
    pass


def snapshot() -> dict[str, object]:
    """Everything a write could touch."""
    return {
        "articles": sorted(Article.objects.values_list("pk", "external_id")),
        "assignments": sorted(Assignment.objects.values_list("article_id", "editor_id")),
        "annotations": sorted(Annotation.objects.values_list("pk", "version", "status", "final")),
        "versions": AnnotationVersion.objects.count(),
        "spans": sorted(Span.objects.values_list("pk", "removed_in")),
        "releases": Release.objects.count(),
    }


def failing_api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def failing_browser(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def article(project, editor, other_editor):
    return make_article(project, TEXT, editors=[editor, other_editor])


def annotation_url(article) -> str:
    return f"/api/articles/{article.pk}/annotation/"


# --- retries --------------------------------------------------------------------------


def test_a_put_retried_with_the_same_idempotency_key_makes_one_version(article, editor):
    client = api(editor)
    key = str(uuid.uuid4())
    body = {"base_version": 0, "spans": [REBELS]}
    first = client.put(annotation_url(article), body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.put(annotation_url(article), body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 200
    assert first.json()["version"] == again.json()["version"] == 1
    assert AnnotationVersion.objects.filter(annotation__article=article).count() == 1
    assert Span.objects.filter(annotation__article=article).count() == 1


def test_a_put_retried_without_a_key_makes_no_second_version(article, editor):
    client = api(editor)
    body = {"base_version": 0, "spans": [REBELS, ALEPPO]}
    first = client.put(annotation_url(article), body, format="json")
    again = client.put(annotation_url(article), body, format="json")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["version"] == 1
    assert AnnotationVersion.objects.filter(annotation__article=article).count() == 1


def test_the_same_key_with_a_different_change_is_refused(article, editor):
    client = api(editor)
    key = str(uuid.uuid4())
    client.put(
        annotation_url(article),
        {"base_version": 0, "spans": [REBELS]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    other = client.put(
        annotation_url(article),
        {"base_version": 1, "spans": [ALEPPO]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert_error(other, 400)
    assert AnnotationVersion.objects.filter(annotation__article=article).count() == 1


def test_a_double_post_on_the_add_span_endpoint_makes_one_version(article, editor):
    client = login(editor)
    data = {
        "start": 15,
        "end": 21,
        "quote": "Aleppo",
        "label": "LOCATION",
        "base_version": 0,
        "request_key": str(uuid.uuid4()),
    }
    url = reverse("span-add", args=[article.pk])
    first = client.post(url, data, headers={"HX-Request": "true"})
    again = client.post(url, data, headers={"HX-Request": "true"})
    assert first.status_code == again.status_code == 200
    annotation = Annotation.objects.get(article=article, annotator=editor)
    assert annotation.version == 1
    assert [s.text for s in annotation.current_spans()] == ["Aleppo"]


def test_importing_the_same_file_twice_skips_everything_the_second_time(project, manager):
    client = login(manager)
    url = reverse("import-articles", args=[project.slug])
    data = (
        b'{"external_id": "one", "text": "First article."}\n'
        b'{"external_id": "two", "text": "Second article."}\n'
    )

    def upload():
        from django.core.files.uploadedfile import SimpleUploadedFile

        file = SimpleUploadedFile("batch.jsonl", data)
        return client.post(url, {"mode": "upload", "file": file}, follow=True)

    upload()
    before = snapshot()
    second = upload()
    assert "Skipped 2 already in the project" in second.content.decode()
    assert snapshot() == before
    response = api(manager).post(
        f"/api/projects/{project.slug}/articles/", data, content_type="application/x-ndjson"
    )
    assert response.json() == {"created": 0, "skipped": ["one", "two"], "assigned": 0}
    assert snapshot() == before


# --- failures half-way ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "target",
    [
        "annotate.models.AnnotationVersion.objects.create",
        "annotate.models.Span.objects.bulk_create",
        "annotate.services.agreement.annotation_saved",
    ],
)
def test_a_failing_annotation_write_leaves_nothing_behind(project, editor, other_editor, target):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    make_annotation(article, other_editor, [(0, 6, "ACTOR")], submit=True)
    make_annotation(article, editor, [(0, 6, "ACTOR")])
    before = snapshot()
    body = {"base_version": 1, "spans": [REBELS, ALEPPO], "submit": True}
    with mock.patch(target, side_effect=Boom("fault injected")):
        response = failing_api(editor).put(annotation_url(article), body, format="json")
    assert response.status_code == 500
    assert snapshot() == before
    # And the write goes through once the fault is gone.
    assert api(editor).put(annotation_url(article), body, format="json").status_code == 200
    assert AnnotationVersion.objects.filter(annotation__annotator=editor).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_span_insert_from_the_labelling_page_leaves_nothing_behind(
    project, editor, other_editor
):
    article = make_article(project, TEXT, editors=[editor])
    before = snapshot()
    data = {"start": 0, "end": 6, "quote": "Rebels", "label": "ACTOR", "base_version": 0}
    with mock.patch("annotate.models.Span.objects.bulk_create", side_effect=Boom()):
        response = failing_browser(editor).post(reverse("span-add", args=[article.pk]), data)
    assert response.status_code == 500
    # Not even the empty annotation row a first write creates is left behind.
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "target",
    [
        "annotate.services.importing.assign_articles",
        # The articles are written, then writing their assignments fails.
        "annotate.services.assignment.insert_rows",
    ],
)
def test_a_failing_import_leaves_no_article_and_no_assignment(project, manager, editor, target):
    before = snapshot()
    items = "".join(
        f'{{"external_id": "n{n}", "text": "Article number {n}."}}\n' for n in range(700)
    )
    with mock.patch(target, side_effect=Boom()) as failing:
        response = failing_api(manager).post(
            f"/api/projects/{project.slug}/articles/", items, content_type="application/x-ndjson"
        )
    assert failing.called
    assert response.status_code == 500
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_failing_import_from_the_page_leaves_nothing_behind(project, manager, editor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = snapshot()
    file = SimpleUploadedFile("a.jsonl", b'{"external_id": "x", "text": "Some text."}\n')
    with mock.patch.object(importing_service, "assign_articles", side_effect=Boom()):
        response = failing_browser(manager).post(
            reverse("import-articles", args=[project.slug]), {"mode": "upload", "file": file}
        )
    assert response.status_code == 500
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_failing_dataset_import_leaves_no_article_and_no_gold(project, manager):
    before = snapshot()
    records = (
        '{"id": "d1", "text": "Rebels shelled Aleppo.", "spans": [{"start": 0, "end": 6, '
        '"label": "ACTOR"}]}\n{"id": "d2", "text": "Quiet day.", "spans": [{"start": 0, '
        '"end": 5, "label": "ACTOR"}]}\n'
    )
    calls = {"n": 0}
    real = agreement_service.annotation_saved

    def fail_on_second(annotation):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Boom()
        return real(annotation)

    with mock.patch.object(agreement_service, "annotation_saved", side_effect=fail_on_second):
        response = failing_api(manager).post(
            f"/api/projects/{project.slug}/import/", records, content_type="application/x-ndjson"
        )
    assert response.status_code == 500
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_failing_review_write_leaves_the_gold_as_it_was(project, editor, other_editor, reviewer):
    article = make_article(project, TEXT, editors=[editor, other_editor])
    for user in (editor, other_editor):
        make_annotation(article, user, [(0, 6, "ACTOR")], submit=True)
    accept_agreed(article, reviewer, role=Role.REVIEWER, min_editors=2, base_version=0)
    before = snapshot()
    with mock.patch.object(agreement_service, "annotation_saved", side_effect=Boom()):
        response = failing_browser(reviewer).post(
            reverse("review-final", args=[article.pk]), {"base_version": 1}
        )
    assert response.status_code == 500
    assert snapshot() == before
    assert not Annotation.objects.get(article=article, kind=Annotation.Kind.GOLD).final


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("target", ["changes_between", "_fresh_chunk"])
def test_a_failing_release_leaves_no_half_release(project, editor, other_editor, reviewer, target):
    for _ in range(3):
        article = make_article(project, TEXT, editors=[editor, other_editor])
        for user in (editor, other_editor):
            make_annotation(article, user, [(0, 6, "ACTOR")], submit=True)
        accept_agreed(article, reviewer, role=Role.REVIEWER, min_editors=2, base_version=0)
        set_final(article, reviewer, role=Role.REVIEWER, final=True, base_version=1)
    before = snapshot()
    with mock.patch.object(releases_service, target, side_effect=Boom()):
        response = failing_api(reviewer).post(
            f"/api/projects/{project.slug}/releases/", {"name": "v1"}, format="json"
        )
    assert response.status_code == 500
    assert snapshot() == before
    created = api(reviewer).post(
        f"/api/projects/{project.slug}/releases/", {"name": "v1"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert Release.objects.get().article_count == 3


@pytest.mark.django_db(transaction=True)
def test_a_failing_member_add_hands_out_no_articles(project, manager, editor):
    make_article(project, TEXT, editors=[editor])
    newcomer = make_user("newcomer")
    before = snapshot()
    with mock.patch("annotate.services.assignment.insert_rows", side_effect=Boom()) as failing:
        response = failing_api(manager).post(
            f"/api/projects/{project.slug}/members/",
            {"username": newcomer.username, "role": Role.EDITOR},
            format="json",
        )
    assert failing.called
    assert response.status_code == 500
    assert snapshot() == before
    assert not project.memberships.filter(user=newcomer).exists()
