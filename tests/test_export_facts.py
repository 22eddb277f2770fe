"""Facts in every export: attributes and relations in jsonl, spaCy and W3C; one record per
figure in `facts` and `facts-csv`; the round trip; releases that freeze and diff facts."""

from __future__ import annotations

import csv
import io
import json

import pytest

from annotate.models import Release, Role
from annotate.services.annotations import (
    RelationInput,
    SpanInput,
    annotation_for,
    gold_for,
    save_annotation,
)
from annotate.services.releases import create_release, render_release

from .api_support import api, body
from .factories import make_article, make_attribute, make_member, make_relation_type

# From the kind of article the tool is for (the figures, their sources and places).
TEXT = (
    "The Observatory said seven fighters were killed in the strikes and at least six more "
    "were wounded near Albu Kamal.\n\n"
    "Syria's state-run SANA news agency said one child was killed."
)
FIGURES = {
    "seven fighters": {"kind": "killed", "low": 7, "qualifier": "exact", "victims": "fighters"},
    "at least six more": {"kind": "wounded", "low": 6, "qualifier": "at_least"},
    "one child": {"kind": "killed", "low": 1, "victims": "children"},
}


def at(phrase: str, label: str, **extra) -> SpanInput:
    start = TEXT.index(phrase)
    return SpanInput(start, start + len(phrase), label, **extra)


def facts_spans(figures=FIGURES) -> list[SpanInput]:
    return [
        at("The Observatory", "SOURCE"),
        *(at(phrase, "CASUALTY", attributes=values) for phrase, values in figures.items()),
        at("Albu Kamal", "LOCATION"),
        at("SANA news agency", "SOURCE"),
    ]


# Indexes into facts_spans(): 0 Observatory, 1 seven, 2 six, 3 one child, 4 Albu Kamal, 5 SANA
RELATIONS = [
    RelationInput(1, 0, "SAID_BY"),
    RelationInput(2, 0, "SAID_BY"),
    RelationInput(2, 4, "LOCATED_IN"),
    RelationInput(3, 5, "SAID_BY"),
]


def add_schema(project) -> None:
    make_attribute(project, "CASUALTY", "kind", "choice", choices=["killed", "wounded"], order=0)
    make_attribute(project, "CASUALTY", "low", "integer", min=0, order=1)
    make_attribute(project, "CASUALTY", "high", "integer", min=0, order=2)
    make_attribute(
        project, "CASUALTY", "qualifier", "choice", choices=["exact", "at_least"], order=3
    )
    make_attribute(
        project, "CASUALTY", "victims", "choice", choices=["fighters", "children"], order=4
    )
    make_relation_type(project, "SAID_BY", ["CASUALTY"], ["SOURCE"], order=0)
    make_relation_type(project, "LOCATED_IN", ["CASUALTY"], ["LOCATION"], order=1)


def write_gold(article, reviewer, spans, relations, *, final=True):
    gold = gold_for(article)
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=gold.version,
        spans=spans,
        relations=relations,
        final=final,
    )
    return gold


@pytest.fixture
def facts(project, editor, other_editor, reviewer):
    add_schema(project)
    article = make_article(project, TEXT, external_id="syria-1", title="Strikes")
    write_gold(article, reviewer, facts_spans(), RELATIONS)
    return article


def export(reviewer, fmt: str, **params) -> bytes:
    query = "&".join(f"{k}={v}" for k, v in {"format": fmt, **params}.items())
    response = api(reviewer).get(f"/api/projects/demo-news/export/?{query}")
    assert response.status_code == 200, response.content[:300]
    return body(response)


def jsonl(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines() if line]


def named(record: dict, relation: dict) -> tuple[str, str, str]:
    spans = record["spans"]
    return (spans[relation["from"]]["text"], relation["type"], spans[relation["to"]]["text"])


# --- jsonl, spaCy, W3C ------------------------------------------------------------------


def test_jsonl_spans_carry_attributes_and_lines_carry_relations(facts, reviewer):
    (record,) = jsonl(export(reviewer, "jsonl"))
    by_text = {s["text"]: s for s in record["spans"]}
    assert by_text["at least six more"]["attributes"] == {
        "kind": "wounded",
        "low": 6,
        "qualifier": "at_least",
    }
    assert by_text["The Observatory"]["attributes"] == {}
    assert sorted(named(record, r) for r in record["relations"]) == [
        ("at least six more", "LOCATED_IN", "Albu Kamal"),
        ("at least six more", "SAID_BY", "The Observatory"),
        ("one child", "SAID_BY", "SANA news agency"),
        ("seven fighters", "SAID_BY", "The Observatory"),
    ]


