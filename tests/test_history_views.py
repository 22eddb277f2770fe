"""History, version, diff and restore pages of an annotation."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate.models import Annotation, AnnotationVersion, Role
from annotate.services.annotations import SpanInput, gold_for, save_annotation

from .factories import make_annotation, make_article

TEXT = "Rebels shelled Aleppo on Monday, a spokesman said."
HX = {"HX-Request": "true"}


@pytest.fixture
def article(project, editor, other_editor):
    return make_article(project, TEXT, editors=[editor, other_editor])


@pytest.fixture
def annotation(article, editor):
    """Three versions: LOCATION Aleppo; + ACTOR Rebels; Aleppo relabelled to SOURCE."""
    annotation = make_annotation(article, editor, [(15, 21, "LOCATION")])
    edit(annotation, editor, [(0, 6, "ACTOR"), (15, 21, "LOCATION")])
    edit(annotation, editor, [(0, 6, "ACTOR"), (15, 21, "SOURCE")], note="not a place here")
    return annotation


def edit(annotation, author, spans, role=Role.EDITOR, **kwargs):
    result = save_annotation(
        annotation=annotation,
        author=author,
        role=role,
        base_version=annotation.version,
        spans=[SpanInput(*s) for s in spans],
        **kwargs,
    )
    annotation.refresh_from_db()
    return result


def history_url(article, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("annotation-history", args=[article.pk]) + (f"?{query}" if query else "")


def diff_url(article, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("annotation-diff", args=[article.pk]) + (f"?{query}" if query else "")


def restore(client, article, number, base, **extra):
    url = reverse("annotation-restore", args=[article.pk])
    query = extra.pop("query", "")
    return client.post(url + query, {"number": number, "base_version": base, **extra})


def test_history_page_lists_every_version_with_author_and_summary(
    client_for, editor, article, annotation
):
    response = client_for(editor).get(history_url(article))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and "History of your annotation" in html
    assert "+1 LOCATION" in html and "+1 ACTOR" in html and "LOCATION→SOURCE ×1" in html
    assert "not a place here" in html
    assert html.index(">v3") < html.index(">v2") < html.index(">v1")  # newest first
    assert reverse("label-css", args=[article.project.slug]) in html
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_history_page_shows_the_current_text_by_default(client_for, editor, article, annotation):
    html = client_for(editor).get(history_url(article)).content.decode()
    assert 'class="span lbl-SOURCE"' in html and 'class="span lbl-LOCATION"' not in html


def test_version_parameter_shows_the_text_at_that_version(client_for, editor, article, annotation):
    html = client_for(editor).get(history_url(article, version=1)).content.decode()
    assert "Version 1" in html
    assert 'class="span lbl-LOCATION"' in html and 'class="span lbl-ACTOR"' not in html


def test_version_view_is_a_fragment_for_htmx(client_for, editor, article, annotation):
    response = client_for(editor).get(history_url(article, version=2), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "Version 2" in html and 'class="span lbl-ACTOR"' in html
    assert 'class="versions"' not in html


def test_version_list_pages_are_a_fragment_for_htmx(client_for, editor, article, annotation):
    headers = {**HX, "HX-Target": "versions"}
    html = client_for(editor).get(history_url(article, page=1), headers=headers).content.decode()
    assert "<html" not in html and 'class="versions"' in html and "Version 1" not in html


def test_unknown_version_is_404_and_garbage_is_400(client_for, editor, article, annotation):
    client = client_for(editor)
    assert client.get(history_url(article, version=9)).status_code == 404
    response = client.get(history_url(article, version="abc"))
    assert response.status_code == 400 and b"version number" in response.content


def test_an_annotation_without_versions_says_so(client_for, editor, project):
    empty = make_article(project, TEXT, editors=[editor])
    response = client_for(editor).get(history_url(empty))
    assert response.status_code == 200 and b"no versions yet" in response.content


def test_diff_marks_added_removed_and_relabelled_spans(client_for, editor, article, annotation):
    edit(annotation, editor, [(15, 21, "SOURCE"), (25, 31, "CASUALTY")])  # v4: -ACTOR +CASUALTY
    html = client_for(editor).get(diff_url(article, a=2, b=4)).content.decode()
    assert "<html" in html and "Changes from version 2 to version 4" in html
    assert 'class="span lbl-CASUALTY diff-added"' in html
    assert 'class="span lbl-ACTOR diff-removed"' in html
    assert 'class="span lbl-SOURCE diff-relabelled"' in html
    assert "relabelled: LOCATION → SOURCE" in html
    assert "3 changes" in html
    assert 'class="versions"' in html  # the full page keeps the version list


def test_diff_is_a_fragment_for_htmx(client_for, editor, article, annotation):
    response = client_for(editor).get(diff_url(article, a=1, b=2), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert (
        'class="span lbl-ACTOR diff-added"' in html
        and 'class="span lbl-LOCATION diff-same"' in html
    )
    assert "1 change" in html


def test_diff_defaults_to_the_latest_change(client_for, editor, article, annotation):
    html = client_for(editor).get(diff_url(article)).content.decode()
    assert "Changes from version 2 to version 3" in html


def test_diff_from_the_empty_start(client_for, editor, article, annotation):
    html = client_for(editor).get(diff_url(article, a=0, b=1)).content.decode()
    assert "the empty start" in html and 'class="span lbl-LOCATION diff-added"' in html


@pytest.mark.parametrize("params", [{"a": 0, "b": 7}, {"a": -1, "b": 2}, {"a": "x", "b": 1}])
def test_diff_with_bad_versions_is_400(client_for, editor, article, annotation, params):
    response = client_for(editor).get(diff_url(article, **params))
    assert response.status_code == 400 and response["X-Error-Message"]


def test_editor_cannot_see_another_editors_history(
    client_for, editor, other_editor, article, annotation
):
    client = client_for(other_editor)
    assert client.get(history_url(article, annotator=editor.username)).status_code == 404
    assert client.get(diff_url(article, annotator=editor.username)).status_code == 404
    assert client.get(history_url(article, gold=1)).status_code == 404


def test_editor_cannot_see_the_gold_history(client_for, editor, reviewer, article, annotation):
    gold = gold_for(article)
    edit(gold, reviewer, [(0, 6, "ACTOR")], role=Role.REVIEWER)
    assert client_for(editor).get(history_url(article, gold=1)).status_code == 404


def test_own_history_does_not_show_another_editors_work(
    client_for, other_editor, article, annotation
):
    response = client_for(other_editor).get(history_url(article))
    assert response.status_code == 200 and b"no versions yet" in response.content
    assert b"not a place here" not in response.content


def test_outsider_gets_404(client_for, outsider, editor, article, annotation):
    client = client_for(outsider)
    assert client.get(history_url(article)).status_code == 404
    assert client.get(history_url(article, annotator=editor.username)).status_code == 404
    assert restore(client, article, 1, 3).status_code == 404


def test_anonymous_users_are_sent_to_login(client, article, annotation):
    response = client.get(history_url(article))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_reviewer_sees_every_annotation_and_the_gold(
    client_for, reviewer, editor, other_editor, article, annotation
):
    make_annotation(article, other_editor, [(0, 6, "SOURCE")])
    gold = gold_for(article)
    edit(gold, reviewer, [(0, 6, "ACTOR")], role=Role.REVIEWER, note="gold start")
    client = client_for(reviewer)
    html = client.get(history_url(article, annotator=editor.username)).content.decode()
    assert "History of edith’s annotation" in html and "not a place here" in html
    assert f"annotator={other_editor.username}" in html and "gold=1" in html  # the picker
    assert b"+1 SOURCE" in client.get(history_url(article, annotator="otto")).content
    assert b"gold start" in client.get(history_url(article, gold=1)).content
    assert client.get(history_url(article, annotator="nobody")).status_code == 404


def test_restore_creates_a_new_version_equal_to_the_old_one(
    client_for, editor, article, annotation
):
    client = client_for(editor)
    response = restore(client, article, 1, 3, note="back to the start")
    assert response.status_code == 302
    annotation.refresh_from_db()
    assert annotation.version == 4
    assert [s.as_dict() for s in annotation.spans_at(4)] == [
        s.as_dict() for s in annotation.spans_at(1)
    ]
    v4 = annotation.versions.get(number=4)
    assert v4.restored_from == 1 and v4.note == "back to the start"
    assert [s.label.key for s in annotation.spans_at(3)] == ["ACTOR", "SOURCE"]  # kept
    page = client.get(response["Location"]).content.decode()
    assert "Version 1 restored as version 4." in page and "restored v1" in page


def test_restore_of_a_stale_page_is_409_with_a_way_to_reload_and_reapply(
    client_for, editor, article, annotation
):
    edit(annotation, editor, [(0, 6, "ACTOR")])  # v4, made in another tab
    response = restore(client_for(editor), article, 1, 3)
    html = response.content.decode()
    assert response.status_code == 409
    assert "changed since version 3" in html and "Nothing was restored" in html
    assert "Version 4 by edith" in html and "Reload the history" in html
    assert 'name="base_version" value="4"' in html  # the re-apply form is based on v4
    assert AnnotationVersion.objects.filter(annotation=annotation).count() == 4


def test_the_same_restore_sent_twice_makes_one_version(client_for, editor, article, annotation):
    client = client_for(editor)
    key = str(uuid.uuid4())
    first = restore(client, article, 1, 3, request_key=key)
    again = restore(client, article, 1, 3, request_key=key)
    assert first.status_code == again.status_code == 302
    assert AnnotationVersion.objects.filter(annotation=annotation).count() == 4
    assert "Already done" in client.get(again["Location"]).content.decode()


def test_restoring_the_current_state_makes_no_version(client_for, editor, article, annotation):
    edit(annotation, editor, [(15, 21, "LOCATION")])  # v4 equals v1
    response = restore(client_for(editor), article, 1, 4)
    assert response.status_code == 302
    assert AnnotationVersion.objects.filter(annotation=annotation).count() == 4


def test_reviewer_cannot_restore_an_editors_annotation(
    client_for, reviewer, editor, article, annotation
):
    client = client_for(reviewer)
    html = client.get(history_url(article, annotator=editor.username)).content.decode()
    assert "Restore version" not in html
    response = restore(client, article, 1, 3, query=f"?annotator={editor.username}")
    assert response.status_code == 403
    assert AnnotationVersion.objects.filter(annotation=annotation).count() == 3


def test_reviewer_restores_a_gold_version(client_for, reviewer, article, annotation):
    gold = gold_for(article)
    edit(gold, reviewer, [(0, 6, "ACTOR")], role=Role.REVIEWER)
    edit(gold, reviewer, [], role=Role.REVIEWER)
    response = restore(client_for(reviewer), article, 1, 2, query="?gold=1")
    assert response.status_code == 302 and response["Location"].endswith("?gold=1")
    gold.refresh_from_db()
    assert gold.version == 3 and [s.label.key for s in gold.current_spans()] == ["ACTOR"]


def test_editor_cannot_restore_once_the_gold_is_final(
    client_for, reviewer, editor, article, annotation
):
    edit(gold_for(article), reviewer, [(0, 6, "ACTOR")], role=Role.REVIEWER, final=True)
    client = client_for(editor)
    assert "gold annotation of this article is final" in client.get(history_url(article)).text
    response = restore(client, article, 1, 3)
    assert response.status_code == 409 and b"final" in response.content
    assert AnnotationVersion.objects.filter(annotation=annotation).count() == 3


def test_restore_needs_numbers(client_for, editor, article, annotation):
    response = client_for(editor).post(reverse("annotation-restore", args=[article.pk]), {})
    assert response.status_code == 400
    assert restore(client_for(editor), article, 7, 3).status_code == 400


def test_restore_is_post_only(client_for, editor, article, annotation):
    response = client_for(editor).get(reverse("annotation-restore", args=[article.pk]))
    assert response.status_code == 405


def test_reading_never_makes_a_version(
    client_for, editor, reviewer, other_editor, article, annotation
):
    before = AnnotationVersion.objects.count(), Annotation.objects.count()
    for client in (client_for(editor), client_for(reviewer), client_for(other_editor)):
        client.get(history_url(article))
        client.get(history_url(article, version=1))
        client.get(diff_url(article, a=1, b=3))
        client.get(history_url(article, version=2), headers=HX)
    assert (AnnotationVersion.objects.count(), Annotation.objects.count()) == before


def test_user_text_is_escaped(client_for, editor, project):
    article = make_article(project, "<b>Rebels</b> shelled Aleppo.", editors=[editor])
    annotation = make_annotation(article, editor, [(3, 9, "ACTOR")])
    edit(annotation, editor, [], note="<script>alert(1)</script>")
    html = client_for(editor).get(history_url(article)).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<b>Rebels" not in html and "&lt;b&gt;" in html


def test_history_page_queries_do_not_grow_with_versions(client_for, editor, article):
    annotation = make_annotation(article, editor, [(0, 6, "ACTOR")])

    def queries() -> int:
        client = client_for(editor)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(history_url(article)).status_code == 200
        return len(captured)

    few = queries()
    labels = ["LOCATION", "SOURCE"]
    for i in range(60):
        edit(annotation, editor, [(0, 6, "ACTOR"), (15, 21, labels[i % 2])])
    many = queries()
    assert many == few
    html = client_for(editor).get(history_url(article, page=2)).content.decode()
    assert "Page 2 of 2" in html and ">v11" in html and ">v12<" not in html
