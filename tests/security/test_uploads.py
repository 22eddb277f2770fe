"""Hostile uploads through every way in: the import page, the API's article import (JSON
and JSON Lines) and the API's dataset import. Each is refused with a 4xx and a clear
message, and the project has exactly the articles it had before."""

from __future__ import annotations

import json
import os
import socket
import tempfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotate.models import Annotation, Article, Assignment

from ..api_support import api
from ..factories import make_article

CHANNELS = ("page", "api-json", "api-ndjson", "api-dataset")


def record(external_id: str, text: str = "Rebels shelled Aleppo.", **extra) -> dict:
    return {"external_id": external_id, "text": text, **extra}


def jsonl(items: list[dict]) -> bytes:
    return "".join(json.dumps(item) + "\n" for item in items).encode()


def send(channel: str, project, user, data: bytes, *, name: str = "articles.jsonl"):
    """Post `data` (JSON Lines, or a JSON array for api-json) the way `channel` takes it."""
    if channel == "page":
        from ..conftest import login

        upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
        return login(user).post(
            reverse("import-articles", args=[project.slug]), {"mode": "upload", "file": upload}
        )
    client = api(user)
    if channel == "api-dataset":
        url = f"/api/projects/{project.slug}/import/"
        return client.post(url, data, content_type="application/x-ndjson")
    url = f"/api/projects/{project.slug}/articles/"
    media = "application/json" if channel == "api-json" else "application/x-ndjson"
    return client.post(url, data, content_type=media)


def as_channel(channel: str, items_jsonl: bytes) -> bytes:
    """The same items as the body `channel` expects (api-json wants a JSON array; the
    dataset import names the id `id`)."""
    items = [json.loads(line) for line in items_jsonl.decode().splitlines() if line]
    if channel == "api-dataset":
        items = [{"id": i.pop("external_id"), **i, "spans": []} for i in items]
    if channel == "api-json":
        return json.dumps(items).encode()
    return jsonl(items)


def message(response) -> str:
    if response["Content-Type"].startswith("application/json"):
        data = response.json()
        return data["detail"] + json.dumps(data.get("errors", ""))
    return response.content.decode()


def assert_refused(response, codes=(400,), *, says: str = "") -> str:
    assert response.status_code in codes, (response.status_code, response.content[:400])
    text = message(response)
    assert says.lower() in text.lower(), text[:2000]
    return text


@pytest.fixture
def setup(project, manager, editor, other_editor):
    make_article(project, external_id="existing")
    return project, manager


@pytest.fixture
def limits(settings):
    settings.MAX_UPLOAD_BYTES = 4000
    settings.MAX_IMPORT_ITEMS = 20
    settings.MAX_ARTICLE_CHARS = 1000
    return settings


def unchanged(project, before: int = 1) -> None:
    assert Article.objects.filter(project=project).count() == before
    assert not Annotation.objects.filter(article__project=project).exists()
    assert Assignment.objects.filter(article__project=project).count() == 0


@pytest.mark.parametrize("channel", CHANNELS)
def test_non_utf8_bytes_are_refused(setup, channel):
    project, manager = setup
    data = b'{"external_id": "latin", "text": "caf\xe9 cr\xe8me"}\n'
    if channel == "api-json":
        data = b'[{"external_id": "latin", "text": "caf\xe9"}]'
    if channel == "api-dataset":
        data = b'{"id": "latin", "text": "caf\xe9", "spans": []}\n'
    assert_refused(send(channel, project, manager, data), says="UTF-8")
    unchanged(project)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_body_over_max_upload_bytes_is_refused_with_413(setup, limits, channel):
    project, manager = setup
    items = jsonl([record(f"big-{n}", "word " * 150) for n in range(8)])
    assert len(items) > limits.MAX_UPLOAD_BYTES
    response = send(channel, project, manager, as_channel(channel, items))
    assert_refused(response, (413,), says="MAX_UPLOAD_BYTES" if channel != "page" else "limit")
    unchanged(project)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_single_huge_line_is_refused(setup, limits, channel):
    limits.MAX_UPLOAD_BYTES = 100_000
    project, manager = setup
    line = jsonl([record("huge", "x" * 50_000)])
    assert line.count(b"\n") == 1
    assert_refused(send(channel, project, manager, as_channel(channel, line)), (400, 413))
    unchanged(project)


