"""API: long work as background jobs. A large import (or one sent with
``Prefer: respond-async``), a recompute and a large release answer 202 with the job's URL;
the job's endpoint shows its state, progress, result and error to whoever started it and to
the project's managers. Small imports keep answering 201 as the contract says."""

from __future__ import annotations

import json

import pytest
import yaml
from openapi_spec_validator import validate

from annotate.models import Article, Job, Release

from .api_support import api, assert_error
from .factories import make_member, make_project, make_user
from .jobs_support import finalise

URL = "/api/projects/demo-news/articles/"


def items(count: int, start: int = 0) -> list[dict]:
    return [
        {"external_id": f"n{i}", "title": f"Title {i}", "text": f"Article {i} text."}
        for i in range(start, start + count)
    ]


def post(client, payload, **headers):
    return client.generic(
        "POST", URL, json.dumps(payload).encode(), content_type="application/json", **headers
    )


def follow(client, response) -> dict:
    """The job a 202 names, read from its URL."""
    assert response.status_code == 202, response.content[:500]
    data = response.json()
    assert set(data) == {"job", "id", "state"}
    assert response["Location"] == data["job"]
    assert data["job"].endswith(f"/api/jobs/{data['id']}/")
    job = client.get(data["job"])
    assert job.status_code == 200
    return job.json()


def test_a_small_import_still_answers_201_at_once(project, manager, editor, other_editor, settings):
    settings.IMPORT_SYNC_LIMIT = 3
    response = post(api(manager), items(3))
    assert response.status_code == 201
    assert response.json() == {"created": 3, "skipped": [], "assigned": 6}
    assert not Job.objects.exists()


def test_an_import_past_the_limit_is_a_job_polled_to_its_result(
    project, manager, editor, other_editor, settings
):
    settings.IMPORT_SYNC_LIMIT = 3
    client = api(manager)
    job = follow(client, post(client, items(4)))
    assert job["kind"] == "import"
    assert job["project"] == "demo-news"
    assert job["state"] == "succeeded"
    assert (job["done"], job["total"]) == (4, 4)
    assert job["result"] == {"created": 4, "skipped": [], "skipped_count": 0, "assigned": 8}
    assert job["error"] == ""
    assert job["started_by"] == manager.username
    assert Article.objects.filter(project=project).count() == 4


def test_prefer_respond_async_makes_even_one_article_a_job(project, manager):
    client = api(manager)
    job = follow(client, post(client, items(1), HTTP_PREFER="respond-async"))
    assert job["state"] == "succeeded"
    assert job["result"]["created"] == 1


def test_a_bad_item_in_a_large_import_is_400_and_nothing_is_queued(project, manager, settings):
    settings.IMPORT_SYNC_LIMIT = 1
    payload = items(3)
    payload[2]["text"] = ""
    response = post(api(manager), payload, HTTP_PREFER="respond-async")
    data = assert_error(response, 400)
    assert data["errors"][0]["index"] == 2
    assert not Job.objects.exists()
    assert not Article.objects.exists()


def test_a_job_that_fails_says_why(project, manager, monkeypatch):
    from annotate.services import importing, jobs

    def conflict(**kwargs):
        raise importing.ImportConflict("Another import added some of these articles.")

    monkeypatch.setattr(jobs, "import_articles", conflict)
    client = api(manager)
    job = follow(client, post(client, items(2), HTTP_PREFER="respond-async"))
    assert job["state"] == "failed"
    assert job["result"] is None
    assert job["error"] == "Nothing was imported: Another import added some of these articles."


def test_a_queued_job_shows_it_is_waiting(project, manager):
    job = Job.objects.create(
        project=project, kind=Job.Kind.IMPORT, started_by=manager, total=10, message="Waiting."
    )
    data = api(manager).get(f"/api/jobs/{job.pk}/").json()
    assert data["state"] == "queued"
    assert (data["done"], data["total"], data["message"]) == (0, 10, "Waiting.")
    assert data["started_at"] is None and data["finished_at"] is None


# --- who may read a job ----------------------------------------------------------------------


def test_outsiders_get_404_as_for_a_job_that_does_not_exist(project, manager, outsider):
    job = Job.objects.create(project=project, kind=Job.Kind.IMPORT, started_by=manager)
    response = api(outsider).get(f"/api/jobs/{job.pk}/")
    missing = api(outsider).get(f"/api/jobs/{job.pk + 1000}/")
    assert assert_error(response, 404) == assert_error(missing, 404)
    assert_error(api(manager).get(f"/api/jobs/{2**64}/"), 404)


def test_members_cannot_read_a_job_someone_else_started(project, manager, editor, reviewer):
    job = Job.objects.create(project=project, kind=Job.Kind.IMPORT, started_by=manager)
    for user in (editor, reviewer):
        data = assert_error(api(user).get(f"/api/jobs/{job.pk}/"), 403)
        assert data["detail"] == (
            "Only the person who started this job and the project's managers can see it."
        )


