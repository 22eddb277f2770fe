"""Injection: hostile strings stored in every user-writable field are inert on every page,
in the admin, in the API docs and in the CSV downloads; an enforcing Content-Security-Policy
is sent with every HTML response."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from annotate.models import Annotation, AnnotationVersion, Membership, Role
from annotate.services.annotations import gold_for

from ..factories import make_annotation, make_article, make_member, make_user
from .conftest import HOSTILE, TEMPLATE, TEXT, assert_inert, login

CSP_REQUIRED = ("script-src 'self'", "style-src 'self'", "object-src 'none'")


def _pages(world) -> list[tuple[object, str]]:
    """(who, url) of every page that shows user data, for the role that sees most of it."""
    a = world.alpha
    art, open_art = a.article.pk, a.open_article.pk
    history = reverse("annotation-history", args=[art])
    diff = reverse("annotation-diff", args=[art])
    agreement = reverse("agreement", args=["alpha"])
    return [
        (a.editor, reverse("home")),
        (a.manager, reverse("home")),
        (a.editor, reverse("project", args=["alpha"])),
        (a.manager, reverse("project", args=["alpha"])),
        (a.editor, reverse("article", args=[art])),
        (a.editor, reverse("article", args=[open_art])),
        (a.reviewer, reverse("article", args=[art])),
        (a.editor, reverse("span-detail", args=[open_art, _span(a.open_article, a.editor)])),
        (a.editor, history),
        (a.editor, f"{diff}?from=0&to=1"),
        (a.reviewer, f"{history}?annotator=alpha_other"),
        (a.reviewer, f"{history}?gold=1"),
        (a.reviewer, f"{diff}?gold=1&from=1&to=2"),
        (a.reviewer, f"{history}?annotator=alpha_other&version=1"),
        (a.reviewer, reverse("review-queue", args=["alpha"]) + "?status=all"),
        (a.reviewer, reverse("adjudicate", args=[art])),
        (a.reviewer, reverse("adjudicate", args=[open_art])),
        (a.reviewer, reverse("adjudicate", args=[art]) + "?layer=alpha_editor"),
        (a.reviewer, agreement),
        (a.reviewer, agreement + "?unit=char&labels=ACTOR,LOCATION"),
        (a.reviewer, reverse("agreement-article", args=["alpha", art])),
        (a.manager, reverse("import-articles", args=["alpha"])),
        (a.manager, reverse("project-schema", args=["alpha"])),
        (a.manager, reverse("schema-attribute", args=["alpha", a.extra["attribute"].pk])),
        (a.manager, reverse("schema-attribute-remove", args=["alpha", a.extra["attribute"].pk])),
        (a.manager, reverse("schema-relation-type", args=["alpha", a.extra["relation_type"].pk])),
        (a.editor, reverse("profile")),
        (None, reverse("login")),
        (None, "/api/docs/"),
    ]


def _span(article, editor) -> int:
    annotation = Annotation.objects.get(article=article, annotator=editor)
    return annotation.current_spans().first().pk


def _get(user, url: str, **headers):
    client = login(user) if user is not None else Client()
    return client.get(url, **headers)


def test_every_page_renders_hostile_data_inert(world):
    for user, url in _pages(world):
        response = _get(user, url)
        assert response.status_code == 200, (url, response.status_code)
        assert_inert(response.content.decode(), url)


def test_htmx_fragments_render_hostile_data_inert(world):
    for user, url in _pages(world):
        response = _get(user, url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, (url, response.status_code)
        assert_inert(response.content.decode(), f"{url} (htmx)")


def test_hostile_data_is_shown_as_text(world):
    """Escaped, not dropped: the editor sees exactly what was stored, template tags too."""
    body = _get(world.alpha.editor, reverse("article", args=[world.alpha.article.pk]))
    body = body.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert TEMPLATE.replace("'", "&#x27;") in body
    assert "&lt;img src=x onerror=" in body


def test_every_html_response_has_an_enforcing_csp(world):
    for user, url in _pages(world):
        response = _get(user, url)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "Content-Security-Policy-Report-Only" not in response.headers, url
        for directive in CSP_REQUIRED:
            assert directive in policy, (url, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (url, policy)


def test_error_pages_have_the_csp_too(world):
    client = login(world.alpha.editor)
    for url in ("/no-such-page/", reverse("article", args=[world.beta.article.pk])):
        response = client.get(url)
        assert response.status_code == 404
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert_inert(response.content.decode(), url)


def test_login_form_echo_is_inert(world):
    response = Client().post(reverse("login"), {"username": HOSTILE, "password": "x"})
    assert response.status_code == 200
    assert_inert(response.content.decode(), "login")


def test_next_parameter_is_not_reflected_raw(world):
    url = reverse("login") + '?next="><script>alert(1)</script>'
    assert_inert(Client().get(url).content.decode(), url)


def test_import_page_errors_are_inert(world):
    """Errors quote the file name and the offending line: both escaped."""
    client = login(world.alpha.manager)
    bad = (f'{{"external_id": "x1", "text": 5, "title": "{HOSTILE}"}}\n{HOSTILE}\n').encode()
    upload = SimpleUploadedFile(f"{HOSTILE[:60]}.jsonl", bad, content_type="application/json")
    response = client.post(
        reverse("import-articles", args=["alpha"]), {"mode": "upload", "file": upload}
    )
    assert response.status_code == 400, response.status_code
    assert_inert(response.content.decode(), "import errors")
    response = client.post(
        reverse("import-articles", args=["alpha"]),
        {"mode": "paste", "title": HOSTILE, "url": HOSTILE, "text": ""},
    )
    assert response.status_code == 400
    assert_inert(response.content.decode(), "paste errors")


def test_imported_hostile_article_is_inert_on_the_labelling_page(world):
    side = world.alpha
    client = login(side.manager)
    response = client.post(
        reverse("import-articles", args=["alpha"]),
        {"mode": "paste", "title": HOSTILE, "external_id": "imp-1", "text": f"Body {HOSTILE}"},
    )
    assert response.status_code in (200, 302, 303), response.status_code
    article = side.project.articles.get(external_id="imp-1")
    assert article.title == HOSTILE
    assert_inert(client.get(reverse("article", args=[article.pk])).content.decode(), "imported")


def test_rejected_writes_echo_input_inert(world):
    """A refused span or gold note comes back in an alert or a form: escaped."""
    side = world.alpha
    client = login(side.editor)
    version = Annotation.objects.get(article=side.open_article, annotator=side.editor).version
    response = client.post(
        reverse("span-add", args=[side.open_article.pk]),
        {"start": "0", "end": "6", "quote": HOSTILE, "label": HOSTILE, "base_version": version},
    )
    assert response.status_code == 400
    assert_inert(response.content.decode(), "span refused")
    reviewer = login(side.reviewer)
    response = reviewer.post(
        reverse("review-accept", args=[side.open_article.pk]),
        {"span": "x", "base_version": "0", "note": HOSTILE, "layer": HOSTILE},
    )
    assert response.status_code == 400
    assert_inert(response.content.decode(), "gold refused")
    response = reviewer.get(
        reverse("adjudicate", args=[side.open_article.pk]) + "?layer=" + HOSTILE
    )
    assert_inert(response.content.decode(), "layer echo")
    response = reviewer.get(reverse("review-queue", args=["alpha"]) + "?label=" + HOSTILE)
    assert_inert(response.content.decode(), "queue filter echo")
    response = reviewer.get(reverse("agreement", args=["alpha"]) + "?labels=" + HOSTILE)
    assert_inert(response.content.decode(), "agreement filter echo")


# --- The admin -------------------------------------------------------------------------

ADMIN_MODELS = [
    "annotate/project",
    "annotate/label",
    "annotate/membership",
    "annotate/article",
    "annotate/assignment",
    "annotate/annotation",
    "annotate/annotationversion",
    "annotate/span",
    "auth/user",
]


def test_admin_changelists_and_change_pages_are_inert(world):
    from django.apps import apps

    client = login(world.admin)
    pages = ["/admin/"]
    for path in ADMIN_MODELS:
        app, model = path.split("/")
        pages.append(f"/admin/{app}/{model}/")
        pages.append(f"/admin/{app}/{model}/?q=%3Cscript%3E")
        obj = apps.get_model(app, model).objects.order_by("pk").first()
        pages.append(f"/admin/{app}/{model}/{obj.pk}/change/")
    gold = gold_for(world.alpha.article)
    pages.append(f"/admin/annotate/annotation/{gold.pk}/diff/?from=1&to=2")
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert_inert(response.content.decode(), url)
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


# --- CSV downloads ---------------------------------------------------------------------

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def formula_project(world):
    """Titles, ids and usernames that a spreadsheet would run as formulas."""
    project = world.alpha.project
    a = make_member(project, make_user("@SUM.1"), Role.EDITOR)
    b = make_member(project, make_user("-2+3"), Role.EDITOR)
    for i, title in enumerate(['=HYPERLINK("http://evil.example","x")', "+1", "-1", "@A1", "\t=1"]):
        article = make_article(
            project, TEXT, title=title, external_id=f"=cmd|' /C calc'!A{i}", editors=[a, b]
        )
        make_annotation(article, a, [(0, 6, "ACTOR")], submit=True)
        make_annotation(article, b, [(0, 6, "LOCATION")], submit=True)
    return project


@pytest.mark.parametrize("name", ["agreement-articles-csv", "agreement-pairs-csv"])
def test_csv_cells_cannot_start_a_formula(world, formula_project, name):
    response = login(world.alpha.reviewer).get(reverse(name, args=["alpha"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) > 1
    cells = [cell for row in rows for cell in row]
    for cell in cells:
        if cell.startswith(DANGEROUS):
            # A number we wrote ourselves (a negative kappa) is the only exception.
            float(cell)
    assert any(cell.startswith("'=HYPERLINK") for cell in cells) or name.endswith("pairs-csv")
    assert any(cell.startswith("'@SUM.1") or cell.startswith("'-2+3") for cell in cells)


def test_every_csv_route_is_checked():
    from django.urls import get_resolver

    from .test_authorization import patterns

    csv_routes = {name for name, route in patterns(get_resolver()) if ".csv" in route}
    assert csv_routes == {"agreement-articles-csv", "agreement-pairs-csv"}


def test_hostile_notes_are_stored_verbatim_and_shown_escaped(world):
    note = AnnotationVersion.objects.filter(note__contains="<script>").first()
    assert note is not None
    body = _get(
        world.alpha.reviewer,
        reverse("annotation-history", args=[world.alpha.article.pk]) + "?gold=1",
    )
    assert "Gold note &lt;script&gt;" in body.content.decode()
    assert Membership.objects.filter(user__first_name="<script>alert(1)</script>").exists()
