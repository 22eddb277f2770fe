"""Background jobs (annotate.services.jobs): each kind run to success, failure said in words,
progress recorded, and bad input refused before anything is queued. The tests use the
immediate task backend, so a job has run by the time it is started."""

from __future__ import annotations

import io
import json

import pytest
from django.test import override_settings

from annotate.models import AgreementTotal, Article, Job, Release
from annotate.services import jobs
from annotate.services.annotations import NotAllowed
from annotate.services.importing import InvalidImport
from annotate.services.releases import ReleaseError

from .factories import make_annotation, make_article, make_member, make_user
from .jobs_support import finalise


def upload(*ids: str, text: str = "Rebels shelled Aleppo on Monday.") -> bytes:
    return "\n".join(
        json.dumps({"external_id": i, "title": f"Title {i}", "text": text}) for i in ids
    ).encode()


def start_import(project, user, data: bytes, role="manager") -> Job:
    records = jobs.parse_import(project=project, role=role, data=data, format="jsonl")
    return jobs.start_import(
        project=project, user=user, data=data, count=len(records), format="jsonl"
    )


# --- imports ---------------------------------------------------------------------------------


def test_an_import_job_imports_every_article_and_reports_what_it_did(project, manager, editor):
    make_article(project, "Already here.", external_id="a2")
    job = start_import(project, manager, upload("a1", "a2", "a3"))
    assert job.kind == Job.Kind.IMPORT
    assert job.state == Job.State.SUCCEEDED
    assert job.result == {"created": 2, "skipped": ["a2"], "skipped_count": 1, "assigned": 2}
    assert (job.done, job.total) == (3, 3)
    assert job.error == ""
    assert job.started_by == manager
    assert job.task_id
    assert job.started_at <= job.finished_at
    assert set(project.articles.values_list("external_id", flat=True)) == {"a1", "a2", "a3"}


def test_a_finished_job_no_longer_keeps_its_upload(project, manager):
    job = start_import(project, manager, upload("a1"))
    assert Job.objects.get(pk=job.pk).payload is None


@override_settings(IMPORT_JOB_BATCH=2)
def test_an_import_job_records_its_progress_batch_by_batch(project, manager, monkeypatch):
    seen = []
    real = jobs.progress

    def spy(job, done, message):
        real(job, done, message)
        stored = Job.objects.get(pk=job.pk)
        seen.append((stored.state, stored.done, stored.message))

    monkeypatch.setattr(jobs, "progress", spy)
    job = start_import(project, manager, upload("a1", "a2", "a3", "a4", "a5"))
    assert seen == [
        ("running", 2, "Imported 2 of 5 articles."),
        ("running", 4, "Imported 4 of 5 articles."),
        ("running", 5, "Imported 5 of 5 articles."),
    ]
    assert job.percent == 100


