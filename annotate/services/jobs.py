"""Background jobs: starting them (validated first, so bad input is refused before anything is
queued) and running them, which is what the task worker does (:mod:`annotate.tasks`).

A job's state, progress, result and error are rows in the database, written in their own
short statements between the steps of the work, so every app server shows the same progress.
With the immediate task backend (SQLite, the demo, tests) a job runs inside the request that
starts it and is finished when the answer comes back.

Imports commit in batches of IMPORT_JOB_BATCH articles, each batch atomic. A failure stops
the job at the batch it happened in; the job then says how many articles the batches before
had imported, and running the same import again completes it (articles already present are
skipped). Recomputes and releases are each one transaction: all or nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from ..article_parsing import Format, Issue
from ..models import Annotation, Job, Project, Role
from .annotations import AnnotationError, NotAllowed
from .importing import (
    ImportResult,
    InvalidImport,
    can_import,
    check_unique_ids,
    import_articles,
    parse_upload,
)
from .releases import ReleaseError, check_name, create_release, project_agreement

logger = logging.getLogger(__name__)

SHOWN_SKIPPED = 1_000  # skipped external ids kept in a job's result; the count is always exact


class JobFailed(Exception):
    """The job cannot go on; `detail` says why, for the person who started it."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


# --- Starting --------------------------------------------------------------------------------


def prefers_async(prefer_header: str) -> bool:
    """RFC 7240: the client asked for ``Prefer: respond-async``."""
    tokens = (part.split(";")[0].strip().lower() for part in prefer_header.split(","))
    return "respond-async" in tokens


def import_is_large(count: int) -> bool:
    return count > settings.IMPORT_SYNC_LIMIT


def parse_import(
    *,
    project: Project,
    role: str | None,
    data: bytes,
    name: str = "",
    format: Format | str = "auto",
) -> list:
    """The records of an upload, with the same checks as an import made at once: the
    uploader's rights, every item valid, no external id twice. Raises before anything is
    written or queued."""
    if role is not None and not can_import(project, role):
        raise NotAllowed("You cannot add articles to this project.")
    records = parse_upload(data, name=name, format=format)
    if role == Role.EDITOR and len(records) > 1:
        raise InvalidImport(
            [Issue(f"editors add one article at a time; this upload has {len(records)}")]
        )
    check_unique_ids(records)
    return records


def start_import(
    *, project: Project, user, data: bytes, count: int, name: str = "", format: str
) -> Job:
    """Queue the import of an upload already checked by :func:`parse_import` (`count` is its
    number of articles). The upload itself is kept, compressed, in the job's row."""
    job = Job(
        project=project,
        kind=Job.Kind.IMPORT,
        started_by=user,
        total=count,
        params={"format": format, "name": name[:200]},
        message=f"Waiting for a worker to import {count:,} articles.",
    )
    job.set_payload(data)
    job.save()
    return _enqueue(job)


def start_recompute(*, project: Project, user) -> Job:
    """Queue a full agreement recompute; while one is queued or running, that one is the
    answer (a second would only redo the same work)."""
    running = Job.objects.filter(project=project, kind=Job.Kind.RECOMPUTE).unfinished().first()
    if running is not None:
        return running
    articles = project.articles.count()
    job = Job.objects.create(
        project=project,
        kind=Job.Kind.RECOMPUTE,
        started_by=user,
        message=f"Waiting for a worker to recompute the agreement of {articles:,} articles.",
    )
    return _enqueue(job)


def final_gold_count(project: Project) -> int:
    return (
        Annotation.objects.gold().filter(article__project=project, final=True, version__gt=0)
    ).count()


def check_release(*, project: Project, name: object, note: object) -> tuple[str, str]:
    """The release's name and note, or ReleaseError: checked before a job is queued."""
    name = check_name(project, name)
    if not isinstance(note, str) or len(note) > 2000 or "\x00" in note:
        raise ReleaseError("The note must be text of at most 2000 characters.")
    if not final_gold_count(project):
        raise ReleaseError(
            "There is no final gold to release yet: adjudicate some articles and mark "
            "their gold final first."
        )
    return name, note


def release_is_large(project: Project) -> bool:
    return final_gold_count(project) > settings.RELEASE_SYNC_LIMIT


def start_release(*, project: Project, user, name: object, note: object = "") -> Job:
    name, note = check_release(project=project, name=name, note=note)
    job = Job.objects.create(
        project=project,
        kind=Job.Kind.RELEASE,
        started_by=user,
        total=final_gold_count(project),
        params={"name": name, "note": note},
        message=f"Waiting for a worker to build release {name}.",
    )
    return _enqueue(job)


def _enqueue(job: Job) -> Job:
    from ..tasks import run_job  # the task module imports this one

    result = run_job.enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))
    # Not the upload again: only what the job's run may have changed.
    job.refresh_from_db(fields=REFRESHED)
    return job


REFRESHED = [
    "state",
    "done",
    "total",
    "message",
    "result",
    "error",
    "task_id",
    "started_at",
    "finished_at",
    "updated_at",
]


# --- Running ---------------------------------------------------------------------------------


