"""Label every occurrence: the service (one version, only what is missing, undo takes it all
back) and the endpoint (selection or span, fragment and full page, refusals, blindness)."""

from __future__ import annotations

import uuid

import pytest

from annotate.models import Annotation, AnnotationVersion, Role
from annotate.offsets import to_utf16
from annotate.services import labelling
from annotate.services.annotations import (
    InvalidSpans,
    Locked,
    SpanInput,
    gold_for,
    save_annotation,
)
from annotate.services.every_occurrence import MAX_OCCURRENCES, label_every_occurrence

from .factories import make_annotation, make_article

TEXT = (
    "👩🏽‍⚕️ Iraq said Iraqi forces left. Iraq's army and al-Iraq\n"
    "<b>Iraq</b> & Kataeb Hezbollah; Kataeb Hezbollah in Iraq."
)
HX = {"HTTP_HX_REQUEST": "true"}


def iraq_places() -> list[tuple[int, int]]:
    return [(s, s + 4) for s in (6, 35, 62, 111)]


@pytest.fixture
def article(project, editor, other_editor):
    return make_article(project, TEXT, editors=[editor, other_editor], title="Iraq")


def spans_of(article, user) -> list[tuple[int, int, str]]:
    annotation = Annotation.objects.filter(article=article, annotator=user).first()
    if annotation is None:
        return []
    return [(s.start, s.end, s.label.key) for s in annotation.current_spans()]


def label_every(article, editor, start: int, end: int, label: str = "LOCATION", base: int = 0):
    return label_every_occurrence(
        article=article,
        author=editor,
        role=Role.EDITOR,
        base_version=base,
        span=SpanInput(start, end, label, article.text[start:end]),
    )


def test_the_places_are_the_whole_words(article):
    assert [article.text[s:e] for s, e in iraq_places()] == ["Iraq"] * 4
    assert article.text[35:41] == "Iraq's"


# The service


def test_every_occurrence_is_labelled_in_one_version(article, editor):
    done = label_every(article, editor, 6, 10)
    assert (done.found, done.added) == (4, 4)
    assert spans_of(article, editor) == [(s, e, "LOCATION") for s, e in iraq_places()]
    assert done.result.version.number == 1
    assert AnnotationVersion.objects.filter(annotation__annotator=editor).count() == 1


def test_only_missing_occurrences_are_added_and_other_spans_kept(article, editor):
    make_annotation(article, editor, [(35, 39, "LOCATION"), (0, 5, "SOURCE")])
    done = label_every(article, editor, 6, 10, base=1)
    assert (done.found, done.added) == (4, 3)
    assert (0, 5, "SOURCE") in spans_of(article, editor)
    assert len(spans_of(article, editor)) == 5


def test_nothing_missing_makes_no_version(article, editor):
    label_every(article, editor, 6, 10)
    done = label_every(article, editor, 111, 115, base=1)
    assert done.added == 0 and done.result.version is None
    assert Annotation.objects.get(annotator=editor).version == 1


def test_a_phrase_and_another_label(article, editor):
    start = article.text.index("Kataeb Hezbollah")
    done = label_every(article, editor, start, start + 16, "ACTOR")
    assert done.found == 2
    assert {article.text[s:e] for s, e, _ in spans_of(article, editor)} == {"Kataeb Hezbollah"}


def test_undo_takes_every_occurrence_back(article, editor):
    make_annotation(article, editor, [(0, 5, "SOURCE")])
    label_every(article, editor, 6, 10, base=1)
    labelling.undo(article=article, author=editor, role=Role.EDITOR, base_version=2)
    assert spans_of(article, editor) == [(0, 5, "SOURCE")]


def test_a_change_in_another_tab_elsewhere_is_kept(article, editor):
    make_annotation(article, editor, [(0, 5, "SOURCE")])  # version 1, made in another tab
    done = label_every(article, editor, 6, 10, base=0)
    assert done.result.merged
    assert len(spans_of(article, editor)) == 5


def test_a_closed_article_is_refused(article, editor, reviewer):
    gold = gold_for(article)
    save_annotation(
        annotation=gold, author=reviewer, role=Role.REVIEWER, base_version=0, spans=[], final=True
    )
    with pytest.raises(Locked, match="final"):
        label_every(article, editor, 6, 10)
    assert spans_of(article, editor) == []


def test_words_across_a_paragraph_break_are_refused(article, editor):
    end = article.text.index("<b>") + 2
    with pytest.raises(InvalidSpans, match="within a paragraph"):
        label_every(article, editor, 44, end)


def test_too_many_occurrences_are_refused(project, editor):
    article = make_article(project, "war " * (MAX_OCCURRENCES + 1), editors=[editor])
    with pytest.raises(InvalidSpans, match="occurs"):
        label_every(article, editor, 0, 3)
    assert spans_of(article, editor) == []


