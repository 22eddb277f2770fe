"""The labelling page and its htmx endpoints: full page and fragment, refusals, blindness,
versions (stale writes, merges, idempotency), undo and submit."""

from __future__ import annotations

import re
import uuid

import pytest

from annotate.models import Annotation, AnnotationVersion, Role, Span
from annotate.offsets import to_utf16
from annotate.services.annotations import SpanInput, annotation_for, gold_for, save_annotation
from annotate.services.labelling import UNDO_NOTE, undo_step

from .factories import make_annotation, make_article, make_member, make_project

TEXT = (
    "Iraq's Prime Minister Mustafa al-Kadhemi said 👩🏽‍⚕️ doctors and 🚀 crews\r\n"
    "treated  <b>four</b> &amp; more in البصرة, said Iq\u0307bal and "
    "\u0645\u064f\u062d\u064e\u0645\u064e\u0651\u062f."
)
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def article(project, editor, other_editor):
    return make_article(project, TEXT, editors=[editor, other_editor], title="Clashes")


@pytest.fixture
def client(editor, client_for):
    return client_for(editor)


def key() -> str:
    return str(uuid.uuid4())


def selection(article, phrase: str, label: str = "ACTOR", *, base: int = 0, **extra) -> dict:
    """The form the page's script posts for a selection of `phrase` (UTF-16 offsets)."""
    start = article.text.index(phrase)
    data = {
        "start": to_utf16(article.text, start),
        "end": to_utf16(article.text, start + len(phrase)),
        "quote": phrase,
        "label": label,
        "base_version": base,
        "request_key": key(),
    }
    data.update(extra)
    return data


def add_url(article) -> str:
    return f"/articles/{article.pk}/spans/"


def spans_of(article, user) -> list[tuple[int, int, str, str]]:
    annotation = Annotation.objects.filter(article=article, annotator=user).first()
    if annotation is None:
        return []
    return [(s.start, s.end, s.label.key, s.text) for s in annotation.current_spans()]


def versions_of(article, user) -> int:
    return AnnotationVersion.objects.filter(
        annotation__article=article, annotation__annotator=user
    ).count()


# The page


def test_article_page_shows_the_text_with_the_editors_spans(client, article, editor):
    make_annotation(article, editor, [(0, 4, "LOCATION"), (0, 40, "ACTOR")])
    response = client.get(f"/articles/{article.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Clashes</h1>" in html
    assert html.count('class="span lbl-ACTOR"') == 1 and 'class="span lbl-LOCATION"' in html
    # The ACTOR mark holds the LOCATION mark: nested spans are both visible.
    assert re.search(r'lbl-ACTOR"[^>]*><mark class="span lbl-LOCATION"', html)
    assert 'aria-keyshortcuts="1"' in html and "<kbd>1</kbd>" in html  # legend with hotkeys
    assert 'id="labelling-config"' in html  # data for the script through json_script only
    assert "<summary>Guidelines</summary>" in html
    assert f'href="/projects/{article.project.slug}/labels.css"' in html


def test_article_page_lists_spans_by_label_with_counts(client, article, editor):
    make_annotation(article, editor, [(0, 4, "LOCATION"), (0, 40, "ACTOR"), (7, 21, "ACTOR")])
    html = client.get(f"/articles/{article.pk}/").content.decode()
    assert re.search(r'id="group-ACTOR">.*?<span class="count"[^>]*>2</span>', html)
    assert re.search(r'id="group-LOCATION">.*?<span class="count"[^>]*>1</span>', html)
    assert re.search(r'id="group-SOURCE">.*?<span class="count"[^>]*>0</span>', html)


def test_article_text_is_shown_literally(client, article, editor):
    start = article.text.index("<b>four</b>")
    make_annotation(article, editor, [(start, start + 11, "CASUALTY")])
    html = client.get(f"/articles/{article.pk}/").content.decode()
    assert "&lt;b&gt;four&lt;/b&gt;</mark> &amp;amp; more" in html
    assert '<span class="quote">&lt;b&gt;four&lt;/b&gt;</span>' in html  # the span list too
    assert "<b>four</b>" not in html
    assert "\r" not in article.text  # imported through canonicalize: LF line ends


def test_article_page_fragment_is_the_workspace(client, article):
    response = client.get(f"/articles/{article.pk}/", **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith('<div id="workspace"') and "<html" not in html
    assert response["Vary"].startswith("HX-Request") or "HX-Request" in response["Vary"]


def test_viewing_the_page_writes_nothing(client, article):
    client.get(f"/articles/{article.pk}/")
    assert not Annotation.objects.exists()


def test_editor_sees_only_their_own_spans(client, article, editor, other_editor, reviewer):
    make_annotation(article, other_editor, [(22, 40, "SOURCE")])
    gold = gold_for(article)
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(7, 21, "CASUALTY")],
    )
    make_annotation(article, editor, [(0, 4, "LOCATION")])
    html = client.get(f"/articles/{article.pk}/").content.decode()
    assert "lbl-LOCATION" in html
    assert 'class="span lbl-SOURCE"' not in html and 'class="span lbl-CASUALTY"' not in html
    assert "SOURCE: Mustafa" not in html and "CASUALTY: Prime" not in html


