"""The task the workers run (``manage.py db_worker`` with the database backend; inline with the
immediate one). Its argument is a job's id only: everything else is in the job's row."""

from __future__ import annotations

from django_tasks import task

from .services import jobs


@task()
def run_job(job_id: int) -> None:
    jobs.run(job_id)
