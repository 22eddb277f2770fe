"""The ML backend: a project names an HTTP endpoint; importing articles asks it for
predictions after the import commits. Tested against tiny backends served from a thread: a
spaCy EntityRuler on a blank pipeline (no model download), one that never answers in time,
and ones that answer garbage. Whatever the backend does, the import stands."""

from __future__ import annotations

import functools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import spacy
from django.test import override_settings
from django.urls import reverse

from annotate.models import Article, PredictedSpan, Project
from annotate.services.ml_backend import BackendError, ask_backend, check_address

from .api_support import api, assert_error
from .factories import make_article, make_project

pytestmark = pytest.mark.django_db(transaction=True)

ARTICLES = "/api/projects/demo-news/articles/"
PROJECT = "/api/projects/demo-news/"
NEWS = [
    {"external_id": "n1", "title": "One", "text": "Hezbollah fighters entered Aleppo."},
    {"external_id": "n2", "title": "Two", "text": "Shelling hit Idlib; Hezbollah denied it."},
]
# Generous: the machine running the suite may be busy; the timeout test sets its own.
ALLOW = override_settings(ML_BACKEND_ALLOW_PRIVATE=True, ML_BACKEND_TIMEOUT=15)


@functools.cache
def ruler_pipeline():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "ACTOR", "pattern": "Hezbollah"},
            {"label": "LOCATION", "pattern": [{"LOWER": {"IN": ["aleppo", "idlib"]}}]},
        ]
    )
    return nlp


class Backend:
    """A backend in a thread: `answer(payload) -> (status, body bytes[, headers])`; keeps what
    it got."""

    def __init__(self, answer: Callable[[dict], tuple[int, bytes]]):
        self.answer = answer
        self.received: list[dict] = []
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers["Content-Length"])
                payload = json.loads(self.rfile.read(length))
                backend.received.append(payload)
                status, body, *headers = backend.answer(payload)
                try:
                    self.send_response(status)
                    for name, value in (headers[0] if headers else {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/x-ndjson")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: what a timeout test wants

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/predict"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[dict], tuple[int, bytes]]], Backend]]:
    started: list[Backend] = []

    def start(answer):
        backend = Backend(answer)
        started.append(backend)
        return backend

    yield start
    for backend in started:
        backend.close()


def spacy_answer(payload: dict) -> tuple[int, bytes]:
    nlp = ruler_pipeline()
    lines = []
    for article in payload["articles"]:
        doc = nlp(article["text"])
        spans = [
            {"start": e.start_char, "end": e.end_char, "label": e.label_, "score": 0.8}
            for e in doc.ents
        ]
        lines.append(json.dumps({"id": article["id"], "model": "ruler@1", "spans": spans}))
    return 200, "\n".join(lines).encode()


def with_backend(project: Project, url: str) -> Project:
    Project.objects.filter(pk=project.pk).update(ml_backend_url=url)
    project.refresh_from_db()
    return project


def import_news(manager):
    return api(manager).post(ARTICLES, NEWS, format="json")


def predicted() -> list[tuple]:
    return list(
        PredictedSpan.objects.order_by("article__external_id", "start").values_list(
            "article__external_id", "text", "label__key", "model_version__name"
        )
    )


@ALLOW
def test_importing_asks_the_backend_and_stores_its_predictions(serve, project, manager):
    backend = serve(spacy_answer)
    with_backend(project, backend.url)
    response = import_news(manager)
    assert response.status_code == 201, response.content
    assert response.json()["predictions"] == {"articles": 2, "created": 4, "error": None}
    assert predicted() == [
        ("n1", "Hezbollah", "ACTOR", "ruler@1"),
        ("n1", "Aleppo", "LOCATION", "ruler@1"),
        ("n2", "Idlib", "LOCATION", "ruler@1"),
        ("n2", "Hezbollah", "ACTOR", "ruler@1"),
    ]
    [payload] = backend.received
    assert payload["project"] == "demo-news"
    assert [label["key"] for label in payload["labels"]] == [
        "ACTOR", "LOCATION", "CASUALTY", "SOURCE",
    ]  # fmt: skip
    assert [a["id"] for a in payload["articles"]] == ["n1", "n2"]
    project.refresh_from_db()
    assert project.ml_backend_called_at is not None and project.ml_backend_error == ""


@ALLOW
@override_settings(ML_BACKEND_BATCH=1)
def test_articles_go_to_the_backend_in_batches(serve, project, manager):
    backend = serve(spacy_answer)
    with_backend(project, backend.url)
    assert import_news(manager).json()["predictions"]["created"] == 4
    assert [[a["id"] for a in p["articles"]] for p in backend.received] == [["n1"], ["n2"]]


@ALLOW
def test_a_json_array_answer_is_accepted_too(serve, project, manager):
    def as_array(payload):
        status, body = spacy_answer(payload)
        return status, json.dumps([json.loads(line) for line in body.splitlines()]).encode()

    with_backend(project, serve(as_array).url)
    assert import_news(manager).json()["predictions"]["created"] == 4


@ALLOW
@override_settings(ML_BACKEND_TIMEOUT=1)
def test_a_backend_that_does_not_answer_in_time_never_holds_up_the_import(serve, project, manager):
    def too_slow(payload):
        time.sleep(8)
        return spacy_answer(payload)

    with_backend(project, serve(too_slow).url)
    began = time.monotonic()
    response = import_news(manager)
    took = time.monotonic() - began
    assert response.status_code == 201
    assert took < 5, took  # the 1 s timeout plus the import on a busy machine, not the 8 s
    assert "timed out after 1 s (ML_BACKEND_TIMEOUT)" in response.json()["predictions"]["error"]
    assert Article.objects.filter(project=project).count() == 2
    assert not PredictedSpan.objects.exists()
    models = api(manager).get("/api/projects/demo-news/models/").json()
    assert "timed out" in models["ml_backend"]["error"]


def line_of(span: dict) -> bytes:
    return json.dumps({"id": "n1", "model": "m", "spans": [span]}).encode()


@ALLOW
@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((200, b"<html>hello</html>"), "line 1: not valid JSON"),
        ((200, b"[1, 2"), "the answer is not valid JSON"),
        ((500, b"boom"), "the backend answered HTTP 500"),
        ((200, line_of({"start": 0, "end": 999, "label": "ACTOR"})), "end 999 is past the end"),
        ((200, line_of({"start": 0, "end": 3, "label": "GOD"})), "label 'GOD' is not a label"),
    ],
)
def test_a_backend_answering_garbage_never_breaks_the_import(
    serve, project, manager, answer, message
):
    with_backend(project, serve(lambda payload: answer).url)
    response = import_news(manager)
    assert response.status_code == 201
    assert response.json()["created"] == 2
    assert message in response.json()["predictions"]["error"]
    assert not PredictedSpan.objects.exists()
    project.refresh_from_db()
    assert message in project.ml_backend_error