def test_editor_exports_carry_each_editors_own_facts(facts, editor, reviewer):
    open_article = make_article(facts.project, TEXT, external_id="syria-2", editors=[editor])
    annotation = annotation_for(open_article, editor)
    save_annotation(
        annotation=annotation,
        author=editor,
        role=Role.EDITOR,
        base_version=0,
        spans=[
            at("one child", "CASUALTY", attributes={"low": 1}),
            at("SANA news agency", "SOURCE"),
        ],
        relations=[RelationInput(0, 1, "SAID_BY")],
    )
    (record,) = jsonl(export(reviewer, "jsonl", source="editors"))
    assert (record["id"], record["annotator"]) == ("syria-2", editor.username)
    assert [named(record, r) for r in record["relations"]] == [
        ("one child", "SAID_BY", "SANA news agency")
    ]
    assert {s["text"]: s["attributes"] for s in record["spans"]} == {
        "SANA news agency": {},
        "one child": {"low": 1},
    }


def test_spacy_keeps_attributes_parallel_to_span_groups_and_relations_by_index(facts, reviewer):
    (line,) = jsonl(export(reviewer, "spacy"))
    group, values = line["spans"]["sc"], line["span_attributes"]["sc"]
    assert len(group) == len(values)
    texts = [TEXT[s:e] for s, e, _ in group]
    assert values[texts.index("seven fighters")]["victims"] == "fighters"
    said = [(texts[r["from"]], texts[r["to"]]) for r in line["relations"] if r["type"] == "SAID_BY"]
    assert ("one child", "SANA news agency") in said


def test_w3c_relation_is_a_linking_annotation_targeting_both_span_annotations(facts, reviewer):
    doc = json.loads(export(reviewer, "w3c"))
    items = doc["first"]["items"]
    spans = {a["id"]: a for a in items if a["motivation"] == "tagging"}
    links = [a for a in items if a["motivation"] == "linking"]
    assert len(links) == 4 and doc["total"] == len(items) == 6 + 4
    quote = {
        key: next(s["exact"] for s in a["target"]["selector"] if s["type"] == "TextQuoteSelector")
        for key, a in spans.items()
    }
    pairs = {(quote[a["target"][0]], a["body"]["value"], quote[a["target"][1]]) for a in links}
    assert ("one child", "SAID_BY", "SANA news agency") in pairs
    (figure,) = [a for a in spans.values() if quote[a["id"]] == "at least six more"]
    tag, described = figure["body"]
    assert tag["value"] == "CASUALTY" and described["purpose"] == "describing"
    assert json.loads(described["value"])["qualifier"] == "at_least"


# --- facts and facts-csv ----------------------------------------------------------------


def test_facts_has_one_line_per_figure_with_what_it_is_related_to(facts, reviewer):
    lines = jsonl(export(reviewer, "facts"))
    assert [f["span"]["text"] for f in lines] == [
        "seven fighters",
        "at least six more",
        "one child",
    ]
    six = lines[1]
    assert six["attributes"] == {"kind": "wounded", "low": 6, "qualifier": "at_least"}
    assert [s["text"] for s in six["related"]["SAID_BY"]] == ["The Observatory"]
    assert [s["text"] for s in six["related"]["LOCATED_IN"]] == ["Albu Kamal"]
    assert six["id"] == "syria-1" and six["title"] == "Strikes" and six["source"] == "gold"
    assert six["version"] == 1 and six["article"] == facts.pk
    assert lines[2]["related"] == {
        "SAID_BY": [
            {
                "start": TEXT.index("SANA"),
                "end": TEXT.index("SANA") + len("SANA news agency"),
                "label": "SOURCE",
                "text": "SANA news agency",
            }
        ]
    }


def test_facts_csv_is_one_row_per_figure_with_a_column_per_attribute_and_relation(facts, reviewer):
    data = export(reviewer, "facts-csv").decode("utf-8")
    assert data.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(data.removeprefix("\ufeff"))))
    assert [r["text"] for r in rows] == ["seven fighters", "at least six more", "one child"]
    six = rows[1]
    assert (six["kind"], six["low"], six["high"], six["qualifier"]) == (
        "wounded",
        "6",
        "",
        "at_least",
    )
    assert six["SAID_BY"] == "The Observatory" and six["LOCATED_IN"] == "Albu Kamal"
    assert list(rows[0])[-7:] == [
        "kind",
        "low",
        "high",
        "qualifier",
        "victims",
        "SAID_BY",
        "LOCATED_IN",
    ]


