"""A job's page in a real browser: the status box follows the job by htmx polling, from
running with its progress bar to its result, without a reload and within the page's
Content-Security-Policy."""

from __future__ import annotations

import pytest

from annotate.models import Job, Role

from ..factories import make_member, make_project, make_user

pytestmark = pytest.mark.browser


def test_the_job_page_follows_a_job_to_its_end(new_page, log_in):
    project = make_project("jobs-desk")
    manager = make_member(project, make_user("mona"), Role.MANAGER)
    job = Job.objects.create(
        project=project,
        kind=Job.Kind.IMPORT,
        started_by=manager,
        state=Job.State.RUNNING,
        done=2_000,
        total=5_000,
        message="Imported 2,000 of 5,000 articles.",
    )
    page = new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content-Security" in m.text else 0)
    log_in(page, manager)
    page.goto(f"/projects/{project.slug}/jobs/{job.pk}/")
    status = page.locator("#job-status")
    assert status.locator("progress").get_attribute("value") == "2000"
    assert "Imported 2,000 of 5,000 articles." in status.inner_text()
    marker = page.evaluate("() => (window.stayedOnPage = true)")

    Job.objects.filter(pk=job.pk).update(
        state=Job.State.SUCCEEDED,
        done=5_000,
        result={"created": 4_990, "skipped": ["a1"], "skipped_count": 10, "assigned": 9_980},
    )
    page.wait_for_function(
        "() => document.querySelector('#job-status h2').textContent === 'Succeeded'",
        timeout=15_000,
    )
    text = page.locator("#job-status").inner_text()
    assert "Imported 4990 new articles; 9980 assignments made." in text
    assert "Skipped 10 already in the project (same external id): a1 …." in text
    # Polled, not reloaded; and polling stops with the finished job.
    assert marker is True and page.evaluate("() => window.stayedOnPage") is True
    assert page.locator("#job-status[hx-trigger]").count() == 0
    assert violations == []
