"""Stored XSS, in a real browser: the labelling page, the adjudication page and the agreement
side-by-side, full of hostile titles, text, label names and notes, open no dialog and report
no Content-Security-Policy violation, also while the page's own scripts run."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ..security.conftest import HOSTILE, _side

pytestmark = pytest.mark.browser


@pytest.fixture
def hostile(transactional_db):
    return _side("alpha")


def _watch(page) -> tuple[list[str], list[str]]:
    dialogs: list[str] = []
    violations: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    def on_console(message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    return dialogs, violations


def test_hostile_data_runs_nothing_in_the_browser(new_page, log_in, hostile):
    editor_page = new_page()
    dialogs, violations = _watch(editor_page)
    log_in(editor_page, hostile.editor)
    editor_page.goto(reverse("article", args=[hostile.open_article.pk]))
    editor_page.wait_for_load_state("networkidle")
    assert "<script>alert(1)</script>" in editor_page.text_content("main")
    # The page's scripts handle the hostile label names too: hover and pick a span.
    editor_page.hover("mark.span >> nth=0")
    editor_page.click("mark.span >> nth=0")
    editor_page.wait_for_load_state("networkidle")

    reviewer_page = new_page()
    more_dialogs, more_violations = _watch(reviewer_page)
    log_in(reviewer_page, hostile.reviewer)
    for url in (
        reverse("adjudicate", args=[hostile.article.pk]),
        reverse("adjudicate", args=[hostile.open_article.pk]),
        reverse("agreement", args=[hostile.project.slug]),
        reverse("agreement-article", args=[hostile.project.slug, hostile.article.pk]),
        reverse("annotation-history", args=[hostile.article.pk]) + "?gold=1",
    ):
        reviewer_page.goto(url)
        reviewer_page.wait_for_load_state("networkidle")
        assert HOSTILE[:25] in reviewer_page.content().replace("&lt;", "<").replace("&gt;", ">")
        reviewer_page.mouse.move(200, 300)

    assert dialogs + more_dialogs == []
    assert violations + more_violations == []


def test_a_csp_violation_would_be_reported(new_page, log_in, hostile):
    """The control: an inline script injected into the page is blocked and reported, so the
    test above would see one."""
    page = new_page()
    dialogs, violations = _watch(page)
    log_in(page, hostile.editor)
    page.goto(reverse("article", args=[hostile.open_article.pk]))
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'alert(1)'; document.body.appendChild(s); }"""
    )
    page.wait_for_timeout(200)
    assert dialogs == []
    assert violations, "the browser should report the blocked inline script"
