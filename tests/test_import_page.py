"""The import page: /projects/<slug>/import/"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import SkipFile
from django.test import Client, override_settings
from django.urls import reverse

from annotate.models import Article, Assignment, Role
from annotate.views.imports import CappedUploadHandler

from .factories import PASSWORD, make_article, make_member, make_project, make_user


def url(project) -> str:
    return reverse("import-articles", args=[project.slug])


def upload(name: str, content: bytes) -> dict:
    return {"mode": "upload", "file": SimpleUploadedFile(name, content)}


def paste(text: str, **fields: str) -> dict:
    return {"mode": "paste", "text": text, "title": "", "external_id": "", "url": "", **fields}


@pytest.fixture
def open_project(db):
    """A project whose editors may add articles, with three editors."""
    project = make_project("open-desk", overlap=2, editors_can_upload=True)
    for name in ("ed1", "ed2", "ed3"):
        make_member(project, make_user(name), Role.EDITOR)
    return project


def member(project, username: str):
    return project.memberships.get(user__username=username).user


# --- the page ---------------------------------------------------------------------------


def test_manager_sees_both_forms_and_the_caps(client_for, project, manager):
    response = client_for(manager).get(url(project))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Paste an article" in html
    assert "Upload a file" in html
    assert 'name="mode" value="paste"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "200,000 characters" in html


def test_outsider_gets_404(client_for, project, outsider):
    assert client_for(outsider).get(url(project)).status_code == 404
    response = client_for(outsider).post(url(project), paste("Text."))
    assert response.status_code == 404
    assert not Article.objects.exists()


def test_editor_without_the_project_setting_gets_403(client_for, project, editor):
    assert not project.editors_can_upload
    assert client_for(editor).get(url(project)).status_code == 403
    assert client_for(editor).post(url(project), paste("Text.")).status_code == 403
    assert not Article.objects.exists()


def test_reviewer_gets_403(client_for, project, reviewer):
    assert client_for(reviewer).get(url(project)).status_code == 403


def test_anonymous_is_sent_to_login(project):
    response = Client().get(url(project))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_superuser_may_import_anywhere(client_for, project, admin_user):
    response = client_for(admin_user).post(url(project), paste("Body.", external_id="x1"))
    assert response.status_code == 302
    assert Article.objects.filter(external_id="x1").exists()


def test_csrf_is_enforced(project, manager):
    client = Client(enforce_csrf_checks=True)
    client.login(username=manager.username, password=PASSWORD)
    response = client.post(url(project), paste("Body."))
    assert response.status_code == 403
    assert not Article.objects.exists()


# --- pasting ----------------------------------------------------------------------------


def test_manager_pastes_an_article_and_is_redirected_with_a_message(
    client_for, project, manager, editor, other_editor
):
    client = client_for(manager)
    text = "Storm hits the coast\r\n\r\nThree people were injured, e\u0301 officials said."
    response = client.post(url(project), paste(text, url="https://example.org/storm"))
    assert response.status_code == 302
    assert response["Location"] == url(project)
    article = Article.objects.get()
    assert (
        article.text == "Storm hits the coast\n\nThree people were injured, \u00e9 officials said."
    )
    assert article.title == "Storm hits the coast"
    assert article.url == "https://example.org/storm"
    assert article.created_by == manager
    assert article.assignments.count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "Imported 1 article into" in page


def test_pasting_the_same_text_twice_is_reported_not_duplicated(client_for, project, manager):
    client = client_for(manager)
    client.post(url(project), paste("Same body."))
    response = client.post(url(project), paste("Same body."), follow=True)
    assert Article.objects.count() == 1
    assert "Skipped 1 already in the project" in response.content.decode()


def test_empty_paste_shows_the_form_error_and_writes_nothing(client_for, project, manager):
    response = client_for(manager).post(url(project), paste(""))
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Article.objects.exists()


def test_invalid_paste_keeps_what_was_typed(client_for, project, manager):
    response = client_for(manager).post(
        url(project), paste("My long article body.", url="not a url", title="Kept title")
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was imported" in html
    assert "url is not an http(s) address" in html
    assert "My long article body." in html
    assert 'value="Kept title"' in html
    assert not Article.objects.exists()


@override_settings(MAX_ARTICLE_CHARS=10)
def test_pasted_article_over_the_cap_is_refused(client_for, project, manager):
    response = client_for(manager).post(url(project), paste("x" * 11))
    assert response.status_code == 400
    assert "text is longer than 10 characters" in response.content.decode()
    assert not Article.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_paste_bigger_than_the_request_cap_is_a_413_not_a_500(client_for, project, manager):
    response = client_for(manager).post(url(project), paste("x" * 5000))
    assert response.status_code == 413
    assert "MAX_UPLOAD_BYTES" in response.content.decode()
    assert not Article.objects.exists()


def test_html_in_the_errors_is_escaped(client_for, project, manager):
    response = client_for(manager).post(
        url(project), upload("<b>x</b>.jsonl", b'{"external_id": "<script>", "text": 1}')
    )
    html = response.content.decode()
    assert "<script>" not in html
    assert "text must be a string" in html


# --- uploading --------------------------------------------------------------------------


def test_manager_uploads_jsonl(client_for, project, manager, editor, other_editor):
    lines = [
        {"external_id": "a1", "title": "One", "text": "First.\r\nLine."},
        {"external_id": "a2", "title": "Two", "text": "Second."},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    response = client_for(manager).post(url(project), upload("batch.jsonl", data), follow=True)
    assert response.redirect_chain == [(url(project), 302)]
    assert "Imported 2 articles into" in response.content.decode()
    assert Article.objects.get(external_id="a1").text == "First.\nLine."
    assert Assignment.objects.count() == 4


def test_upload_with_a_bad_line_names_it_and_writes_nothing(client_for, project, manager):
    data = b'{"external_id": "a1", "text": "ok"}\n{"external_id": "a2", "text": }\n'
    response = client_for(manager).post(url(project), upload("batch.jsonl", data))
    assert response.status_code == 400
    assert "line 2: not valid JSON: Expecting value (column 31)" in response.content.decode()
    assert not Article.objects.exists()


def test_upload_of_a_json_array_and_a_txt_file(client_for, project, manager):
    client = client_for(manager)
    array = json.dumps([{"external_id": "j1", "text": "Array item."}]).encode()
    client.post(url(project), upload("items.json", array))
    client.post(url(project), upload("story-7.txt", b"\xef\xbb\xbfHeadline\r\rBody."))
    assert Article.objects.get(external_id="j1").text == "Array item."
    story = Article.objects.get(external_id="story-7")
    assert (story.title, story.text) == ("Headline", "Headline\n\nBody.")


def test_non_utf8_upload_is_a_clear_error(client_for, project, manager):
    response = client_for(manager).post(url(project), upload("old.txt", b"Caf\xe9 story"))
    assert response.status_code == 400
    assert "old.txt: not valid UTF-8 at line 1, column 4" in response.content.decode()


def test_upload_without_a_file_is_a_form_error(client_for, project, manager):
    response = client_for(manager).post(url(project), {"mode": "upload"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


@override_settings(MAX_UPLOAD_BYTES=1024)
def test_upload_bigger_than_the_cap_is_a_413(client_for, project, manager):
    data = json.dumps([{"external_id": f"a{i}", "text": "x" * 50} for i in range(40)]).encode()
    assert len(data) > 1024
    response = client_for(manager).post(url(project), upload("big.json", data))
    assert response.status_code == 413
    assert "the upload is larger than 1.0 KiB, the limit (MAX_UPLOAD_BYTES)" in (
        response.content.decode()
    )
    assert not Article.objects.exists()


@override_settings(MAX_IMPORT_ITEMS=2)
def test_upload_with_too_many_articles_is_refused(client_for, project, manager):
    data = "\n".join(json.dumps({"external_id": f"a{i}", "text": "x"}) for i in range(3)).encode()
    response = client_for(manager).post(url(project), upload("many.jsonl", data))
    assert response.status_code == 400
    assert "MAX_IMPORT_ITEMS" in response.content.decode()


# --- editors ----------------------------------------------------------------------------


def test_editor_sees_the_page_when_the_project_allows_it(client_for, open_project):
    response = client_for(member(open_project, "ed1")).get(url(open_project))
    assert response.status_code == 200
    assert "The article goes to your queue" in response.content.decode()


def test_editor_paste_lands_in_their_queue_and_one_other(client_for, open_project):
    ed3 = member(open_project, "ed3")
    for _ in range(3):  # ed3 is the busiest editor: balance alone would leave them out
        make_article(open_project, editors=[ed3])
    response = client_for(ed3).post(url(open_project), paste("Fresh story.", external_id="e1"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    editors = set(
        Assignment.objects.filter(article__external_id="e1").values_list(
            "editor__username", flat=True
        )
    )
    assert len(editors) == open_project.overlap == 2
    assert "ed3" in editors


def test_editor_upload_of_a_txt_file_lands_in_their_queue(client_for, open_project):
    ed2 = member(open_project, "ed2")
    response = client_for(ed2).post(url(open_project), upload("report.txt", b"Report\n\nBody."))
    assert response.status_code == 302
    article = Article.objects.get(external_id="report")
    assert article.created_by == ed2
    assert article.assignments.filter(editor=ed2).exists()
    assert article.assignments.count() == 2


def test_editor_cannot_upload_a_batch(client_for, open_project):
    data = b'{"external_id": "a1", "text": "x"}\n{"external_id": "a2", "text": "y"}'
    response = client_for(member(open_project, "ed1")).post(
        url(open_project), upload("two.jsonl", data)
    )
    assert response.status_code == 400
    assert "editors add one article at a time" in response.content.decode()
    assert not Article.objects.exists()


def test_warns_when_the_project_has_fewer_editors_than_overlap(client_for, project, manager):
    response = client_for(manager).post(url(project), paste("Body."), follow=True)
    assert "asks for 2 editors per article but has 0" in response.content.decode()


def test_errors_name_the_uploaded_file(client_for, project, manager):
    response = client_for(manager).post(url(project), upload("wire.json", b"[1]"))
    html = response.content.decode()
    assert "Nothing was imported from wire.json" in html
    assert "index 0: each item must be a JSON object, got a number" in html


def test_a_post_without_a_mode_is_a_clear_error(client_for, project, manager):
    response = client_for(manager).post(url(project), {"text": "Body."})
    assert response.status_code == 400
    assert "paste an article or choose a file to upload" in response.content.decode()
    assert not Article.objects.exists()


def test_capped_upload_handler_stops_storing_past_the_cap(rf):
    request = rf.post("/")
    handler = CappedUploadHandler(request, cap=10)
    handler.new_file("file", "a.txt", "text/plain", None)
    assert handler.receive_data_chunk(b"x" * 6, 0) == b"x" * 6
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"x" * 6, 6)
    assert request.upload_too_large