@override_settings(IMPORT_JOB_BATCH=2)
def test_a_failed_batch_fails_the_job_and_says_what_was_imported_before(
    project, manager, monkeypatch
):
    from annotate.services import importing

    real = importing.import_articles
    calls = []

    def second_batch_fails(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise importing.ImportConflict("Another import added some of these articles.")
        return real(**kwargs)

    monkeypatch.setattr(jobs, "import_articles", second_batch_fails)
    job = start_import(project, manager, upload("a1", "a2", "a3", "a4", "a5"))
    assert job.state == Job.State.FAILED
    assert job.result is None
    assert job.error == (
        "Stopped at article 3 of 5: Another import added some of these articles.. The 2 "
        "articles before it were imported (2 new, 0 already present); import the same file "
        "again to add the rest (those are skipped)."
    )
    assert sorted(project.articles.values_list("external_id", flat=True)) == ["a1", "a2"]
    # Run again, as the message says: the rest is added and nothing twice.
    monkeypatch.setattr(jobs, "import_articles", real)
    again = start_import(project, manager, upload("a1", "a2", "a3", "a4", "a5"))
    assert again.result["created"] == 3
    assert again.result["skipped"] == ["a1", "a2"]
    assert project.articles.count() == 5


def test_a_failure_in_the_first_batch_writes_nothing(project, manager, monkeypatch):
    def fails(**kwargs):
        raise InvalidImport([])

    monkeypatch.setattr(jobs, "import_articles", fails)
    job = start_import(project, manager, upload("a1", "a2"))
    assert job.state == Job.State.FAILED
    assert job.error.startswith("Nothing was imported: ")
    assert not Article.objects.exists()


def test_an_unexpected_error_fails_the_job_without_showing_the_exception(
    project, manager, monkeypatch
):
    def crash(**kwargs):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr(jobs, "import_articles", crash)
    job = start_import(project, manager, upload("a1"))
    assert job.state == Job.State.FAILED
    assert "ZeroDivisionError" in job.error
    assert "secret internals" not in job.error


def test_an_invalid_upload_is_refused_before_anything_is_queued(project, manager):
    bad = upload("a1") + b'\n{"external_id": "a2", "title": "t"}'
    with pytest.raises(InvalidImport) as caught:
        jobs.parse_import(project=project, role="manager", data=bad, format="jsonl")
    assert caught.value.errors[0]["line"] == 2
    with pytest.raises(InvalidImport, match="appears twice"):
        jobs.parse_import(project=project, role="manager", data=upload("a1", "a1"), format="jsonl")
    assert not Job.objects.exists()


def test_editors_without_upload_rights_cannot_start_an_import(project, editor):
    with pytest.raises(NotAllowed):
        jobs.parse_import(project=project, role="editor", data=upload("a1"), format="jsonl")


def test_a_job_is_run_once_even_if_its_task_is_delivered_twice(project, manager):
    job = start_import(project, manager, upload("a1"))
    Article.objects.all().delete()
    jobs.run(job.pk)
    assert not Article.objects.exists()
    assert Job.objects.get(pk=job.pk).state == Job.State.SUCCEEDED


def test_import_size_decides_between_answering_at_once_and_a_job(settings):
    settings.IMPORT_SYNC_LIMIT = 1000
    assert not jobs.import_is_large(1000)
    assert jobs.import_is_large(1001)


@pytest.mark.parametrize(
    ("header", "wanted"),
    [
        ("respond-async", True),
        ("Respond-Async, wait=10", True),
        ("wait=5, respond-async; x=1", True),
        ("return=minimal", False),
        ("", False),
        ("respond-asynchronously", False),
    ],
)
def test_prefer_respond_async_is_read_as_rfc_7240_says(header, wanted):
    assert jobs.prefers_async(header) is wanted


# --- agreement recompute ---------------------------------------------------------------------


def test_a_recompute_job_rebuilds_the_statistics(project, editor, other_editor, manager):
    article = make_article(project, "Rebels shelled Aleppo.", editors=[editor, other_editor])
    make_annotation(article, editor, [(0, 6, "ACTOR")], submit=True)
    make_annotation(article, other_editor, [(0, 6, "ACTOR")], submit=True)
    before = sorted(AgreementTotal.objects.values_list("unit", "group", "articles"))
    AgreementTotal.objects.all().delete()
    job = jobs.start_recompute(project=project, user=manager)
    assert job.state == Job.State.SUCCEEDED
    assert job.result == {"articles": 1, "compared": 1, "groups": 1, "removed": 0}
    assert sorted(AgreementTotal.objects.values_list("unit", "group", "articles")) == before


def test_a_failed_recompute_says_why(project, manager, monkeypatch):
    from annotate.services import agreement

    def broken(project):
        raise MemoryError()

    monkeypatch.setattr(agreement, "recompute_project", broken)
    with pytest.raises(MemoryError):
        # The immediate backend records the task as failed; the job says so in words.
        jobs.run(Job.objects.create(project=project, kind=Job.Kind.RECOMPUTE).pk)
    job = Job.objects.get(kind=Job.Kind.RECOMPUTE)
    assert job.state == Job.State.FAILED
    assert "unexpected error (MemoryError)" in job.error


def test_a_second_recompute_while_one_is_waiting_is_the_same_job(project, manager):
    waiting = Job.objects.create(project=project, kind=Job.Kind.RECOMPUTE, started_by=manager)
    assert jobs.start_recompute(project=project, user=manager) == waiting
    assert Job.objects.count() == 1


# --- releases --------------------------------------------------------------------------------


def test_a_release_job_builds_the_release_and_records_progress(project, reviewer, monkeypatch):
    finalise(project, reviewer, 3)
    steps = []
    real = jobs.progress
    monkeypatch.setattr(
        jobs, "progress", lambda job, done, message: (steps.append(done), real(job, done, message))
    )
    job = jobs.start_release(project=project, user=reviewer, name="v1", note="first")
    assert job.state == Job.State.SUCCEEDED
    release = Release.objects.get(project=project, name="v1")
    assert job.result == {"name": "v1", "articles": 3, "sha256": release.sha256}
    assert release.note == "first"
    assert release.created_by == reviewer
    assert steps == [3]
    assert (job.done, job.total) == (3, 3)


def test_a_release_name_is_checked_before_a_job_is_queued(project, reviewer):
    finalise(project, reviewer, 1)
    jobs.start_release(project=project, user=reviewer, name="v1")
    with pytest.raises(ReleaseError, match="already has a release named 'v1'"):
        jobs.start_release(project=project, user=reviewer, name="v1")
    with pytest.raises(ReleaseError, match="release name is 1 to 64"):
        jobs.start_release(project=project, user=reviewer, name="no spaces")
    assert Job.objects.count() == 1


def test_a_release_without_final_gold_is_refused_before_queueing(project, reviewer):
    with pytest.raises(ReleaseError, match="no final gold"):
        jobs.start_release(project=project, user=reviewer, name="v1")
    assert not Job.objects.exists()


def test_a_release_job_fails_in_words_when_the_name_was_taken_meanwhile(project, reviewer):
    finalise(project, reviewer, 1)
    job = Job.objects.create(
        project=project,
        kind=Job.Kind.RELEASE,
        started_by=reviewer,
        total=1,
        params={"name": "v1", "note": ""},
    )
    jobs.start_release(project=project, user=reviewer, name="v1")
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.error == "This project already has a release named 'v1'."


# --- who sees a job --------------------------------------------------------------------------


def test_managers_see_every_job_and_others_only_their_own(project, manager, reviewer):
    other_manager = make_member(project, make_user("boss2"), "manager")
    mine = Job.objects.create(project=project, kind=Job.Kind.RELEASE, started_by=reviewer)
    theirs = Job.objects.create(project=project, kind=Job.Kind.IMPORT, started_by=manager)
    assert set(Job.objects.visible_to(other_manager, "manager")) == {mine, theirs}
    assert list(Job.objects.visible_to(reviewer, "reviewer")) == [mine]


# --- a worker that died ----------------------------------------------------------------------


def test_a_job_left_running_by_a_dead_worker_is_failed_with_a_reason(project, manager):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    stalled = Job.objects.create(project=project, kind=Job.Kind.IMPORT, state="running")
    recent = Job.objects.create(project=project, kind=Job.Kind.IMPORT, state="running")
    queued = Job.objects.create(project=project, kind=Job.Kind.IMPORT)
    Job.objects.filter(pk__in=[stalled.pk, queued.pk]).update(
        updated_at=timezone.now() - timedelta(minutes=61)
    )
    out = io.StringIO()
    call_command("fail_stalled_jobs", "--minutes", "60", stdout=out)
    assert out.getvalue() == "1 stalled job marked failed.\n"
    stalled.refresh_from_db()
    assert stalled.state == "failed"
    assert stalled.error.startswith("The worker running this job stopped: no progress for 60")
    assert Job.objects.get(pk=recent.pk).state == "running"
    assert Job.objects.get(pk=queued.pk).state == "queued"