def test_facts_csv_runs_no_formula_in_a_spreadsheet(project, reviewer):
    add_schema(project)
    text = '=HYPERLINK("http://evil") said @6 were killed, -2 wounded, +1 missing.'
    article = make_article(project, text, title="=cmd|' /C calc'!A0", external_id="-x")
    spans = [
        SpanInput(0, text.index(" said"), "SOURCE"),
        SpanInput(text.index("@6"), text.index(" were"), "CASUALTY", attributes={"low": 6}),
        SpanInput(text.index("-2"), text.index("-2") + 2, "CASUALTY"),
        SpanInput(text.index("+1"), text.index("+1") + 2, "CASUALTY"),
    ]
    write_gold(article, reviewer, spans, [RelationInput(1, 0, "SAID_BY")])
    data = export(reviewer, "facts-csv").decode("utf-8").removeprefix("\ufeff")
    cells = [cell for row in csv.reader(io.StringIO(data)) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert '\'=HYPERLINK("http://evil")' in cells and "'@6" in cells and "'-x" in cells


def test_a_project_without_attributes_exports_no_figures(project, reviewer):
    article = make_article(project, TEXT, external_id="plain")
    write_gold(article, reviewer, [at("one child", "CASUALTY")], None)
    assert export(reviewer, "facts") == b""
    assert export(reviewer, "facts-csv").decode().count("\r\n") == 1  # the header only


# --- round trip -------------------------------------------------------------------------


def test_round_trip_keeps_attributes_and_relations_identical(facts, reviewer, manager):
    exported = export(reviewer, "jsonl")
    from .factories import make_project

    copy = make_project("copy")
    add_schema(copy)
    make_member(copy, manager, Role.MANAGER)
    client = api(manager)
    response = client.generic(
        "POST", "/api/projects/copy/import/", exported, content_type="application/x-ndjson"
    )
    assert response.status_code == 201, response.content
    again = jsonl(body(client.get("/api/projects/copy/export/?format=jsonl")))

    def essence(record):
        return {k: v for k, v in record.items() if k not in ("article", "adjudicator")}

    assert [essence(r) for r in again] == [essence(r) for r in jsonl(exported)]


def test_an_imported_relation_the_schema_refuses_imports_nothing(facts, reviewer, manager):
    (record,) = jsonl(export(reviewer, "jsonl"))
    record["id"] = "other"
    record["relations"].append({"from": 4, "to": 0, "type": "SAID_BY"})  # LOCATION -> SOURCE
    response = api(manager).generic(
        "POST",
        "/api/projects/demo-news/import/",
        json.dumps(record),
        content_type="application/x-ndjson",
    )
    assert response.status_code == 400
    assert "relation" in response.json()["detail"].lower()
    assert not facts.project.articles.filter(external_id="other").exists()


# --- releases ---------------------------------------------------------------------------


def test_a_release_freezes_facts_and_the_next_one_lists_the_change(facts, reviewer):
    first = create_release(project=facts.project, name="v1", user=reviewer)
    changed = dict(FIGURES, **{"at least six more": {"kind": "wounded", "low": 7}})
    gold = gold_for(facts)
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=gold.version,
        spans=facts_spans(),
        relations=RELATIONS,
        final=False,
    )
    write_gold(facts, reviewer, facts_spans(changed), RELATIONS)
    second = create_release(project=facts.project, name="v2", user=reviewer)
    assert second.changes["changed"] == ["syria-1"]
    assert second.changes["facts"] == {
        "syria-1": ['CASUALTY "at least six more": ≥6 wounded → 7 wounded']
    }

    def six(release):
        lines = jsonl(b"".join(render_release(release, "facts")))
        return lines[1]["attributes"]["low"]

    assert (six(first), six(second)) == (6, 7)


def test_a_release_made_before_facts_downloads_as_it_was_made(facts, reviewer):
    release = create_release(project=facts.project, name="v1", user=reviewer)
    old = Release.objects.get(pk=release.pk)
    old.format_version = 1  # as stored by releases of that time (releases are immutable)
    (record,) = jsonl(b"".join(render_release(old, "jsonl")))
    assert "relations" not in record and "published_at" not in record
    assert all(set(s) == {"start", "end", "label", "text"} for s in record["spans"])


def test_a_release_says_which_relations_were_added_and_removed(facts, reviewer):
    create_release(project=facts.project, name="v1", user=reviewer)
    gold = gold_for(facts)
    save_annotation(
        annotation=gold,
        author=reviewer,
        role=Role.REVIEWER,
        base_version=gold.version,
        spans=facts_spans(),
        relations=RELATIONS,
        final=False,
    )
    moved = [*RELATIONS[:2], RelationInput(3, 0, "SAID_BY")]  # one child: SANA → Observatory
    write_gold(facts, reviewer, facts_spans(), [*moved, RELATIONS[2]])
    second = create_release(project=facts.project, name="v2", user=reviewer)
    assert sorted(second.changes["facts"]["syria-1"]) == [
        '+SAID_BY "one child" → "The Observatory"',
        '−SAID_BY "one child" → "SANA news agency"',
    ]