@ALLOW
def test_a_backend_that_redirects_is_not_followed(serve, project, manager):
    """A redirect could lead anywhere, past the address check: it is an error, not a hop."""
    inside = serve(spacy_answer)
    hop = serve(lambda payload: (307, b"", {"Location": inside.url}))
    with_backend(project, hop.url)
    response = import_news(manager)
    assert response.status_code == 201
    assert "the backend answered with a redirect (307)" in response.json()["predictions"]["error"]
    assert inside.received == [] and not PredictedSpan.objects.exists()


@ALLOW
def test_a_backend_may_only_predict_for_the_articles_it_was_sent(serve, project, manager):
    make_article(project, "Older text.", external_id="old")
    line = b'{"id": "old", "model": "m", "spans": []}'
    with_backend(project, serve(lambda payload: (200, line)).url)
    error = import_news(manager).json()["predictions"]["error"]
    assert "there is no article with id 'old' among the articles sent" in error


@ALLOW
def test_a_refused_connection_never_breaks_the_import(project, manager):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with_backend(project, f"http://127.0.0.1:{port}/")
    response = import_news(manager)
    assert response.status_code == 201
    assert "cannot reach the backend" in response.json()["predictions"]["error"]


def test_a_backend_inside_the_network_is_refused_unless_allowed(serve, project, manager):
    backend = serve(spacy_answer)
    with_backend(project, backend.url)
    response = import_news(manager)
    assert response.status_code == 201
    assert "is a private address (127.0.0.1)" in response.json()["predictions"]["error"]
    assert backend.received == []  # never called


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:80/"]
)
def test_private_and_metadata_addresses_are_refused(url):
    with pytest.raises(BackendError, match="is a private address"):
        check_address(url)


@ALLOW
def test_the_import_page_tells_the_manager_what_the_backend_did(
    serve, client_for, project, manager
):
    with_backend(project, serve(lambda payload: (500, b"")).url)
    page = client_for(manager).post(
        reverse("import-articles", args=[project.slug]),
        {"mode": "paste", "text": "Hezbollah fighters entered Aleppo."},
        follow=True,
    )
    text = page.content.decode()
    assert "Imported 1 article" in text
    assert "the ML backend gave no predictions: the backend answered HTTP 500" in text


@ALLOW
def test_the_import_page_reports_the_predictions(serve, client_for, project, manager):
    with_backend(project, serve(spacy_answer).url)
    page = client_for(manager).post(
        reverse("import-articles", args=[project.slug]),
        {"mode": "paste", "text": "Hezbollah fighters entered Aleppo."},
        follow=True,
    )
    assert "The ML backend predicted 2 spans for 1 article." in page.content.decode()


