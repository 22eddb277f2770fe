"""What outside tools expect of our exports: ties between spans follow the project's label
order, the W3C collection is complete, and CoNLL writes the document line each tool reads."""

from __future__ import annotations

import json

import pytest

from annotate.exports import conll, render, w3c
from annotate.models import Release, Role
from annotate.services.annotations import SpanInput, gold_for, save_annotation
from annotate.services.releases import create_release, render_release

from .api_support import api, assert_error, body
from .factories import make_article, make_member, make_project, make_user

TEXT = "Kataeb Hezbollah fired rockets. Seven fighters were killed."
# Listed in the project in this order, which is not the alphabetical order of the keys.
LABELS = [
    ("SOURCE", "Source", "#b6d7a8", "1"),
    ("ACTOR", "Actor", "#ffd966", "2"),
    ("CASUALTY", "Casualty figure", "#ea9999", "3"),
]


def record(text: str, spans: list[tuple[int, int, str]]) -> dict:
    return {
        "id": "a1",
        "article": 1,
        "title": "t",
        "url": "",
        "text": text,
        "spans": [{"start": s, "end": e, "label": lab, "text": text[s:e]} for s, e, lab in spans],
        "source": "gold",
        "version": 1,
    }


# --- CoNLL document lines ---------------------------------------------------------------


def test_conll_opens_documents_with_the_conll_2003_line_by_default():
    out = "".join(conll.stream([record("Aleppo burns.", [])]))
    assert out.startswith("-DOCSTART- -X- -X- O\n\nAleppo -X- _ O\n")


def test_conll_can_write_the_document_line_spacy_convert_recognises():
    records = [record("Aleppo burns.", [(0, 6, "LOCATION")]), record("Idlib too.", [])]
    out = "".join(conll.stream(records, docstart="spacy"))
    assert out.count("-DOCSTART- -X- O O\n\n") == 2
    assert "-X- -X- O" not in out
    assert "Aleppo -X- _ B-LOCATION\n" in out


def test_conll_without_document_lines_keeps_only_sentences():
    out = "".join(conll.stream([record("Aleppo burns.", [])], docstart="none"))
    assert out == "Aleppo -X- _ O\nburns -X- _ O\n. -X- _ O\n\n"


# --- W3C collection ---------------------------------------------------------------------


def test_w3c_page_has_an_id_and_the_collection_a_total():
    records = [
        record("Aleppo and Idlib.", [(0, 6, "LOCATION"), (11, 16, "LOCATION")]),
        record("Nothing here.", []),
        record("Homs.", [(0, 4, "LOCATION")]),
    ]
    doc = json.loads("".join(w3c.stream(records, namespace="p", label="v1", generated="")))
    page = doc["first"]
    assert doc["type"] == "AnnotationCollection"
    assert doc["total"] == 3 == len(page["items"])
    assert page["type"] == "AnnotationPage"
    assert page["id"].startswith(doc["id"]) and page["id"] != doc["id"]
    assert page["partOf"] == doc["id"]
    assert doc["last"] == page["id"]


def test_an_empty_w3c_collection_counts_zero():
    doc = json.loads(b"".join(render("w3c", [], namespace="p", label="v1")).decode())
    assert doc["total"] == 0 and doc["first"]["items"] == []


# --- ties follow the project's label order ----------------------------------------------


@pytest.fixture
def tied(db):
    """One final gold where SOURCE and ACTOR mark the same words: SOURCE is listed first
    in the project, ACTOR first in the alphabet."""
    project = make_project("tied", labels=LABELS)
    reviewer = make_member(project, make_user("rev"), Role.REVIEWER)
    article = make_article(project, TEXT, external_id="tie")
    gold = gold_for(article)
    name = TEXT.index("Kataeb Hezbollah")
    figure = TEXT.index("Seven fighters")
    spans = [
        SpanInput(name, name + len("Kataeb Hezbollah"), "ACTOR"),
        SpanInput(name, name + len("Kataeb Hezbollah"), "SOURCE"),
        SpanInput(figure, figure + len("Seven fighters"), "CASUALTY"),
    ]
    save_annotation(
        annotation=gold, author=reviewer, role=Role.REVIEWER, base_version=0, spans=spans
    )
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=1,
        spans=spans,
        final=True,
    )
    return project, reviewer


def export(project, reviewer, fmt: str, **params) -> bytes:
    query = "&".join(f"{k}={v}" for k, v in {"format": fmt, **params}.items())
    response = api(reviewer).get(f"/api/projects/{project.slug}/export/?{query}")
    assert response.status_code == 200, response.content[:300]
    return body(response)


def test_a_tie_in_conll_goes_to_the_label_listed_first_in_the_project(tied):
    out = export(*tied, "conll").decode()
    assert "Kataeb -X- _ B-SOURCE\nHezbollah -X- _ I-SOURCE\n" in out
    assert "B-ACTOR" not in out


def test_a_tie_in_spacy_entities_goes_to_the_label_listed_first(tied):
    (line,) = lines_of(export(*tied, "spacy"))
    assert [e[2] for e in line["entities"]] == ["SOURCE", "CASUALTY"]


def test_jsonl_lists_spans_at_the_same_offsets_in_label_order(tied):
    (line,) = lines_of(export(*tied, "jsonl"))
    assert [s["label"] for s in line["spans"]] == ["SOURCE", "ACTOR", "CASUALTY"]


def test_the_api_takes_the_spacy_document_line_for_conll(tied):
    out = export(*tied, "conll", docstart="spacy").decode()
    assert out.startswith("-DOCSTART- -X- O O\n\n")


@pytest.mark.parametrize(
    "query", ["format=conll&docstart=other", "format=jsonl&docstart=spacy", "docstart=none"]
)
def test_a_bad_document_line_option_is_400(tied, query):
    project, reviewer = tied
    response = api(reviewer).get(f"/api/projects/{project.slug}/export/?{query}")
    assert "docstart" in str(assert_error(response, 400))


def test_a_release_freezes_the_label_order_of_its_day(tied):
    project, reviewer = tied
    release = create_release(project=project, name="v1", user=reviewer)
    assert release.label_order == ["SOURCE", "ACTOR", "CASUALTY"]
    before = b"".join(render_release(release, "conll"))
    project.labels.filter(key="SOURCE").update(order=10)  # now listed last
    assert b"".join(render_release(Release.objects.get(pk=release.pk), "conll")) == before
    assert b"B-SOURCE" in before


def test_a_release_made_before_label_order_was_kept_rebuilds_as_it_was_made(tied):
    """Such releases listed tied spans by label key; their downloads must not change."""
    project, reviewer = tied
    release = create_release(project=project, name="v1", user=reviewer)
    old = Release.objects.get(pk=release.pk)
    old.label_order = []  # as stored by a release of that time (releases are immutable)
    (line,) = lines_of(b"".join(render_release(old, "jsonl")))
    assert [s["label"] for s in line["spans"]] == ["ACTOR", "SOURCE", "CASUALTY"]


def test_release_download_takes_the_document_line_option(tied):
    project, reviewer = tied
    create_release(project=project, name="v1", user=reviewer)
    response = api(reviewer).get(
        f"/api/projects/{project.slug}/releases/v1/download/?format=conll&docstart=none"
    )
    assert response.status_code == 200
    assert not body(response).startswith(b"-DOCSTART-")


def lines_of(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines() if line]