@pytest.mark.parametrize("channel", CHANNELS)
def test_json_nested_ten_thousand_deep_is_refused(setup, channel):
    project, manager = setup
    deep = "[" * 10_000 + "]" * 10_000
    if channel == "api-json":
        data = f'[{{"external_id": "deep", "text": "t", "meta": {{"x": {deep}}}}}]'
    elif channel == "api-dataset":
        data = f'{{"id": "deep", "text": "t", "spans": {deep}}}\n'
    else:
        data = f'{{"external_id": "deep", "text": "t", "meta": {{"x": {deep}}}}}\n'
    assert_refused(send(channel, project, manager, data.encode()), says="deep")
    unchanged(project)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_bare_deep_array_is_refused(setup, channel):
    project, manager = setup
    data = ("[" * 10_000 + "]" * 10_000).encode()
    assert_refused(send(channel, project, manager, data, name="deep.json"))
    unchanged(project)


@pytest.mark.parametrize("channel", CHANNELS)
def test_more_items_than_max_import_items_are_refused(setup, limits, channel):
    project, manager = setup
    items = jsonl([{"external_id": f"t{n}", "text": "a"} for n in range(21)])
    assert len(items) < limits.MAX_UPLOAD_BYTES
    response = send(channel, project, manager, as_channel(channel, items))
    assert_refused(response, (400, 413), says="20")
    unchanged(project)


@pytest.mark.parametrize("channel", CHANNELS)
def test_duplicate_ids_inside_one_upload_are_refused(setup, channel):
    project, manager = setup
    items = jsonl([record("twice"), record("once"), record("twice", "Other text.")])
    response = send(channel, project, manager, as_channel(channel, items))
    assert_refused(response, says="twice")
    unchanged(project)


@pytest.mark.parametrize("channel", CHANNELS)
def test_ids_the_project_has_are_skipped_and_nothing_is_changed(setup, channel):
    project, manager = setup
    before = Article.objects.get(project=project, external_id="existing")
    items = jsonl([record("existing", "A different text that must not replace it.")])
    response = send(channel, project, manager, as_channel(channel, items))
    assert response.status_code in (201, 302), response.content[:300]
    if channel != "page":
        assert response.json()["skipped"] == ["existing"]
        assert response.json()["created"] == 0
    after = Article.objects.get(project=project, external_id="existing")
    assert (after.text, after.sha256) == (before.text, before.sha256)
    unchanged(project)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(
    "text, says",
    [
        ("nul \u0000 inside", "NUL"),
        ("lone \ud800 surrogate", "surrogate"),
        ("lone \udfff low surrogate", "surrogate"),
    ],
    ids=["nul", "high-surrogate", "low-surrogate"],
)
def test_nul_and_lone_surrogates_in_json_escapes_are_refused(setup, channel, text, says):
    project, manager = setup
    # json.dumps writes both as \u escapes: valid JSON, invalid text.
    items = jsonl([record("bad-chars", text)])
    assert b"\\u" in items
    assert_refused(send(channel, project, manager, as_channel(channel, items)), says=says)
    unchanged(project)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_raw_nul_byte_is_refused(setup, channel):
    project, manager = setup
    data = b'{"external_id": "raw-nul", "text": "a\x00b"}\n'
    if channel == "api-json":
        data = b'[{"external_id": "raw-nul", "text": "a\x00b"}]'
    if channel == "api-dataset":
        data = b'{"id": "raw-nul", "text": "a\x00b", "spans": []}\n'
    assert_refused(send(channel, project, manager, data))
    unchanged(project)