def test_without_a_backend_nothing_is_asked(project, manager):
    response = import_news(manager)
    assert "predictions" not in response.json()
    assert ask_backend(project, [1, 2]).as_dict() == {"articles": 0, "created": 0, "error": None}


# --- setting the URL ----------------------------------------------------------------------------


def test_a_manager_sets_the_backend_url_through_the_api(project, manager):
    response = api(manager).patch(
        PROJECT, {"ml_backend_url": "https://ml.example.org/predict"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["ml_backend_url"] == "https://ml.example.org/predict"
    assert api(manager).patch(PROJECT, {"ml_backend_url": None}, format="json").status_code == 200
    project.refresh_from_db()
    assert project.ml_backend_url == ""


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://ml.example.org/", "must start with http:// or https://"),
        ("file:///etc/passwd", "must start with http:// or https://"),
        ("https://user:secret@ml.example.org/", "must not hold a user name or password"),
        (17, "Give a URL as a string"),
    ],
)
def test_a_backend_url_that_is_not_http_is_refused(project, manager, url, message):
    response = api(manager).patch(PROJECT, {"ml_backend_url": url}, format="json")
    assert message in assert_error(response, 400)["detail"]


def test_only_managers_read_the_backend_url(project, manager, editor, reviewer):
    with_backend(project, "https://ml.example.org/predict?token=s3cret")
    assert api(manager).get(PROJECT).json()["ml_backend_url"].endswith("s3cret")
    for user in (editor, reviewer):
        assert api(user).get(PROJECT).json()["ml_backend_url"] is None


def test_the_admin_refuses_a_backend_url_that_is_not_http(rf, admin_user):
    from django.contrib import admin
    from django.core.exceptions import ValidationError

    project = make_project("adm")
    request = rf.get("/")
    request.user = admin_user
    form = admin.site._registry[Project].get_form(request, project)(instance=project)
    form.cleaned_data = {"ml_backend_url": "ftp://ml.example.org/"}
    with pytest.raises(ValidationError, match="must start with http"):
        form.clean_ml_backend_url()
    form.cleaned_data = {"ml_backend_url": "https://ml.example.org/"}
    assert form.clean_ml_backend_url() == "https://ml.example.org/"


def test_the_admin_shows_the_backend_and_its_last_error(client_for, admin_user):
    project = make_project("adm")
    Project.objects.filter(pk=project.pk).update(ml_backend_error="the backend answered HTTP 500")
    page = client_for(admin_user).get(reverse("admin:annotate_project_change", args=[project.pk]))
    text = page.content.decode()
    assert "ML backend" in text and "the backend answered HTTP 500" in text


def test_the_admin_lists_model_versions_and_predictions_read_only(client_for, admin_user, project):
    from annotate.models import ModelVersion

    article = make_article(project, "Hezbollah fighters.", external_id="x1")
    version = ModelVersion.objects.create(project=project, name="ruler@1")
    actor = project.labels.get(key="ACTOR")
    PredictedSpan.objects.create(
        model_version=version, article=article, start=0, end=9, label=actor, text="Hezbollah",
        score=0.5,
    )  # fmt: skip
    client = client_for(admin_user)
    listing = client.get("/admin/annotate/modelversion/").content.decode()
    assert "ruler@1" in listing and '<td class="field-span_count">1</td>' in listing
    assert client.get("/admin/annotate/modelversion/add/").status_code == 403
    spans = client.get("/admin/annotate/predictedspan/").content.decode()
    assert "Hezbollah" in spans
    assert client.get("/admin/annotate/predictedspan/add/").status_code == 403


def test_a_project_is_created_with_its_backend_url(manager):
    body = {
        "slug": "with-ml",
        "name": "With ML",
        "labels": [{"key": "ACTOR", "name": "Actor", "color": "#ffd966", "hotkey": "1"}],
        "ml_backend_url": "https://ml.example.org/predict",
    }
    response = api(manager).post("/api/projects/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["ml_backend_url"] == "https://ml.example.org/predict"
    assert Project.objects.get(slug="with-ml").ml_backend_url == "https://ml.example.org/predict"


def test_the_import_page_shows_managers_the_backends_last_answer(
    client_for, project, manager, editor
):
    Project.objects.filter(pk=project.pk).update(
        ml_backend_url="https://ml.example.org/predict",
        ml_backend_called_at="2026-12-01T10:00:00Z",
        ml_backend_error="the backend answered HTTP 500 <b>",
    )
    url = reverse("import-articles", args=[project.slug])
    text = client_for(manager).get(url).content.decode()
    assert "it was last asked 2026-12-01 10:00 UTC and gave no predictions: the backend " in text
    assert "HTTP 500 &lt;b&gt;" in text
    Project.objects.filter(pk=project.pk).update(editors_can_upload=True)
    assert "ml-backend-status" not in client_for(editor).get(url).content.decode()