# The endpoint


def url(article) -> str:
    return f"/articles/{article.pk}/spans/every/"


def selection(article, start: int, end: int, label: str = "LOCATION", base: int = 0) -> dict:
    return {
        "start": to_utf16(article.text, start),
        "end": to_utf16(article.text, end),
        "quote": article.text[start:end],
        "label": label,
        "base_version": base,
        "request_key": str(uuid.uuid4()),
    }


def test_a_selection_answers_the_workspace_saying_how_many(client_for, editor, article):
    response = client_for(editor).post(url(article), selection(article, 6, 10), **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<div id="workspace"')
    assert "Labelled every occurrence of “Iraq” as Location: 4." in html
    assert response["X-Annotation-Version"] == "1"
    assert len(spans_of(article, editor)) == 4


def test_a_sloppy_selection_is_snapped_first(client_for, editor, article):
    # "raq sa" snaps to "Iraq said", which occurs once.
    client_for(editor).post(url(article), selection(article, 7, 13), **HX)
    assert spans_of(article, editor) == [(6, 15, "LOCATION")]


def test_a_span_gives_its_label_to_its_words(client_for, editor, article):
    annotation = make_annotation(article, editor, [(111, 115, "ACTOR")])
    span = annotation.current_spans().get()
    response = client_for(editor).post(
        url(article), {"span": span.pk, "base_version": 1, "request_key": str(uuid.uuid4())}, **HX
    )
    assert "Labelled 3 more occurrences of “Iraq” as Actor (4 in all)." in response.content.decode()
    assert spans_of(article, editor) == [(s, e, "ACTOR") for s, e in iraq_places()]


def test_without_javascript_the_span_page_form_redirects_back(client_for, editor, article):
    annotation = make_annotation(article, editor, [(111, 115, "ACTOR")])
    span = annotation.current_spans().get()
    client = client_for(editor)
    page = client.get(f"/articles/{article.pk}/spans/{span.pk}/").content.decode()
    assert f'action="/articles/{article.pk}/spans/every/"' in page
    response = client.post(url(article), {"span": span.pk, "base_version": 1})
    assert response.status_code == 302 and response["Location"] == f"/articles/{article.pk}/"
    assert len(spans_of(article, editor)) == 4


def test_the_same_request_twice_makes_one_version(client_for, editor, article):
    data = selection(article, 6, 10)
    client = client_for(editor)
    client.post(url(article), data, **HX)
    client.post(url(article), data, **HX)
    assert Annotation.objects.get(annotator=editor).version == 1


def test_another_editors_span_is_not_found(client_for, editor, other_editor, article):
    theirs = make_annotation(article, other_editor, [(111, 115, "ACTOR")]).current_spans().get()
    response = client_for(editor).post(url(article), {"span": theirs.pk, "base_version": 0}, **HX)
    assert response.status_code == 400
    assert "no such span" in response.content.decode()
    assert spans_of(article, editor) == []


@pytest.mark.parametrize(
    "data, message",
    [
        ({"start": "8", "end": "12", "quote": "Iraz", "label": "LOCATION"}, "does not match"),
        ({"start": "8", "end": "12", "quote": "Iraq", "label": "NOPE"}, "label"),
        ({"span": "x"}, "span"),
        (
            {"start": "8", "end": "12", "quote": "Iraq", "label": "LOCATION", "base_version": "x"},
            "version",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message(client_for, editor, article, data, message):
    data = {"base_version": "0", **data}
    response = client_for(editor).post(url(article), data, **HX)
    assert response.status_code == 400
    assert message in response.content.decode().lower() or message in response.content.decode()
    assert spans_of(article, editor) == []


def test_a_stale_page_offers_to_re_apply(client_for, editor, article):
    make_annotation(article, editor, [(6, 10, "LOCATION")])
    # Version 2, from another tab, labels one of the other occurrences differently.
    make_annotation(article, editor, [(6, 10, "LOCATION"), (111, 115, "ACTOR")])
    response = client_for(editor).post(url(article), selection(article, 6, 10, base=1), **HX)
    assert response.status_code == 409
    assert "Re-apply my change" in response.content.decode()


@pytest.mark.parametrize("who", ["reviewer", "outsider"])
def test_only_the_assigned_editor_may(client_for, article, who, request):
    user = request.getfixturevalue(who)
    response = client_for(user).post(url(article), selection(article, 6, 10), **HX)
    assert response.status_code == 404


def test_the_page_shows_the_button_and_the_key(client_for, editor, article):
    html = client_for(editor).get(f"/articles/{article.pk}/").content.decode()
    assert 'id="label-every"' in html and 'aria-keyshortcuts="*"' in html
    assert "Label every occurrence" in html and "js/occurrences.js" in html