def test_article_not_assigned_to_the_editor_is_404(project, editor, client_for):
    elsewhere = make_article(project, "Someone else's article.", editors=[])
    assert client_for(editor).get(f"/articles/{elsewhere.pk}/").status_code == 404


def test_outsider_gets_404(article, outsider, client_for):
    assert client_for(outsider).get(f"/articles/{article.pk}/").status_code == 404


def test_anonymous_user_is_sent_to_log_in(article, client):
    client.logout()
    response = client.get(f"/articles/{article.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_reviewer_gets_a_read_only_page_without_editors_spans(
    article, editor, reviewer, client_for
):
    make_annotation(article, editor, [(0, 4, "LOCATION")])
    response = client_for(reviewer).get(f"/articles/{article.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Review queue" in html and "<mark" not in html and "span-add" not in html
    assert 'id="workspace"' not in html


def test_page_queries_do_not_grow_with_spans(
    client, article, editor, django_assert_max_num_queries
):
    words = [m.span() for m in re.finditer(r"\w+", article.text)]
    make_annotation(article, editor, [(s, e, "ACTOR") for s, e in words])
    # 12, and the project's fact schema (attribute definitions, relation types); and 4 for
    # the flag box (the editor's flag) and the comments box (role, gold state, thread, spans).
    with django_assert_max_num_queries(18):
        response = client.get(f"/articles/{article.pk}/")
    assert response.content.decode().count('class="span-item') == len(words)


# Adding a span


def test_add_span_fragment_converts_utf16_offsets(client, article, editor):
    response = client.post(add_url(article), selection(article, "crews", "ACTOR"), **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<div id="workspace"') and "<html" not in html
    start = article.text.index("crews")
    assert spans_of(article, editor) == [(start, start + 5, "ACTOR", "crews")]
    assert article.text[start : start + 5] == "crews"
    assert response["X-Annotation-Version"] == "1"
    assert f'data-start="{start}" data-end="{start + 5}"' in html


def test_add_span_full_page_redirects_back_to_the_page(client, article, editor):
    response = client.post(add_url(article), selection(article, "crews"))
    assert response.status_code == 302 and response["Location"] == f"/articles/{article.pk}/"
    assert [s[3] for s in spans_of(article, editor)] == ["crews"]


@pytest.mark.parametrize(
    "selected, stored",
    [
        (" Prime Minis", "Prime Minister"),
        ("👩🏽‍⚕️ doc", "👩🏽‍⚕️ doctors"),
        ("in البصرة, ", "in البصرة"),
        ("Iq", "Iq\u0307bal"),  # a combining mark that NFC keeps
        ("\u0645\u064f\u062d\u064e", "\u0645\u064f\u062d\u064e\u0645\u064e\u0651\u062f"),
        ("<b>fou", "<b>four"),
        ("four</b> &amp;", "four</b> &amp"),
        ("crews\ntreated  <", "crews\ntreated  <"),
    ],
)
def test_selection_is_snapped_to_words_and_stored_as_python_slices(
    client, article, editor, selected, stored
):
    # Confirmed: the last one crosses a line break (a paragraph break).
    client.post(add_url(article), selection(article, selected, confirm="1"), **HX)
    [(start, end, _, text)] = spans_of(article, editor)
    assert text == stored == article.text[start:end]


def test_snapping_can_be_turned_off(client, article, editor):
    client.post(add_url(article), selection(article, "rime Min", snap="0"), **HX)
    assert [s[3] for s in spans_of(article, editor)] == ["rime Min"]


def test_nested_span_is_added_inside_another(client, article, editor):
    client.post(add_url(article), selection(article, "Iraq's Prime Minister Mustafa al-Kadhemi"))
    response = client.post(add_url(article), selection(article, "Iraq", "LOCATION", base=1), **HX)
    assert [s[2:] for s in spans_of(article, editor)] == [
        ("LOCATION", "Iraq"),
        ("ACTOR", "Iraq's Prime Minister Mustafa al-Kadhemi"),
    ]
    assert re.search(r'lbl-ACTOR"[^>]*><mark class="span lbl-LOCATION"', response.content.decode())


def test_added_span_is_selected_in_the_new_workspace(client, article, editor):
    html = client.post(add_url(article), selection(article, "crews"), **HX).content.decode()
    span = Span.objects.get()
    assert f'data-focus="{span.pk}"' in html


def quote_of(article, phrase):
    return selection(article, phrase)


BAD_SELECTIONS = {
    "out of range": lambda a: {**quote_of(a, "crews"), "end": 10_000},
    "empty": lambda a: {**quote_of(a, "crews"), "end": quote_of(a, "crews")["start"]},
    "negative": lambda a: {**quote_of(a, "crews"), "start": -3},
    "not a number": lambda a: {**quote_of(a, "crews"), "start": "five"},
    "quote does not match": lambda a: {**quote_of(a, "crews"), "quote": "crows"},
    "unknown label": lambda a: {**quote_of(a, "crews"), "label": "WEAPON"},
    "no label": lambda a: {**quote_of(a, "crews"), "label": ""},
    "only spaces": lambda a: {
        **quote_of(a, "treated  <"),
        "start": quote_of(a, "  <")["start"],
        "end": quote_of(a, "  <")["start"] + 2,
        "quote": "  ",
    },
    "inside a surrogate pair": lambda a: {
        **quote_of(a, "🚀 crews"),
        "start": quote_of(a, "🚀 crews")["start"] + 1,
        "quote": "?",
    },
    "no base version": lambda a: {**quote_of(a, "crews"), "base_version": ""},
    "bad request key": lambda a: {**quote_of(a, "crews"), "request_key": "not-a-uuid"},
}


@pytest.mark.parametrize("case", sorted(BAD_SELECTIONS))
def test_bad_selection_is_refused_with_a_message_and_nothing_saved(client, article, case):
    data = BAD_SELECTIONS[case](article)
    response = client.post(add_url(article), data, **HX)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and "Not saved." in html
    assert response["HX-Retarget"] == "#labelling-alerts"
    assert not Span.objects.exists() and not AnnotationVersion.objects.exists()


def test_bad_selection_without_htmx_shows_the_page_with_the_message(client, article):
    response = client.post(add_url(article), {**selection(article, "crews"), "quote": "crows"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "does not match the article" in html and 'id="workspace"' in html
    assert not Span.objects.exists()


def test_label_of_another_project_is_refused(client, article):
    make_project("other", labels=[("WEAPON", "Weapon", "#cccccc", "9")])
    response = client.post(add_url(article), selection(article, "crews", "WEAPON"), **HX)
    assert (
        response.status_code == 400 and "not a label of this project" in response.content.decode()
    )
    assert not Span.objects.exists()


def test_another_editors_article_is_404_for_writes(project, editor, client_for):
    theirs = make_article(project, "Rebels shelled Aleppo.", editors=[make_member(project)])
    client = client_for(editor)
    assert client.post(add_url(theirs), selection(theirs, "Aleppo")).status_code == 404
    assert client.post(f"/articles/{theirs.pk}/undo/", {"base_version": 0}).status_code == 404
    assert client.post(f"/articles/{theirs.pk}/submit/", {"base_version": 0}).status_code == 404
    assert not Span.objects.exists()


def test_reviewer_cannot_write_through_the_labelling_endpoints(article, reviewer, client_for):
    response = client_for(reviewer).post(add_url(article), selection(article, "crews"))
    assert response.status_code == 404 and not Span.objects.exists()


def test_writes_need_post(client, article):
    assert client.get(add_url(article)).status_code == 405


# Versions: stale writes, merges, idempotency


def test_same_request_sent_twice_makes_one_version(client, article, editor):
    data = selection(article, "crews")
    first = client.post(add_url(article), data, **HX)
    again = client.post(add_url(article), data, **HX)
    assert first.status_code == again.status_code == 200
    assert versions_of(article, editor) == 1 and len(spans_of(article, editor)) == 1


def test_change_from_another_tab_at_other_offsets_is_merged(client, article, editor):
    client.post(add_url(article), selection(article, "crews", base=0), **HX)  # tab A
    response = client.post(add_url(article), selection(article, "Iraq", "LOCATION", base=0), **HX)
    assert response.status_code == 200  # tab B, still showing version 0
    assert "Merged with a change made meanwhile" in response.content.decode()
    assert sorted(s[3] for s in spans_of(article, editor)) == ["Iraq", "crews"]
    assert versions_of(article, editor) == 2


def test_conflicting_change_from_a_stale_page_is_409_with_reload_and_reapply(
    client, article, editor
):
    client.post(add_url(article), selection(article, "Prime Minister", base=0), **HX)
    stale = selection(article, "Minister Mustafa", "SOURCE", base=0)
    response = client.post(add_url(article), stale, **HX)
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed since version 0" in html
    assert f'href="/articles/{article.pk}/">Reload</a>' in html
    assert "Re-apply my change" in html and 'name="base_version" value="1"' in html
    assert [s[3] for s in spans_of(article, editor)] == ["Prime Minister"]

    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    fields["quote"] = stale["quote"]  # the template escapes it; the browser sends it back as is
    again = client.post(add_url(article), fields, **HX)
    assert again.status_code == 200
    assert sorted(s[3] for s in spans_of(article, editor)) == ["Minister Mustafa", "Prime Minister"]


def test_stale_write_without_htmx_shows_the_page_with_409(client, article, editor):
    client.post(add_url(article), selection(article, "Prime Minister", base=0))
    response = client.post(add_url(article), selection(article, "Minister", "SOURCE", base=0))
    assert response.status_code == 409
    assert "Re-apply my change" in response.content.decode()
    assert versions_of(article, editor) == 1


def test_base_version_from_the_future_is_409(client, article, editor):
    response = client.post(add_url(article), selection(article, "crews", base=7), **HX)
    assert response.status_code == 409 and not Span.objects.exists()


# Relabel and delete


@pytest.fixture
def labelled(article, editor):
    annotation = make_annotation(article, editor, [(0, 4, "LOCATION"), (7, 21, "ACTOR")])
    return {s.text: s for s in annotation.current_spans()}


def test_relabel_fragment(client, article, editor, labelled):
    span = labelled["Prime Minister"]
    response = client.post(
        f"/articles/{article.pk}/spans/{span.pk}/label/",
        {"label": "SOURCE", "base_version": 1, "request_key": key()},
        **HX,
    )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert (7, 21, "SOURCE", "Prime Minister") in spans_of(article, editor)
    assert (7, 21, "ACTOR", "Prime Minister") not in spans_of(article, editor)
    new = Span.objects.get(removed_in__isnull=True, label__key="SOURCE")
    assert f'data-focus="{new.pk}"' in response.content.decode()


def test_relabel_full_page_redirects(client, article, editor, labelled):
    span = labelled["Iraq"]
    response = client.post(
        f"/articles/{article.pk}/spans/{span.pk}/label/", {"label": "ACTOR", "base_version": 1}
    )
    assert response.status_code == 302
    assert (0, 4, "ACTOR", "Iraq") in spans_of(article, editor)


def test_relabel_to_an_unknown_label_is_refused(client, article, editor, labelled):
    span = labelled["Iraq"]
    response = client.post(
        f"/articles/{article.pk}/spans/{span.pk}/label/", {"label": "NOPE", "base_version": 1}, **HX
    )
    assert response.status_code == 400 and versions_of(article, editor) == 1


def test_delete_fragment(client, article, editor, labelled):
    span = labelled["Iraq"]
    response = client.post(
        f"/articles/{article.pk}/spans/{span.pk}/delete/",
        {"base_version": 1, "request_key": key()},
        **HX,
    )
    assert response.status_code == 200 and 'id="workspace"' in response.content.decode()
    assert spans_of(article, editor) == [(7, 21, "ACTOR", "Prime Minister")]
    # The row is kept as history: removed in version 2, still there at version 1.
    assert Span.objects.get(pk=span.pk).removed_in == 2


def test_delete_full_page_redirects(client, article, editor, labelled):
    span = labelled["Iraq"]
    response = client.post(f"/articles/{article.pk}/spans/{span.pk}/delete/", {"base_version": 1})
    assert response.status_code == 302 and len(spans_of(article, editor)) == 1


def test_span_list_links_to_each_spans_page(client, article, editor, labelled):
    html = client.get(f"/articles/{article.pk}/").content.decode()
    span = labelled["Iraq"]
    assert f'href="/articles/{article.pk}/spans/{span.pk}/" data-span="{span.pk}"' in html


def test_span_page_offers_relabel_and_delete_without_javascript(client, article, labelled):
    span = labelled["Prime Minister"]
    response = client.get(f"/articles/{article.pk}/spans/{span.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'action="/articles/{article.pk}/spans/{span.pk}/label/"' in html
    assert f'action="/articles/{article.pk}/spans/{span.pk}/delete/"' in html
    assert 'name="label" value="ACTOR" checked' in html
    assert f'data-span="{span.pk}"' in html and "Prime Minister</mark>" in html


def test_span_page_of_a_removed_span_has_no_forms(client, article, editor, labelled):
    span = labelled["Iraq"]
    client.post(f"/articles/{article.pk}/spans/{span.pk}/delete/", {"base_version": 1})
    html = client.get(f"/articles/{article.pk}/spans/{span.pk}/").content.decode()
    assert "no longer in your annotation (removed in version 2)" in html
    assert "/delete/" not in html


def test_span_page_of_another_editors_span_is_404(client, article, other_editor):
    theirs = make_annotation(article, other_editor, [(0, 4, "LOCATION")]).current_spans().get()
    assert client.get(f"/articles/{article.pk}/spans/{theirs.pk}/").status_code == 404


def test_another_editors_span_is_404(client, article, other_editor):
    theirs = make_annotation(article, other_editor, [(0, 4, "LOCATION")]).current_spans().get()
    for action, data in (("delete", {}), ("label", {"label": "ACTOR"})):
        response = client.post(
            f"/articles/{article.pk}/spans/{theirs.pk}/{action}/", {**data, "base_version": 1}
        )
        assert response.status_code == 404
    assert spans_of(article, other_editor) == [(0, 4, "LOCATION", "Iraq")]


def test_deleting_a_span_already_deleted_in_another_tab_is_409_without_reapply(
    client, article, editor, labelled
):
    span = labelled["Iraq"]
    url = f"/articles/{article.pk}/spans/{span.pk}/delete/"
    client.post(url, {"base_version": 1, "request_key": key()}, **HX)  # tab A
    client.post(add_url(article), selection(article, "crews", base=2), **HX)
    for action, data in (("delete", {}), ("label", {"label": "ACTOR"})):  # tab B, at version 1
        response = client.post(
            f"/articles/{article.pk}/spans/{span.pk}/{action}/",
            {**data, "base_version": 1, "request_key": key()},
            **HX,
        )
        assert response.status_code == 409
        html = response.content.decode()
        assert "Reload" in html and "Re-apply" not in html
    assert versions_of(article, editor) == 3


def test_deleting_with_a_span_from_a_newer_version_than_the_page_is_409(
    client, article, editor, labelled
):
    client.post(add_url(article), selection(article, "crews", base=1), **HX)
    new = Span.objects.get(text="crews")
    response = client.post(
        f"/articles/{article.pk}/spans/{new.pk}/delete/", {"base_version": 1}, **HX
    )
    assert response.status_code == 409 and new.text in [s[3] for s in spans_of(article, editor)]


# Undo


def test_undo_fragment_restores_the_previous_spans_as_a_new_version(client, article, editor):
    client.post(add_url(article), selection(article, "crews", base=0), **HX)
    client.post(add_url(article), selection(article, "Iraq", "LOCATION", base=1), **HX)
    response = client.post(
        f"/articles/{article.pk}/undo/", {"base_version": 2, "request_key": key()}, **HX
    )
    assert response.status_code == 200 and 'id="workspace"' in response.content.decode()
    assert [s[3] for s in spans_of(article, editor)] == ["crews"]
    undo = AnnotationVersion.objects.get(number=3)
    assert undo.restored_from == 1 and versions_of(article, editor) == 3


def test_undo_twice_goes_two_changes_back_and_never_redoes(client, article, editor):
    client.post(add_url(article), selection(article, "crews", base=0))
    client.post(add_url(article), selection(article, "Iraq", "LOCATION", base=1))
    client.post(f"/articles/{article.pk}/undo/", {"base_version": 2})
    client.post(f"/articles/{article.pk}/undo/", {"base_version": 3})
    assert spans_of(article, editor) == []
    response = client.post(f"/articles/{article.pk}/undo/", {"base_version": 4}, **HX)
    assert response.status_code == 400 and "nothing to undo" in response.content.decode()
    assert versions_of(article, editor) == 4


def test_undo_full_page_redirects(client, article, editor):
    client.post(add_url(article), selection(article, "crews", base=0))
    response = client.post(f"/articles/{article.pk}/undo/", {"base_version": 1})
    assert response.status_code == 302 and spans_of(article, editor) == []


def test_undo_sent_twice_undoes_once(client, article, editor):
    client.post(add_url(article), selection(article, "crews", base=0))
    client.post(add_url(article), selection(article, "Iraq", "LOCATION", base=1))
    data = {"base_version": 2, "request_key": key()}
    client.post(f"/articles/{article.pk}/undo/", data, **HX)
    again = client.post(f"/articles/{article.pk}/undo/", data, **HX)
    assert again.status_code == 200
    assert [s[3] for s in spans_of(article, editor)] == ["crews"]


def test_undo_from_a_stale_page_is_409_without_reapply(client, article, editor):
    client.post(add_url(article), selection(article, "crews", base=0))
    client.post(add_url(article), selection(article, "Iraq", "LOCATION", base=1))
    response = client.post(f"/articles/{article.pk}/undo/", {"base_version": 1}, **HX)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Reload" in html and "Re-apply" not in html
    assert versions_of(article, editor) == 2


def test_undo_passes_over_a_submit(client, article, editor):
    client.post(add_url(article), selection(article, "crews", base=0))
    client.post(f"/articles/{article.pk}/submit/", {"base_version": 1})
    client.post(f"/articles/{article.pk}/undo/", {"base_version": 2})
    annotation = Annotation.objects.get(annotator=editor)
    assert spans_of(article, editor) == [] and annotation.status == "submitted"


# Submit


def test_submit_marks_submitted_and_goes_to_the_next_article(client, project, article, editor):
    following = make_article(project, "Next one.", editors=[editor])
    response = client.post(f"/articles/{article.pk}/submit/", {"base_version": 0})
    assert response.status_code == 302 and response["Location"] == f"/articles/{following.pk}/"
    assert Annotation.objects.get(annotator=editor, article=article).status == "submitted"


def test_submit_fragment_redirects_the_browser(client, project, article, editor):
    following = make_article(project, "Next one.", editors=[editor])
    response = client.post(
        f"/articles/{article.pk}/submit/", {"base_version": 0, "request_key": key()}, **HX
    )
    assert response.status_code == 200 and response["HX-Redirect"] == f"/articles/{following.pk}/"


def test_submitting_the_last_article_goes_to_the_project_page(client, project, article):
    response = client.post(f"/articles/{article.pk}/submit/", {"base_version": 0}, follow=True)
    assert response.redirect_chain[-1][0] == f"/projects/{project.slug}/"
    assert "Your queue is done" in response.content.decode()


def test_corrections_after_submit_are_new_versions(client, article, editor):
    client.post(add_url(article), selection(article, "crews", base=0))
    client.post(f"/articles/{article.pk}/submit/", {"base_version": 1})
    client.post(add_url(article), selection(article, "Iraq", "LOCATION", base=2))
    annotation = Annotation.objects.get(annotator=editor)
    assert annotation.status == "submitted" and annotation.version == 3
    html = client.get(f"/articles/{article.pk}/").content.decode()
    assert "You can still correct it" in html


def test_submit_from_a_stale_page_is_409(client, article, editor):
    client.post(add_url(article), selection(article, "crews", base=0))
    response = client.post(f"/articles/{article.pk}/submit/", {"base_version": 0}, **HX)
    assert response.status_code == 409
    assert Annotation.objects.get(annotator=editor).status == "in_progress"


def test_final_gold_locks_the_page(client, article, editor, reviewer):
    make_annotation(article, editor, [(0, 4, "LOCATION")])
    save_annotation(
        annotation=gold_for(article),
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(0, 4, "LOCATION")],
        final=True,
    )
    html = client.get(f"/articles/{article.pk}/").content.decode()
    assert "can no longer change" in html and 'data-locked="1"' in html
    assert "undo-form" not in html and "submit-form" not in html
    response = client.post(add_url(article), selection(article, "crews", base=1), **HX)
    assert response.status_code == 409 and "final" in response.content.decode()
    assert versions_of(article, editor) == 1


# Project page and "next article"


def test_project_page_shows_guidelines_and_the_queue(client, project, article, editor):
    project.guidelines = "Mark **every** actor."
    project.save()
    done = make_article(project, "Done already.", editors=[editor], title="Finished one")
    make_annotation(done, editor, [(0, 4, "ACTOR")], submit=True)
    html = client.get(f"/projects/{project.slug}/").content.decode()
    assert "<strong>every</strong>" in html
    assert "Clashes" in html and "Finished one" not in html  # "to do" by default
    assert "1 of 2</strong> done" in html
    html = client.get(f"/projects/{project.slug}/?show=done").content.decode()
    assert "Finished one" in html and "Clashes" not in html


def test_project_page_pages_each_filter_by_the_progress_counts(client, project, editor):
    articles = [make_article(project, f"Story {n}.", editors=[editor]) for n in range(53)]
    make_annotation(articles[0], editor, [(0, 5, "ACTOR")], submit=True)
    make_annotation(articles[1], editor, [(0, 5, "ACTOR")])  # in progress: still to do
    expected = {"open": (52, 2), "done": (1, 1), "all": (53, 2)}
    for which, (count, pages) in expected.items():
        page = client.get(f"/projects/{project.slug}/?show={which}").context["page"]
        assert (page.paginator.count, page.paginator.num_pages) == (count, pages), which
    last = client.get(f"/projects/{project.slug}/?show=open&page=2").context["page"]
    assert [row.article_id for row in last.object_list] == [a.pk for a in articles[51:]]
    first = client.get(f"/projects/{project.slug}/?show=open").context["page"]
    assert [row.article_id for row in first.object_list] == [a.pk for a in articles[1:51]]


def test_project_page_fragment_is_the_queue(client, project, article):
    response = client.get(f"/projects/{project.slug}/?show=all", **HX)
    html = response.content.decode()
    assert html.strip().startswith('<div id="queue">') and "Clashes" in html and "<html" not in html


def test_project_page_is_404_for_outsiders(project, outsider, client_for):
    assert client_for(outsider).get(f"/projects/{project.slug}/").status_code == 404


def test_project_links_follow_the_role(project, editor, manager, reviewer, client_for):
    editor_html = client_for(editor).get(f"/projects/{project.slug}/").content.decode()
    assert "/import/" not in editor_html and "/review/" not in editor_html
    project.editors_can_upload = True
    project.save()
    assert "/import/" in client_for(editor).get(f"/projects/{project.slug}/").content.decode()
    manager_html = client_for(manager).get(f"/projects/{project.slug}/").content.decode()
    assert all(p in manager_html for p in ("/import/", "/review/", "/agreement/"))
    reviewer_html = client_for(reviewer).get(f"/projects/{project.slug}/").content.decode()
    assert "/review/" in reviewer_html and "/import/" not in reviewer_html


def test_next_article_skips_what_is_done(client, project, editor):
    first = make_article(project, "One.", editors=[editor])
    second = make_article(project, "Two.", editors=[editor])
    third = make_article(project, "Three.", editors=[editor])
    make_annotation(first, editor, [(0, 3, "ACTOR")], submit=True)
    response = client.get(f"/projects/{project.slug}/next/")
    assert response["Location"] == f"/articles/{second.pk}/"
    response = client.get(f"/projects/{project.slug}/next/?after={second.pk}")
    assert response["Location"] == f"/articles/{third.pk}/"
    response = client.get(f"/projects/{project.slug}/next/?after={third.pk}")
    assert response["Location"] == f"/articles/{second.pk}/"  # wraps around, skipping `first`


def test_next_article_after_the_only_open_one_stays_on_it(client, project, editor):
    done = make_article(project, "One.", editors=[editor])
    last = make_article(project, "Two.", editors=[editor])
    make_annotation(done, editor, [(0, 3, "ACTOR")], submit=True)
    response = client.get(f"/projects/{project.slug}/next/?after={last.pk}")
    assert response["Location"] == f"/articles/{last.pk}/"
    response = client.get(f"/projects/{project.slug}/next/?after={done.pk}")
    assert response["Location"] == f"/articles/{last.pk}/"


def test_next_article_when_all_is_done_goes_to_the_project(client, project, editor):
    done = make_article(project, "One.", editors=[editor])
    make_annotation(done, editor, [(0, 3, "ACTOR")], submit=True)
    response = client.get(f"/projects/{project.slug}/next/")
    assert response["Location"] == f"/projects/{project.slug}/"


def test_next_article_skips_articles_closed_by_review(client, project, editor, reviewer):
    closed = make_article(project, "One.", editors=[editor])
    save_annotation(
        annotation=gold_for(closed),
        author=reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[],
        final=True,
    )
    open_one = make_article(project, "Two.", editors=[editor])
    assert client.get(f"/projects/{project.slug}/next/")["Location"] == f"/articles/{open_one.pk}/"


def test_a_new_editor_annotation_is_created_on_first_write(client, article, editor):
    assert not Annotation.objects.filter(annotator=editor).exists()
    client.post(add_url(article), selection(article, "crews"))
    assert annotation_for(article, editor).version == 1


# Undo, as a pure walk over the version list: (number, restored_from, note, summary)

ADD = {"added": {"ACTOR": 1}, "removed": {}}
SUBMIT = {"added": {}, "removed": {}, "status": "submitted"}


def test_undo_step_undoes_the_last_span_change():
    step = undo_step([(1, None, "", ADD), (2, None, "", ADD)])
    assert (step.undoes, step.target) == (2, 1)


def test_undo_step_skips_an_undo_and_the_change_it_undid():
    versions = [(1, None, "", ADD), (2, None, "", ADD), (3, 1, UNDO_NOTE, ADD)]
    step = undo_step(versions)
    assert (step.undoes, step.target) == (1, 0)


def test_undo_step_passes_over_status_changes():
    step = undo_step([(1, None, "", ADD), (2, None, "", SUBMIT)])
    assert (step.undoes, step.target) == (1, 0)


def test_a_restore_from_the_history_page_is_undone_like_any_change():
    versions = [(1, None, "", ADD), (2, None, "", ADD), (3, 1, "Restored version 1", ADD)]
    step = undo_step(versions)
    assert (step.undoes, step.target) == (3, 2)


def test_nothing_to_undo():
    assert undo_step([]) is None
    assert undo_step([(1, None, "", ADD), (2, 0, UNDO_NOTE, ADD)]) is None