def run(job_id: int) -> None:
    """Run a queued job to its end: succeeded with its result, or failed with its error in
    words. A job that is no longer queued (another worker took it, or it was run already)
    is left alone, so a task delivered twice does the work once."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING, started_at=now, updated_at=now, message="Started."
    )
    if not claimed:
        return
    job = Job.objects.select_related("project", "started_by").get(pk=job_id)
    try:
        result = RUNNERS[job.kind](job)
    except JobFailed as exc:
        _finish(job, Job.State.FAILED, error=exc.detail)
    except (AnnotationError, ReleaseError) as exc:
        _finish(job, Job.State.FAILED, error=exc.detail)
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        _finish(
            job,
            Job.State.FAILED,
            error=f"The job stopped on an unexpected error ({type(exc).__name__}). "
            "The administrators can find it in the server log.",
        )
        raise
    else:
        _finish(job, Job.State.SUCCEEDED, result=result)


def _finish(job: Job, state: str, *, result: Any = None, error: str = "") -> None:
    now = timezone.now()
    fields: dict[str, Any] = {
        "state": state,
        "result": result,
        "error": error,
        "finished_at": now,
        "updated_at": now,
        "payload": None,
        "message": "Done." if state == Job.State.SUCCEEDED else "Failed.",
    }
    if state == Job.State.SUCCEEDED and job.total is not None:
        fields["done"] = job.total
    Job.objects.filter(pk=job.pk).update(**fields)


def fail_stalled(*, minutes: int) -> int:
    """Mark failed the jobs left running with no progress for `minutes` (their worker was
    killed or its machine lost), saying so; returns how many. An import's committed batches
    stay, as its progress says; importing the same file again completes it."""
    now = timezone.now()
    cutoff = now - timedelta(minutes=minutes)
    return Job.objects.filter(state=Job.State.RUNNING, updated_at__lt=cutoff).update(
        state=Job.State.FAILED,
        error=f"The worker running this job stopped: no progress for {minutes} minutes. "
        "Anything it had committed stays (see the progress); start it again to finish.",
        message="Failed.",
        finished_at=now,
        updated_at=now,
        payload=None,
    )


def progress(job: Job, done: int, message: str) -> None:
    """Record how far the job is: one short statement, committed at once outside a
    transaction, so other servers see it."""
    job.done = done
    Job.objects.filter(pk=job.pk).update(
        done=done, message=message[:500], updated_at=timezone.now()
    )


def _run_import(job: Job) -> dict[str, Any]:
    records = parse_upload(
        job.read_payload(), name=job.params.get("name", ""), format=job.params["format"]
    )
    if job.total != len(records):
        # Limits changed between the servers; say so rather than import something else.
        raise JobFailed(
            f"The upload now reads as {len(records):,} articles, not {job.total:,}; "
            "nothing was imported."
        )
    done = ImportResult()
    size = max(1, settings.IMPORT_JOB_BATCH)
    for start in range(0, len(records), size):
        try:
            part = import_articles(
                project=job.project, records=records[start : start + size], user=job.started_by
            )
        except AnnotationError as exc:
            raise JobFailed(_stopped(exc.detail, done, start, len(records)))
        except Exception as exc:
            logger.exception("import job %s failed", job.pk)
            raise JobFailed(
                _stopped(f"an unexpected error ({type(exc).__name__})", done, start, len(records))
            )
        done.add(part)
        end = start + len(part.article_ids) + len(part.skipped)
        progress(job, end, f"Imported {done.created:,} of {len(records):,} articles.")
    return {
        "created": done.created,
        "skipped": done.skipped[:SHOWN_SKIPPED],
        "skipped_count": len(done.skipped),
        "assigned": done.assigned,
    }


def _stopped(why: str, done: ImportResult, start: int, total: int) -> str:
    if not start:
        return f"Nothing was imported: {why}"
    return (
        f"Stopped at article {start + 1:,} of {total:,}: {why}. The {start:,} articles "
        f"before it were imported ({done.created:,} new, {len(done.skipped):,} already "
        "present); import the same file again to add the rest (those are skipped)."
    )


def _run_recompute(job: Job) -> dict[str, Any]:
    from .agreement import recompute_project

    summary = recompute_project(job.project)
    return {
        "articles": summary.articles,
        "compared": summary.compared,
        "groups": summary.groups,
        "removed": summary.removed,
    }


def _run_release(job: Job) -> dict[str, Any]:
    def step(read: int, total: int) -> None:
        progress(job, min(read, job.total or read), f"Read {read:,} of {total:,} articles.")

    release = create_release(
        project=job.project,
        name=job.params["name"],
        note=job.params.get("note", ""),
        user=job.started_by,
        agreement=project_agreement(job.project),
        progress=step,
    )
    return {"name": release.name, "articles": release.article_count, "sha256": release.sha256}


RUNNERS: dict[str, Callable[[Job], dict[str, Any]]] = {
    Job.Kind.IMPORT: _run_import,
    Job.Kind.RECOMPUTE: _run_recompute,
    Job.Kind.RELEASE: _run_release,
}
