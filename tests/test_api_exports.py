"""API: streamed exports in every format, dataset import (round trip), releases, schema."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from openapi_spec_validator import validate
from spacy.tokens import Doc
from spacy.vocab import Vocab

from annotate.models import Article, Release, Role
from annotate.services.annotations import SpanInput, gold_for, save_annotation

from .api_support import api, assert_error, body, lines
from .factories import make_annotation, make_article, make_member, make_project

EXPORT = "/api/projects/demo-news/export/"
RELEASES = "/api/projects/demo-news/releases/"
TEXTS = [
    "Kataeb Hezbollah fighters shelled Aleppo. Three people died, the ministry said.",
    "🇱🇧 In Beirut 👩🏽‍🚒 crews said 2 were hurt.\nThe army denied it.",
    "Café owners in Idlib counted 10,000 displaced, UNHCR said.",
]


def spans_at(text: str, *marks: tuple[str, str]) -> list[tuple[int, int, str]]:
    out = []
    for part, label in marks:
        start = text.index(part)
        out.append((start, start + len(part), label))
    return out


def set_gold(article, reviewer, spans, *, final=True):
    gold = gold_for(article)
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=gold.version,
        spans=[SpanInput(s, e, label) for s, e, label in spans],
        final=final,
    )
    return gold


@pytest.fixture
def corpus(project, editor, other_editor, reviewer):
    """Three articles: two with final gold (nested and crossing spans, emoji), one open."""
    one = make_article(
        project, TEXTS[0], external_id="one", title="Shelling", editors=[editor, other_editor]
    )
    two = make_article(
        project,
        TEXTS[1],
        external_id="two",
        url="https://news.example/2",
        editors=[editor, other_editor],
    )
    three = make_article(project, TEXTS[2], external_id="three", editors=[editor, other_editor])
    gold_one = spans_at(
        TEXTS[0],
        ("Kataeb Hezbollah fighters", "ACTOR"),
        ("Hezbollah", "LOCATION"),
        ("Aleppo", "LOCATION"),
        ("Three people", "CASUALTY"),
        ("the ministry", "SOURCE"),
    )
    gold_two = spans_at(
        TEXTS[1], ("Beirut", "LOCATION"), ("👩🏽‍🚒 crews", "SOURCE"), ("2", "CASUALTY")
    )
    for article, spans in ((one, gold_one), (two, gold_two)):
        make_annotation(article, editor, spans[:2], submit=True)
        make_annotation(article, other_editor, spans[1:], submit=True)
        set_gold(article, reviewer, spans)
    make_annotation(three, editor, spans_at(TEXTS[2], ("Idlib", "LOCATION")))
    set_gold(three, reviewer, spans_at(TEXTS[2], ("UNHCR", "SOURCE")), final=False)
    return {"one": one, "two": two, "three": three}


def assert_spans_match_text(records):
    for record in records:
        for span in record["spans"]:
            assert record["text"][span["start"] : span["end"]] == span["text"], span


# --- export -----------------------------------------------------------------------------


def test_jsonl_export_of_the_gold(corpus, reviewer):
    response = api(reviewer).get(EXPORT + "?format=jsonl")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert response["X-Export-Records"] == "3"
    assert "attachment" in response["Content-Disposition"]
    records = lines(response)
    assert [r["id"] for r in records] == ["one", "two", "three"]
    assert_spans_match_text(records)
    one = records[0]
    assert one["source"] == "gold" and one["version"] == 1 and one["final"] is True
    assert one["adjudicator"] == "rita" and one["annotators"] == ["edith", "otto"]
    assert one["article"] == corpus["one"].pk and one["title"] == "Shelling"
    assert len(one["spans"]) == 5 and "annotator" not in one
    assert records[2]["final"] is False


def test_final_only_export(corpus, reviewer):
    records = lines(api(reviewer).get(EXPORT + "?final=true"))
    assert [r["id"] for r in records] == ["one", "two"]


def test_editors_export_has_one_record_per_editor_with_who_and_version(corpus, reviewer):
    records = lines(api(reviewer).get(EXPORT + "?source=editors"))
    assert [(r["id"], r["annotator"], r["status"], r["version"]) for r in records] == [
        ("one", "edith", "submitted", 1),
        ("one", "otto", "submitted", 1),
        ("two", "edith", "submitted", 1),
        ("two", "otto", "submitted", 1),
        ("three", "edith", "in_progress", 1),
    ]
    assert all(r["source"] == "editor" for r in records)
    assert_spans_match_text(records)
    final = lines(api(reviewer).get(EXPORT + "?source=editors&final=true"))
    assert {r["id"] for r in final} == {"one", "two"}


def test_an_export_record_names_the_version_its_spans_come_from(corpus, reviewer):
    gold = corpus["three"].annotations.get(kind="gold")
    set_gold(corpus["three"], reviewer, [], final=False)
    (record,) = [r for r in lines(api(reviewer).get(EXPORT)) if r["id"] == "three"]
    assert record["version"] == gold.version + 1 and record["spans"] == []


def test_conll_export_has_bio_tags_and_document_breaks(corpus, reviewer):
    response = api(reviewer).get(EXPORT + "?format=conll&final=true")
    assert response["Content-Type"].startswith("text/plain")
    text = body(response).decode()
    assert text.count("-DOCSTART- -X- -X- O") == 2
    rows = [
        line.split(" ") for line in text.splitlines() if line and not line.startswith("-DOCSTART-")
    ]
    assert all(len(row) == 4 for row in rows)
    tags = [(row[0], row[3]) for row in rows]
    assert tags[:4] == [
        ("Kataeb", "B-ACTOR"),
        ("Hezbollah", "I-ACTOR"),
        ("fighters", "I-ACTOR"),
        ("shelled", "O"),
    ]
    assert ("👩🏽\u200d🚒", "B-SOURCE") in tags and ("crews", "I-SOURCE") in tags


def test_spacy_export_offsets_work_with_char_span(corpus, reviewer):
    response = api(reviewer).get(EXPORT + "?format=spacy&final=true")
    for example in lines(response):
        doc = Doc(Vocab(), words=example["words"], spaces=example["spaces"])
        assert doc.text == example["text"]
        for start, end, label in example["spans"]["sc"]:
            assert doc.char_span(start, end, label=label) is not None
        doc.ents = [doc.char_span(s, e, label=lab) for s, e, lab in example["entities"]]
    first = lines(response := api(reviewer).get(EXPORT + "?format=spacy"))[0]
    assert [0, 25, "ACTOR"] in first["entities"] and [7, 16, "LOCATION"] not in first["entities"]
    assert [7, 16, "LOCATION"] in first["spans"]["sc"]
    assert first["meta"]["id"] == "one" and first["meta"]["version"] == 1


def test_w3c_export_is_json_ld_with_both_selectors(corpus, reviewer):
    response = api(reviewer).get(EXPORT + "?format=w3c&final=true")
    assert response["Content-Type"].startswith("application/ld+json")
    data = json.loads(body(response))
    assert data["@context"] == "http://www.w3.org/ns/anno.jsonld"
    items = data["first"]["items"]
    assert len(items) == 8
    texts = {a.pk: a.text for a in Article.objects.all()}
    by_source = {"https://news.example/2": corpus["two"].pk}
    for item in items:
        position, quote = item["target"]["selector"]
        source = item["target"]["source"]
        article = by_source.get(source) or int(source.rsplit(":", 1)[1])
        assert texts[article][position["start"] : position["end"]] == quote["exact"]
        assert texts[article][: position["start"]].endswith(quote["prefix"])
        assert item["creator"]["nickname"] == "rita"


@pytest.mark.parametrize(
    "query", ["?format=xml", "?source=everyone", "?final=maybe", "?limit=5", "?label__in=A"]
)
def test_bad_export_parameters_are_400(corpus, reviewer, query):
    assert_error(api(reviewer).get(EXPORT + query), 400)


def test_export_permissions(corpus, editor, outsider):
    assert_error(api().get(EXPORT), 401)
    assert_error(api(outsider).get(EXPORT), 404)
    assert_error(api(editor).get(EXPORT), 403)
    assert_error(api(editor).get(EXPORT + "?source=editors"), 403)


def test_export_queries_do_not_grow_with_articles(
    project, editor, reviewer, django_assert_max_num_queries
):
    for _ in range(12):
        article = make_article(project, TEXTS[0], editors=[editor])
        set_gold(article, reviewer, spans_at(TEXTS[0], ("Aleppo", "LOCATION")))
    client = api(reviewer)
    client.get("/api/projects/")
    with django_assert_max_num_queries(20):
        records = lines(client.get(EXPORT))
    assert len(records) == 12


def test_chunked_export_reads_every_record_once(corpus, project):
    from annotate.services.exporting import export_records

    assert [r["id"] for r in export_records(project, chunk_size=1)] == ["one", "two", "three"]
    editors = [
        (r["id"], r["annotator"]) for r in export_records(project, source="editors", chunk_size=2)
    ]
    assert len(editors) == len(set(editors)) == 5


@pytest.mark.parametrize("versions_per_query", [1, 100])
def test_spans_are_read_as_of_each_annotations_own_version(
    corpus, project, reviewer, monkeypatch, versions_per_query
):
    from annotate.services import exporting, versions

    monkeypatch.setattr(exporting, "VERSIONS_PER_QUERY", versions_per_query)
    one, two = corpus["one"], corpus["two"]
    for marks in ([("Aleppo", "LOCATION")], [], [("Three", "SOURCE"), ("Aleppo", "ACTOR")]):
        set_gold(one, reviewer, spans_at(TEXTS[0], *marks), final=False)
    keys = exporting.label_keys(project)
    texts = {one.pk: one.text, two.pk: two.text}
    targets = {
        article.pk: [
            exporting.Target(article.pk, gold.pk, version) for version in range(1, gold.version + 1)
        ]
        for article, gold in ((one, gold_for(one)), (two, gold_for(two)))
    }
    alone = {}
    for target in targets[one.pk] + targets[two.pk]:
        alone[target] = exporting.spans_at_versions([target], keys, texts).get(
            target.annotation_id, []
        )
        expected = versions.spans_at_versions({target.annotation_id: target.version})
        assert [(s["start"], s["end"], s["label"]) for s in alone[target]] == sorted(
            (s.start, s.end, s.label.key) for s in expected[target.annotation_id]
        )
    assert len({str(spans) for spans in alone.values()}) >= 4
    for first in targets[one.pk]:  # two annotations at different versions, in one query
        for second in targets[two.pk]:
            both = exporting.spans_at_versions([first, second], keys, texts)
            assert both.get(first.annotation_id, []) == alone[first]
            assert both.get(second.annotation_id, []) == alone[second]


@pytest.mark.parametrize("window", [1, 2])
def test_reading_a_few_articles_at_a_time_gives_the_same_records(
    corpus, project, monkeypatch, window
):
    from annotate.services import exporting

    def read(**options):
        return [
            (r["id"], r.get("annotator"), r["version"])
            for r in exporting.export_records(project, **options)
        ]

    options = [
        {"source": source, "final_only": final, "chunk_size": chunk}
        for source in ("gold", "editors")
        for final in (False, True)
        for chunk in (1, 3, 200)
    ]
    whole = [read(**o) for o in options]
    monkeypatch.setattr(exporting, "WINDOW", window)
    assert [read(**o) for o in options] == whole
    assert whole[0] == [("one", None, 1), ("two", None, 1), ("three", None, 1)]


# --- round trip -------------------------------------------------------------------------


def test_round_trip_export_import_export_keeps_every_span(corpus, reviewer, manager):
    exported = body(api(reviewer).get(EXPORT + "?format=jsonl"))
    target = make_project("copy")
    make_member(target, manager, Role.MANAGER)
    client = api(manager)
    response = client.generic(
        "POST", "/api/projects/copy/import/", exported, content_type="application/x-ndjson"
    )
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 3
    again = lines(client.get("/api/projects/copy/export/?format=jsonl"))
    before = [json.loads(line) for line in exported.decode().splitlines()]

    def essence(record):
        return (record["id"], record["title"], record["text"], record["final"], record["spans"])

    assert [essence(r) for r in again] == [essence(r) for r in before]
    assert_spans_match_text(again)
    repeat = client.generic(
        "POST", "/api/projects/copy/import/", exported, content_type="application/x-ndjson"
    )
    assert repeat.json()["created"] == 0 and repeat.json()["skipped"] == ["one", "two", "three"]


def test_a_dataset_with_a_bad_span_imports_nothing(project, manager):
    records = [
        {
            "id": "ok",
            "text": "Rebels in Aleppo.",
            "spans": [{"start": 0, "end": 6, "label": "ACTOR"}],
        },
        {"id": "bad", "text": "Aleppo.", "spans": [{"start": 0, "end": 60, "label": "ACTOR"}]},
    ]
    raw = "\n".join(json.dumps(r) for r in records).encode()
    response = api(manager).generic(
        "POST", "/api/projects/demo-news/import/", raw, content_type="application/x-ndjson"
    )
    data = assert_error(response, 400)
    assert data["errors"][0]["line"] == 2
    assert not Article.objects.exists()


def test_editor_records_and_unknown_fields_are_refused_by_the_dataset_import(project, manager):
    records = [
        {"id": "a", "text": "x", "spans": [], "source": "editor", "annotator": "edith"},
        {"id": "b", "text": "x", "spans": [], "colour": "red"},
    ]
    raw = "\n".join(json.dumps(r) for r in records).encode()
    response = api(manager).generic(
        "POST", "/api/projects/demo-news/import/", raw, content_type="application/x-ndjson"
    )
    assert [e["line"] for e in assert_error(response, 400)["errors"]] == [1, 2]


def test_only_managers_import_datasets(project, reviewer):
    raw = json.dumps({"id": "a", "text": "x", "spans": []}).encode()
    response = api(reviewer).generic(
        "POST", "/api/projects/demo-news/import/", raw, content_type="application/x-ndjson"
    )
    assert_error(response, 403)


# --- releases ---------------------------------------------------------------------------


def test_a_release_freezes_the_final_gold_with_counts_and_sha256(corpus, reviewer):
    response = api(reviewer).post(RELEASES, {"name": "v1", "note": "first cut"}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "v1" and data["articles"] == 2 and data["spans"] == 8
    assert data["labels"] == {"ACTOR": 1, "LOCATION": 3, "CASUALTY": 2, "SOURCE": 2}
    assert data["changes"] == {
        "previous": None,
        "added": ["one", "two"],
        "removed": [],
        "changed": [],
    }
    assert data["created_by"] == "rita" and len(data["sha256"]) == 64
    assert set(data["agreement"]) == {"token", "char"}
    assert data["agreement"]["token"]["articles_compared"] == 2
    assert data["agreement"]["char"]["unit"] == "char"
    release = Release.objects.get()
    assert [e["article"] for e in release.manifest] == [corpus["one"].pk, corpus["two"].pk]
    assert [e["version"] for e in release.manifest] == [1, 1]


def test_release_downloads_are_byte_identical_and_match_the_sha256(corpus, reviewer):
    client = api(reviewer)
    sha = client.post(RELEASES, {"name": "v1"}, format="json").json()["sha256"]
    url = RELEASES + "v1/download/"
    first = client.get(url + "?format=jsonl")
    content = body(first)
    assert hashlib.sha256(content).hexdigest() == sha == first["X-Content-SHA256"]
    assert first["ETag"] == f'"{sha}"'
    for format in ("jsonl", "conll", "spacy", "w3c"):
        assert body(client.get(f"{url}?format={format}")) == body(
            client.get(f"{url}?format={format}")
        )
    records = [json.loads(line) for line in content.decode().splitlines()]
    assert [r["id"] for r in records] == ["one", "two"]
    assert_spans_match_text(records)


def test_a_release_does_not_change_when_the_gold_does(corpus, reviewer, manager):
    client = api(reviewer)
    client.post(RELEASES, {"name": "v1"}, format="json")
    before = body(client.get(RELEASES + "v1/download/?format=w3c"))
    sha = Release.objects.get().sha256
    set_gold(corpus["one"], reviewer, spans_at(TEXTS[0], ("Aleppo", "LOCATION")), final=False)
    corpus["one"].title = "Renamed"
    corpus["one"].save()
    api(manager).patch("/api/projects/demo-news/", {"name": "Renamed project"}, format="json")
    assert body(client.get(RELEASES + "v1/download/?format=w3c")) == before
    assert hashlib.sha256(body(client.get(RELEASES + "v1/download/"))).hexdigest() == sha


def test_a_release_lists_what_changed_since_the_previous_one(corpus, reviewer):
    client = api(reviewer)
    client.post(RELEASES, {"name": "v1"}, format="json")
    set_gold(corpus["three"], reviewer, spans_at(TEXTS[2], ("UNHCR", "SOURCE")), final=True)
    set_gold(corpus["one"], reviewer, spans_at(TEXTS[0], ("Aleppo", "LOCATION")), final=False)
    set_gold(corpus["one"], reviewer, spans_at(TEXTS[0], ("Aleppo", "LOCATION")), final=True)
    gold_two = corpus["two"].annotations.get(kind="gold")
    save_annotation(
        annotation=gold_two,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=gold_two.version,
        spans=[],
        final=False,
    )
    data = client.post(RELEASES, {"name": "v2"}, format="json").json()
    assert data["changes"] == {
        "previous": "v1",
        "added": ["three"],
        "removed": ["two"],
        "changed": ["one"],
        "facts": {},  # its spans changed; no attribute or relation of a kept span did
    }
    names = [r["name"] for r in client.get(RELEASES).json()["results"]]
    assert names == ["v2", "v1"]
    detail = client.get(RELEASES + "v2/").json()
    assert [e["id"] for e in detail["manifest"]] == ["one", "three"]


def test_a_gold_version_change_without_span_change_is_not_a_change(corpus, reviewer):
    client = api(reviewer)
    client.post(RELEASES, {"name": "v1"}, format="json")
    gold = corpus["one"].annotations.get(kind="gold")
    for final in (False, True):
        gold.refresh_from_db()
        save_annotation(
            annotation=gold,
            author=reviewer,
            role=Role.REVIEWER,
            base_version=gold.version,
            spans=[SpanInput(s.start, s.end, s.label.key) for s in gold.current_spans()],
            final=final,
        )
    data = client.post(RELEASES, {"name": "v2"}, format="json").json()
    assert data["changes"]["changed"] == []


@pytest.mark.parametrize("name", ["", "-v1", "v 1", "v/1", "x" * 65, 5])
def test_release_names_are_checked(corpus, reviewer, name):
    assert_error(api(reviewer).post(RELEASES, {"name": name}, format="json"), 400)
    assert not Release.objects.exists()


def test_release_names_are_unique_and_need_final_gold(project, corpus, reviewer):
    client = api(reviewer)
    client.post(RELEASES, {"name": "v1"}, format="json")
    assert (
        "already"
        in assert_error(client.post(RELEASES, {"name": "v1"}, format="json"), 400)["detail"]
    )
    empty = make_project("empty")
    make_member(empty, reviewer, Role.REVIEWER)
    response = client.post("/api/projects/empty/releases/", {"name": "v1"}, format="json")
    assert "final gold" in assert_error(response, 400)["detail"]


def test_release_permissions(corpus, editor, reviewer, outsider):
    api(reviewer).post(RELEASES, {"name": "v1"}, format="json")
    assert_error(api(editor).post(RELEASES, {"name": "v2"}, format="json"), 403)
    assert_error(api(editor).get(RELEASES), 403)
    assert_error(api(editor).get(RELEASES + "v1/download/"), 403)
    assert_error(api(outsider).get(RELEASES + "v1/"), 404)
    assert_error(api(reviewer).get(RELEASES + "v9/"), 404)
    assert_error(api().get(RELEASES), 401)


def test_releases_are_immutable(corpus, reviewer):
    api(reviewer).post(RELEASES, {"name": "v1"}, format="json")
    release = Release.objects.get()
    release.name = "v2"
    with pytest.raises(ValidationError):
        release.save()
    with pytest.raises(ValidationError):
        release.delete()
    with pytest.raises(ValidationError):
        Release.objects.update(name="x")
    with pytest.raises(ValidationError):
        Release.objects.all().delete()


def test_a_release_whose_article_was_deleted_says_so(corpus, reviewer):
    api(reviewer).post(RELEASES, {"name": "v1"}, format="json")
    Article.objects.filter(pk=corpus["two"].pk).delete()
    assert "deleted" in assert_error(api(reviewer).get(RELEASES + "v1/download/"), 409)["detail"]


# --- schema -----------------------------------------------------------------------------


def test_the_served_schema_is_valid_openapi_3_and_describes_the_contract(editor):
    response = api().get("/api/schema/")  # readable before one has a token
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate(schema)
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/projects/",
        "/api/projects/{slug}/members/",
        "/api/projects/{slug}/articles/",
        "/api/articles/{article_id}/",
        "/api/articles/{article_id}/annotation/",
        "/api/articles/{article_id}/annotation/versions/{number}/",
        "/api/articles/{article_id}/annotations/",
        "/api/articles/{article_id}/gold/",
        "/api/projects/{slug}/export/",
        "/api/projects/{slug}/releases/",
        "/api/projects/{slug}/releases/{name}/download/",
    ):
        assert path in schema["paths"], path
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_the_interactive_docs_are_served_without_a_cdn(editor, client_for):
    response = client_for(editor).get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower() and b"cdn." not in response.content


# --- the export command -------------------------------------------------------------------


def test_the_export_command_writes_what_the_api_serves(corpus, reviewer, tmp_path, capsys):
    out = tmp_path / "gold.jsonl"
    call_command("export_project", "--project", "demo-news", "--final", "-o", str(out))
    assert out.read_bytes() == body(api(reviewer).get(EXPORT + "?final=true"))
    assert "Wrote 2 records" in capsys.readouterr().err
    editors = tmp_path / "editors.conll"
    call_command(
        "export_project",
        "--project",
        "demo-news",
        "--source",
        "editors",
        "--format",
        "conll",
        "-o",
        str(editors),
        "--no-progress",
    )
    assert editors.read_text().count("-DOCSTART-") == 5


def test_the_export_command_rebuilds_a_release_and_checks_its_sha256(
    corpus, reviewer, tmp_path, capsys
):
    api(reviewer).post(RELEASES, {"name": "v1"}, format="json")
    out = tmp_path / "v1.jsonl"
    call_command("export_project", "--project", "demo-news", "--release", "v1", "-o", str(out))
    assert hashlib.sha256(out.read_bytes()).hexdigest() == Release.objects.get().sha256
    assert "matches release v1" in capsys.readouterr().err
    with pytest.raises(CommandError, match="no release"):
        call_command("export_project", "--project", "demo-news", "--release", "v9")
    with pytest.raises(CommandError, match="No project"):
        call_command("export_project", "--project", "nope")