def test_the_starter_and_every_manager_read_a_job(project, reviewer, manager):
    job = Job.objects.create(project=project, kind=Job.Kind.RELEASE, started_by=reviewer)
    other_manager = make_member(project, make_user("boss2"), "manager")
    for user in (reviewer, manager, other_manager):
        assert api(user).get(f"/api/jobs/{job.pk}/").status_code == 200


def test_anonymous_callers_get_401(project, manager):
    job = Job.objects.create(project=project, kind=Job.Kind.IMPORT, started_by=manager)
    assert_error(api().get(f"/api/jobs/{job.pk}/"), 401)


def test_the_job_list_is_for_managers_and_filters_by_state(project, manager, reviewer, editor):
    done = Job.objects.create(
        project=project, kind=Job.Kind.IMPORT, started_by=manager, state="succeeded"
    )
    Job.objects.create(project=project, kind=Job.Kind.RELEASE, started_by=reviewer)
    other = make_project("elsewhere")
    Job.objects.create(project=other, kind=Job.Kind.IMPORT)
    listed = api(manager).get("/api/projects/demo-news/jobs/").json()
    assert listed["count"] == 2
    only = api(manager).get("/api/projects/demo-news/jobs/?state=succeeded").json()
    assert [job["id"] for job in only["results"]] == [done.pk]
    assert_error(api(manager).get("/api/projects/demo-news/jobs/?state=sleeping"), 400)
    assert_error(api(manager).get("/api/projects/demo-news/jobs/?owner=x"), 400)
    assert_error(api(reviewer).get("/api/projects/demo-news/jobs/"), 403)
    assert_error(api(editor).get("/api/projects/demo-news/jobs/"), 403)


# --- recompute and releases ------------------------------------------------------------------


def test_managers_recompute_the_agreement_as_a_job(project, manager, reviewer, editor):
    client = api(manager)
    job = follow(client, client.post("/api/projects/demo-news/agreement/recompute/"))
    assert job["kind"] == "recompute"
    assert job["state"] == "succeeded"
    assert job["result"]["articles"] == 0
    for user in (reviewer, editor):
        response = api(user).post("/api/projects/demo-news/agreement/recompute/")
        assert_error(response, 403)
    assert Job.objects.count() == 1


@pytest.mark.parametrize("how", ["prefer", "large"])
def test_a_release_can_be_a_job(project, reviewer, settings, how):
    finalise(project, reviewer, 2)
    headers = {"HTTP_PREFER": "respond-async"} if how == "prefer" else {}
    if how == "large":
        settings.RELEASE_SYNC_LIMIT = 1
    client = api(reviewer)
    response = client.post(
        "/api/projects/demo-news/releases/", {"name": "v1"}, format="json", **headers
    )
    job = follow(client, response)
    release = Release.objects.get(project=project, name="v1")
    assert job["kind"] == "release"
    assert job["result"] == {"name": "v1", "articles": 2, "sha256": release.sha256}


def test_a_small_release_still_answers_201(project, reviewer):
    finalise(project, reviewer, 1)
    response = api(reviewer).post("/api/projects/demo-news/releases/", {"name": "v1"}, "json")
    assert response.status_code == 201
    assert response.json()["name"] == "v1"
    assert not Job.objects.exists()


def test_a_taken_release_name_is_refused_before_a_job_is_queued(project, reviewer):
    finalise(project, reviewer, 1)
    client = api(reviewer)
    client.post("/api/projects/demo-news/releases/", {"name": "v1"}, "json")
    response = client.post(
        "/api/projects/demo-news/releases/", {"name": "v1"}, "json", HTTP_PREFER="respond-async"
    )
    assert assert_error(response, 400)["errors"] == {
        "name": ["This project already has a release named 'v1'."]
    }
    assert not Job.objects.exists()


# --- the schema ------------------------------------------------------------------------------


def test_the_schema_describes_the_jobs_and_the_202_answers(db):
    schema = yaml.safe_load(api().get("/api/schema/").content)
    validate(schema)
    paths = schema["paths"]
    job = paths["/api/jobs/{job_id}/"]["get"]
    assert job["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Job"
    }
    assert {"403", "404"} <= set(job["responses"])
    fields = schema["components"]["schemas"]["Job"]["properties"]
    assert {"state", "done", "total", "message", "result", "error", "url"} <= set(fields)
    accepted = {"$ref": "#/components/schemas/JobAccepted"}
    for path in (
        "/api/projects/{slug}/articles/",
        "/api/projects/{slug}/releases/",
        "/api/projects/{slug}/agreement/recompute/",
    ):
        answer = paths[path]["post"]["responses"]["202"]
        assert answer["content"]["application/json"]["schema"] == accepted, path
    for path in ("/api/projects/{slug}/articles/", "/api/projects/{slug}/releases/"):
        headers = [p for p in paths[path]["post"]["parameters"] if p["in"] == "header"]
        assert [p["name"] for p in headers] == ["Prefer"], path
        assert "201" in paths[path]["post"]["responses"], path
    listed = paths["/api/projects/{slug}/jobs/"]["get"]["parameters"]
    assert {p["name"] for p in listed} >= {"state", "kind", "page", "page_size"}
    assert schema["components"]["schemas"]["JobAccepted"]["required"] == ["id", "job", "state"]
