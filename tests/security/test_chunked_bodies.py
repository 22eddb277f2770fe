"""Request bodies sent with Transfer-Encoding: chunked, no Content-Length.

Django sizes a body by CONTENT_LENGTH, so such a body used to arrive empty and the import
answered "Send a JSON array". Now a server that decodes chunked bodies (gunicorn sets
wsgi.input_terminated) has the body read in full, and one that cannot is answered 411."""

from __future__ import annotations

import io
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from annotate.chunked import ChunkedBodies
from annotate.models import Article
from annotate.wsgi import application

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = {"external_id": "harbour-1", "text": "The port reopened on Friday."}
BODY = json.dumps([ARTICLE]).encode()


def chunked_environ(body: bytes, path: str, *, terminated: bool = True, **extra) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **({"wsgi.input_terminated": True} if terminated else {}),
        **extra,
    }


class Call:
    """One WSGI call's status, headers and body."""

    def __init__(self, app, environ: dict) -> None:
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        chunks = app(environ, self.start_response)
        self.body = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()

    def start_response(self, status: str, headers: list, exc_info=None) -> None:
        self.status, self.headers = status, headers

    @property
    def code(self) -> int:
        return int(self.status.split()[0])


def echo(environ, start_response):
    """An application that reports the body it was given and its announced length."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"length": environ.get("CONTENT_LENGTH"), "body": body.decode()}).encode()]


def test_a_chunked_body_reaches_the_application_with_its_length():
    call = Call(ChunkedBodies(echo, limit=lambda: 1000), chunked_environ(BODY, "/api/x/"))
    assert call.code == 200
    assert json.loads(call.body) == {"length": str(len(BODY)), "body": BODY.decode()}


def test_a_server_that_cannot_read_chunked_bodies_gets_411_saying_so():
    app = ChunkedBodies(echo, limit=lambda: 1000)
    call = Call(app, chunked_environ(BODY, "/api/x/", terminated=False))
    assert call.code == 411
    assert "Content-Length" in json.loads(call.body)["detail"]
    page = Call(app, chunked_environ(BODY, "/projects/x/import/", terminated=False))
    assert page.code == 411 and b"Content-Length" in page.body


def test_a_chunked_body_over_the_limit_is_413():
    call = Call(ChunkedBodies(echo, limit=lambda: 10), chunked_environ(BODY, "/api/x/"))
    assert call.code == 413
    assert "over 10 bytes" in json.loads(call.body)["detail"]


def test_a_body_with_a_content_length_is_left_alone():
    environ = chunked_environ(b"abc", "/api/x/", CONTENT_LENGTH="3")
    del environ["HTTP_TRANSFER_ENCODING"]
    call = Call(ChunkedBodies(echo, limit=lambda: 1), environ)
    assert json.loads(call.body) == {"length": "3", "body": "abc"}


# --- through the real application ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_chunked_import_creates_the_article(project, manager):
    token, _ = Token.objects.get_or_create(user=manager)
    environ = chunked_environ(
        BODY,
        f"/api/projects/{project.slug}/articles/",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    call = Call(application, environ)
    assert call.code == 201, call.body
    assert json.loads(call.body)["created"] == 1
    assert Article.objects.filter(project=project, external_id="harbour-1").exists()


def test_an_empty_import_says_the_body_is_empty(project, manager):
    from ..api_support import api, assert_error

    response = api(manager).post(
        f"/api/projects/{project.slug}/articles/", b"", content_type="application/json"
    )
    assert "body is empty" in assert_error(response, 400)["detail"]


# --- against gunicorn ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{settings['USER']}@{host}:{port}/{settings['NAME']}"


@pytest.fixture
def gunicorn(transactional_db):
    gunicorn = Path(sys.executable).parent / "gunicorn"
    assert gunicorn.exists(), "gunicorn is a runtime requirement (requirements.txt)"
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "annotate.settings",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
    }
    argv = [str(gunicorn), "annotate.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _chunked_post(port: int, path: str, body: bytes, token: str) -> tuple[int, bytes]:
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 7]), body[i : i + 7]) for i in range(0, len(body), 7)
    )
    request = (
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        reply = b""
        while data := s.recv(65536):
            reply += data
    head, _, rest = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def test_gunicorn_reads_a_chunked_import(gunicorn, project, manager):
    token, _ = Token.objects.get_or_create(user=manager)
    status, body = _chunked_post(
        gunicorn, f"/api/projects/{project.slug}/articles/", BODY, token.key
    )
    assert status == 201, body
    assert Article.objects.filter(project=project, external_id="harbour-1").exists()
