"""Guidelines: one size limit (API, admin, model), Markdown rendered once per change and
stored, escaped as before, and pathological Markdown rendered in linear time."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotate import guidelines
from annotate.guidelines import MAX_CHARS, render
from annotate.models import Project

from .api_support import api
from .conftest import login
from .factories import make_article, make_project

pytestmark = pytest.mark.django_db

TOO_LONG = "a" * (MAX_CHARS + 1)


@pytest.fixture
def renders(monkeypatch):
    """How many times Markdown was rendered."""
    counted = {"n": 0}
    original = guidelines.render

    def counting(source: str) -> str:
        counted["n"] += 1
        return original(source)

    monkeypatch.setattr(guidelines, "render", counting)
    return counted


def test_the_api_refuses_guidelines_over_the_limit(project, manager):
    response = api(manager).patch(
        f"/api/projects/{project.slug}/", {"guidelines": TOO_LONG}, format="json"
    )
    assert response.status_code == 400
    assert "100,000 characters" in str(response.json())
    project.refresh_from_db()
    assert project.guidelines != TOO_LONG


def test_the_api_accepts_guidelines_at_the_limit(project, manager):
    text = "b" * MAX_CHARS
    response = api(manager).patch(
        f"/api/projects/{project.slug}/", {"guidelines": text}, format="json"
    )
    assert response.status_code == 200, response.content
    project.refresh_from_db()
    assert project.guidelines == text


def test_a_new_project_with_guidelines_over_the_limit_is_refused(admin_user):
    response = api(admin_user).post(
        "/api/projects/",
        {"name": "Big", "slug": "big", "guidelines": TOO_LONG},
        format="json",
    )
    assert response.status_code == 400
    assert not Project.objects.filter(slug="big").exists()


def test_the_admin_refuses_guidelines_over_the_limit(project, admin_user):
    url = reverse("admin:annotate_project_change", args=[project.pk])
    client = login(admin_user)
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: form.initial.get(name, field.initial)
        for name, field in form.fields.items()
        if form.initial.get(name, field.initial) is not None
    }
    data["guidelines"] = TOO_LONG
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert "100,000 characters" in response.content.decode()
    project.refresh_from_db()
    assert project.guidelines != TOO_LONG


def test_the_model_refuses_guidelines_over_the_limit(project):
    project.guidelines = TOO_LONG
    with pytest.raises(ValidationError, match="100,000 characters"):
        project.full_clean()


def test_guidelines_are_rendered_when_they_change_and_not_per_view(project, editor, renders):
    project.guidelines = "# Rules\n\nMark **every** actor."
    project.save()
    assert renders["n"] == 1
    article = make_article(project, editors=[editor])
    client = login(editor)
    for url in (reverse("project", args=[project.slug]), reverse("article", args=[article.pk])):
        for _ in range(3):
            page = client.get(url).content.decode()
            assert "<strong>every</strong>" in page
    project.name = "Renamed"
    project.save()
    Project.objects.get(pk=project.pk).save()
    assert renders["n"] == 1


def test_the_stored_html_follows_every_change(project):
    project.guidelines = "*one*"
    project.save()
    assert Project.objects.get(pk=project.pk).guidelines_html == "<p><em>one</em></p>\n"
    loaded = Project.objects.get(pk=project.pk)
    loaded.guidelines = "*two*"
    loaded.save(update_fields=["guidelines"])
    assert Project.objects.get(pk=project.pk).guidelines_html == "<p><em>two</em></p>\n"
    api_changed = make_project("via-api", guidelines="**three**")
    assert api_changed.guidelines_html == "<p><strong>three</strong></p>\n"


def test_the_stored_html_escapes_raw_html_and_refuses_script_links():
    project = make_project(
        "hostile", guidelines="<script>alert(1)</script> [x](javascript:alert(2)) <b>b</b>"
    )
    html = project.guidelines_html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in html.replace("[x](javascript:alert(2))", "")
    assert "<b>" not in html


def _cpu_seconds(source: str) -> float:
    """The least CPU time of two renderings (CPU, not wall time: the machine may be busy)."""
    times = []
    for _ in range(2):
        started = time.process_time()
        render(source)
        times.append(time.process_time() - started)
    return min(times)


PATHOLOGICAL = {
    "brackets": "[",
    "images": "![",
    "links": "[a](",
    "nested-brackets": "[[]",
    "emphasis": "*a **b ",
    "quoted-brackets": "> [",
    "listed-brackets": "\n- [",
    "backticks": "a`",
}


@pytest.mark.parametrize("unit", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_markdown_renders_in_time_linear_in_its_size(unit):
    """Four times the text takes about four times the time, not sixteen. (Linear, but some
    tens of microseconds a character: 1.6 MB of `[` took 24 s on every page view before
    guidelines were capped and rendered once per change.)"""
    small = _cpu_seconds(unit * (2_500 // len(unit)))
    large = _cpu_seconds(unit * (10_000 // len(unit)))
    assert large < 9 * max(small, 0.005), (small, large)


@pytest.mark.parametrize(
    "source",
    [
        ">" * MAX_CHARS,
        "\n".join(">" * depth + " x" for depth in range(400)),
        "".join("  " * depth + "- x\n" for depth in range(400)),
        "|a|b|\n|-|-|\n" + "|x|y|\n" * 3_000,
    ],
    ids=["quotes", "nested-quotes", "nested-lists", "table"],
)
def test_pathological_guidelines_of_the_largest_size_render_once_in_bounded_time(source):
    """Deep nesting is cut off at markdown-it's nesting limit, not followed down."""
    assert _cpu_seconds(source) < 5