def _files_named(names: set[str]) -> list[Path]:
    roots = {Path(django_settings.BASE_DIR), Path(tempfile.gettempdir()), Path("/etc")}
    found = []
    for root in roots:
        for path in root.glob("*"):
            if path.name in names:
                found.append(path)
    return found


@pytest.mark.parametrize("name", ["../../etc/passwd.jsonl", "..\\x.txt", "<b>evil.jsonl"])
def test_a_file_name_with_path_parts_is_reduced_to_its_base_name(setup, name):
    project, manager = setup
    existed = {p: p.stat().st_mtime for p in _files_named({"passwd.jsonl", "x.txt", "passwd"})}
    response = send("page", project, manager, b"\xff\xfe not utf-8", name=name)
    page = assert_refused(response, says="UTF-8")
    assert "../" not in page and "..\\" not in page
    assert "<b>evil" not in page
    if "evil" in name:
        assert "&lt;b&gt;evil.jsonl" in page
    after = {p: p.stat().st_mtime for p in _files_named({"passwd.jsonl", "x.txt", "passwd"})}
    assert after == existed  # nothing written next to the app, in the temp dir or in /etc
    unchanged(project)


def test_a_text_file_named_with_a_path_imports_under_its_base_name(setup):
    project, manager = setup
    response = send("page", project, manager, b"Title\n\nRebels shelled Aleppo.", name="..\\x.txt")
    assert response.status_code == 302
    article = Article.objects.get(project=project, external_id="x")
    assert os.sep not in article.external_id and "\\" not in article.external_id


@pytest.mark.parametrize("channel", ["api-json", "api-ndjson", "api-dataset", "page"])
def test_article_urls_are_stored_never_fetched(setup, monkeypatch, channel):
    """No feature fetches a URL (there is no urllib/requests/httpx client in the app), so
    an article's `url` cannot be used to reach loopback, private or link-local addresses:
    the import makes no network connection at all."""
    project, manager = setup
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("network I/O during an import")

    login_first = None
    if channel == "page":
        from ..conftest import login

        login_first = login(manager)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    urls = [
        "http://127.0.0.1:8000/admin/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]/",
    ]
    items = jsonl([record(f"u{n}", url=url) for n, url in enumerate(urls)])
    if login_first is not None:
        upload = SimpleUploadedFile("urls.jsonl", items)
        response = login_first.post(
            reverse("import-articles", args=[project.slug]), {"mode": "upload", "file": upload}
        )
        assert response.status_code == 302
    else:
        response = send(channel, project, manager, as_channel(channel, items))
        assert response.status_code == 201, response.content[:300]
    assert attempts == []
    stored = dict(Article.objects.filter(project=project).values_list("external_id", "url"))
    assert [stored[f"u{n}"] for n in range(len(urls))] == urls


def test_non_http_urls_are_refused(setup):
    project, manager = setup
    for url in ("file:///etc/passwd", "gopher://127.0.0.1/", "javascript:alert(1)"):
        items = jsonl([record("scheme", url=url)])
        assert_refused(send("api-ndjson", project, manager, items), says="url")
    unchanged(project)


def test_the_ml_backend_is_the_apps_only_url_fetching_client():
    """Documents the check above: a feature that fetches URLs needs an allow-list that refuses
    loopback, private and link-local addresses, and redirects. The one that does, the ML
    backend, checks the address before each request and follows no redirect
    (tests/test_ml_backend.py tries both)."""
    app = Path(django_settings.BASE_DIR) / "annotate"
    fetchers = ("urlopen", "import requests", "import httpx", "http.client", "urllib.request")
    fetching = sorted(
        path.relative_to(app).as_posix()
        for path in app.rglob("*.py")
        if any(word in path.read_text(encoding="utf-8") for word in fetchers)
    )
    assert fetching == ["services/ml_backend.py"]
    source = (app / "services" / "ml_backend.py").read_text(encoding="utf-8")
    assert "check_address(" in source and "HTTPRedirectHandler" in source
