"""Background jobs in the browser: the job page (its status polled by htmx, refreshed without
JavaScript), the managers' job list, the agreement recompute button, the release page, and
large uploads on the import page handed to a job."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotate.models import Article, Job, Membership, Release, Role

from .factories import make_project, make_user
from .jobs_support import finalise


def job_page(job: Job) -> str:
    return reverse("job", args=[job.project.slug, job.pk])


def make_job(project, user, **fields) -> Job:
    return Job.objects.create(project=project, kind=Job.Kind.IMPORT, started_by=user, **fields)


# --- the job page ----------------------------------------------------------------------------


def test_a_running_job_shows_its_progress_and_polls_for_more(client_for, project, manager):
    job = make_job(project, manager, state="running", done=250, total=1000, message="Going.")
    body = client_for(manager).get(job_page(job)).content.decode()
    assert '<progress max="1000" value="250">25%</progress> 250 of 1000 (25%)' in body
    assert "Going." in body
    assert f'hx-get="{job_page(job)}" hx-trigger="every 2s" hx-swap="outerHTML"' in body
    # Without JavaScript the browser refreshes the page itself.
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in body


def test_the_htmx_poll_gets_only_the_status_fragment(client_for, project, manager):
    job = make_job(project, manager, state="queued", total=10, message="Waiting for a worker.")
    response = client_for(manager).get(job_page(job), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card job-status" id="job-status"')
    assert "<html" not in body
    assert "Waiting for a worker." in body
    assert response["Vary"].count("HX-Request") == 1


def test_a_finished_job_stops_polling_and_shows_its_result(client_for, project, manager):
    job = make_job(
        project,
        manager,
        state="succeeded",
        done=3,
        total=3,
        result={"created": 2, "skipped": ["a2"], "skipped_count": 1, "assigned": 4},
    )
    body = client_for(manager).get(job_page(job)).content.decode()
    assert "hx-trigger" not in body.split('id="job-status"')[1].split(">")[0]
    assert "http-equiv" not in body
    assert "Imported 2 new articles; 4 assignments made." in body
    assert "Skipped 1 already in the project (same external id): a2." in body


def test_a_failed_job_says_why(client_for, project, manager):
    job = make_job(project, manager, state="failed", error="Nothing was imported: <b>bad</b>.")
    body = client_for(manager).get(job_page(job)).content.decode()
    assert "<h2>Failed</h2>" in body
    assert "Nothing was imported: &lt;b&gt;bad&lt;/b&gt;." in body


def test_only_the_starter_and_managers_see_a_job(
    client_for, project, manager, reviewer, editor, outsider
):
    job = make_job(project, reviewer)
    assert client_for(reviewer).get(job_page(job)).status_code == 200
    assert client_for(manager).get(job_page(job)).status_code == 200
    assert client_for(editor).get(job_page(job)).status_code == 403
    assert client_for(outsider).get(job_page(job)).status_code == 404


def test_a_job_under_another_projects_address_is_404(client_for, project, manager, outsider):
    job = make_job(project, manager)
    other = outsider.memberships.get().project
    response = client_for(manager).get(reverse("job", args=[other.slug, job.pk]))
    assert response.status_code == 404


def test_managers_list_the_projects_jobs(client_for, project, manager, reviewer):
    make_job(project, manager, state="failed", error="It broke <i>here</i>.")
    make_job(project, reviewer, state="running", done=5, total=10)
    body = client_for(manager).get(reverse("project-jobs", args=[project.slug])).content.decode()
    assert "Failed: It broke &lt;i&gt;here&lt;/i&gt;." in body
    assert "5 of 10" in body
    assert client_for(reviewer).get(reverse("project-jobs", args=[project.slug])).status_code == 403


# --- agreement recompute ---------------------------------------------------------------------


def test_managers_have_a_recompute_button_and_reviewers_do_not(
    client_for, project, manager, reviewer
):
    page = reverse("agreement", args=[project.slug])
    action = reverse("agreement-recompute", args=[project.slug])
    assert action in client_for(manager).get(page).content.decode()
    assert action not in client_for(reviewer).get(page).content.decode()
    assert client_for(reviewer).post(action).status_code == 403
    assert not Job.objects.exists()


def test_recompute_runs_as_a_job_and_leads_to_its_page(client_for, project, manager):
    response = client_for(manager).post(reverse("agreement-recompute", args=[project.slug]))
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job_page(job)
    assert job.kind == Job.Kind.RECOMPUTE and job.state == Job.State.SUCCEEDED
    body = client_for(manager).get(job_page(job)).content.decode()
    assert "0 of 0 articles compared" in body


# --- releases --------------------------------------------------------------------------------


def test_the_release_page_makes_a_release_through_a_job(client_for, project, reviewer):
    finalise(project, reviewer, 2)
    client = client_for(reviewer)
    response = client.post(reverse("releases", args=[project.slug]), {"name": "v1", "note": "n"})
    job = Job.objects.get()
    assert response["Location"] == job_page(job)
    release = Release.objects.get(name="v1")
    body = client.get(job_page(job)).content.decode()
    assert f"Release v1: 2 articles, sha256 <code>{release.sha256}</code>." in body
    listed = client.get(reverse("releases", args=[project.slug])).content.decode()
    assert reverse("api-release-download", args=[project.slug, "v1"]) in listed


def test_a_bad_release_name_is_shown_on_the_page_and_nothing_is_queued(
    client_for, project, reviewer
):
    finalise(project, reviewer, 1)
    response = client_for(reviewer).post(
        reverse("releases", args=[project.slug]), {"name": "not a name", "note": "keep me"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "A release name is 1 to 64 letters" in body
    assert "keep me" in body
    assert not Job.objects.exists()


def test_editors_cannot_make_releases(client_for, project, editor):
    assert client_for(editor).get(reverse("releases", args=[project.slug])).status_code == 403


# --- the import page -------------------------------------------------------------------------


def jsonl(count: int) -> bytes:
    return "\n".join(
        json.dumps({"external_id": f"e{i}", "title": f"T{i}", "text": f"Text {i}."})
        for i in range(count)
    ).encode()


def test_a_large_upload_is_imported_by_a_job(client_for, project, manager, editor, settings):
    settings.IMPORT_SYNC_LIMIT = 2
    client = client_for(manager)
    response = client.post(
        reverse("import-articles", args=[project.slug]),
        {"mode": "upload", "file": SimpleUploadedFile("big.jsonl", jsonl(3))},
    )
    job = Job.objects.get()
    assert response["Location"] == job_page(job)
    assert job.params == {"format": "auto", "name": "big.jsonl"}
    assert Article.objects.filter(project=project).count() == 3
    page = client.get(reverse("import-articles", args=[project.slug])).content.decode()
    assert "Recent large imports" in page
    assert f'href="{job_page(job)}">big.jsonl #{job.pk}</a>' in page


def test_a_small_upload_is_imported_at_once(client_for, project, manager, settings):
    settings.IMPORT_SYNC_LIMIT = 3
    response = client_for(manager).post(
        reverse("import-articles", args=[project.slug]),
        {"mode": "upload", "file": SimpleUploadedFile("small.jsonl", jsonl(3))},
    )
    assert response["Location"] == reverse("import-articles", args=[project.slug])
    assert not Job.objects.exists()


def test_a_bad_large_upload_lists_its_errors_and_queues_nothing(
    client_for, project, manager, settings
):
    settings.IMPORT_SYNC_LIMIT = 1
    data = jsonl(3) + b'\n{"external_id": "x"}'
    response = client_for(manager).post(
        reverse("import-articles", args=[project.slug]),
        {"mode": "upload", "file": SimpleUploadedFile("bad.jsonl", data)},
    )
    assert response.status_code == 400
    assert "Nothing was imported from bad.jsonl" in response.content.decode()
    assert not Job.objects.exists()


def test_other_peoples_import_jobs_are_not_listed_to_an_uploading_editor(client_for, db):
    open_project = make_project("open-desk", editors_can_upload=True)
    uploader = make_user("ula")
    Membership.objects.create(project=open_project, user=uploader, role=Role.EDITOR)
    manager = make_user("mia")
    Membership.objects.create(project=open_project, user=manager, role=Role.MANAGER)
    make_job(open_project, manager, params={"name": "secret.jsonl"})
    page = client_for(uploader).get(reverse("import-articles", args=[open_project.slug]))
    assert "secret.jsonl" not in page.content.decode()


# --- the admin -------------------------------------------------------------------------------


def test_the_admin_shows_jobs_read_only_without_their_upload(client_for, project, admin_user):
    job = make_job(project, admin_user, state="failed", error="It stopped <b>here</b>.")
    job.set_payload(b'{"external_id": "secret-upload"}')
    job.save()
    client = client_for(admin_user)
    listed = client.get(reverse("admin:annotate_job_changelist"))
    assert listed.status_code == 200
    page = client.get(reverse("admin:annotate_job_change", args=[job.pk])).content.decode()
    assert "It stopped &lt;b&gt;here&lt;/b&gt;." in page
    assert "payload" not in page
    assert client.post(reverse("admin:annotate_job_delete", args=[job.pk])).status_code == 403
    assert Job.objects.filter(pk=job.pk).exists()
