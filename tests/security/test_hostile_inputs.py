"""Bad input on every route: one table of hostile values (lists and objects where a number or
a string belongs, digits that ``isdigit()`` takes and ``int()`` does not, integers past 32
and 64 bits, 1e309 and NaN, NUL, lone surrogates, dates that leave the years 1-9999 once in
UTC, empty and very long strings) sent in every field of every route that takes input.

Each must be refused with a 4xx and a message (JSON ``detail`` in the API, a page or
fragment elsewhere), never a 500, and a refused request writes nothing. A value that is
valid for the field (an empty note, ``"²"`` as text) may be accepted; the table says, per
kind of field, which values must be refused. Every request runs in a savepoint rolled back
after it, so each starts from the same state. The route table names every URL pattern: a
new route without an entry fails `test_every_route_has_an_entry`.

Run on SQLite and on PostgreSQL (``DATABASE_URL``): they refuse different things.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from annotate.models import (
    Annotation,
    AnnotationVersion,
    Article,
    Assignment,
    Label,
    Membership,
    ModelVersion,
    PredictedSpan,
    Project,
    Relation,
    Release,
    Role,
    Span,
)
from annotate.services.annotations import (
    RelationInput,
    SpanInput,
    current_span_inputs,
    gold_for,
    save_annotation,
)
from annotate.services.review import accept_spans
from annotate.services.workflow import raise_flag

from ..api_support import api
from ..factories import make_annotation, make_article, make_member, make_user
from .conftest import ALEPPO, OFFICIALS, REBELS, SCRIPT, Side, login
from .conftest import TEXT as ARTICLE_TEXT
from .test_authorization import patterns

# --- the hostile values -------------------------------------------------------------------

LONG = "9" * 300_000  # longer than any column and than MAX_ARTICLE_CHARS


@dataclass(frozen=True)
class Hostile:
    name: str
    json: str  # the JSON text put in place of the value
    form: str | None  # the form or query value; None where a form cannot carry it


HOSTILE = [
    Hostile("list", "[1, 2]", None),
    Hostile("object", '{"a": 1}', None),
    Hostile("superscript two", '"²"', "²"),
    Hostile("Arabic-Indic digits", '"١٢"', "١٢"),
    Hostile("plus sign", '"+1"', "+1"),
    Hostile("leading space", '" 1"', " 1"),
    Hostile("exponent", '"1e3"', "1e3"),
    Hostile("2**31", str(2**31), str(2**31)),
    Hostile("2**63", str(2**63), str(2**63)),
    Hostile("2**64", str(2**64), str(2**64)),
    Hostile("-2**63-1", str(-(2**63) - 1), str(-(2**63) - 1)),
    Hostile("negative", "-1", "-1"),
    Hostile("fraction", "1.5", "1.5"),
    Hostile("1e309", "1e309", "1e309"),
    Hostile("NaN", "NaN", "NaN"),
    Hostile("NUL", '"a\\u0000b"', "a\x00b"),
    # Forms cannot carry one: Django decodes percent-escapes with replacement characters.
    Hostile("lone surrogate", '"a\\ud800b"', None),
    Hostile("far past", '"0001-01-01T00:00:00+14:00"', "0001-01-01T00:00:00+14:00"),
    Hostile("far future", '"9999-12-31T23:59:59-14:00"', "9999-12-31T23:59:59-14:00"),
    Hostile("empty", '""', ""),
    Hostile("long", json.dumps(LONG), LONG),
]
NAMES = {h.name for h in HOSTILE}
BIG = {"2**63", "2**64", "-2**63-1"}
NOT_TEXT = {"list", "object", "NUL", "lone surrogate"}
JSON_NUMBERS = {"2**31", "negative", "fraction", "1e309", "NaN"} | BIG

# What each kind of field must refuse (the rest it may accept, but never with a 500).
INT, IDS, SIGNED, TEXT, CAPPED, NAME, CHOICE, DATE, BOOL, OBJECT, JSON_VALUE, LENIENT = (
    "int",
    "ids",
    "signed",
    "text",
    "capped text",
    "name",
    "choice",
    "date",
    "bool",
    "object",
    "json value",
    "lenient",
)
MUST_REFUSE: dict[str, set[str]] = {
    # A number, an id, a version, an offset: only ASCII digits in range are numbers.
    INT: NAMES - {"2**31"},  # 2**31 is a valid id (the others' columns are 32-bit)
    # A comma-separated list of ids in a query: blanks around an item are trimmed.
    IDS: NAMES - {"2**31", "leading space"},
    # A signed integer a form trims (an attribute's minimum).
    SIGNED: NAMES - {"2**31", "leading space", "negative"},
    # An external id: a string, or a number taken as its digits.
    NAME: NOT_TEXT | {"long"},
    # Free text stored in a column without a length cap.
    TEXT: NOT_TEXT,
    # Text with a length cap.
    CAPPED: NOT_TEXT | {"long"},
    # A label key, a slug, a username, an enum, a UUID, a URL: none of these is one.
    CHOICE: NAMES,
    DATE: NAMES - {"empty"},  # "" is no date
    BOOL: NAMES,
    OBJECT: NAMES - {"object"},
    # Where a bad value is not an error but a fallback, as Django's Paginator.get_page does
    # for page links, or a failed login, which Django answers 200 with the form's error.
    LENIENT: set(),
    # Anything JSON, inside meta: only what the databases cannot hold.
    JSON_VALUE: {"NUL", "lone surrogate", "1e309", "NaN"} | BIG,
}


@dataclass(frozen=True)
class Field:
    name: str  # a form or query key, or a dotted path into a JSON body
    kind: str
    optional: bool = False  # "" in a form or query means "not given", which is valid


@dataclass(frozen=True)
class Entry:
    """How to call a route validly, and which of its inputs to attack."""

    method: str
    who: str  # a role of Side, or "anonymous"
    body: str  # "form", "query", "json" or "none"
    fields: tuple[Field, ...] = ()
    base: Callable[[Side], dict | list] = lambda s: {}
    kwargs: Callable[[Side], dict] = lambda s: {}


def F(name: str, kind: str, optional: bool = False) -> Field:  # noqa: N802 - reads as a table
    return Field(name, kind, optional)


# --- the world the routes are called in ---------------------------------------------------


def _open_spans(side: Side) -> dict[str, Span]:
    """Spans of the open article: the editor's (Aleppo) and the other editor's (Rebels)."""
    return side.extra["spans"]


def _prepare(side: Side) -> None:
    """Both editors' work on the open article submitted (version 2), and its gold at
    version 1 (one span accepted from the editor)."""
    mine = Annotation.objects.get(article=side.open_article, annotator=side.editor)
    theirs = Annotation.objects.get(article=side.open_article, annotator=side.other_editor)
    for annotation, who in ((mine, side.editor), (theirs, side.other_editor)):
        save_annotation(
            annotation=annotation,
            author=who,
            role=Role.EDITOR,
            base_version=1,
            spans=current_span_inputs(annotation),
            status=Annotation.Status.SUBMITTED,
        )
    side.extra["spans"] = {
        "mine": mine.current_spans().get(),
        "theirs": theirs.current_spans().get(),
    }
    accept_spans(
        side.open_article,
        side.reviewer,
        role=Role.REVIEWER,
        span_ids=[side.extra["spans"]["mine"].pk],
        base_version=0,
    )
    side.extra["gold_span"] = gold_for(side.open_article).current_spans().get()
    # A flag on the finished article, and a third editor to hand the open one to.
    side.extra["flag"] = raise_flag(side.article, side.other_editor, reason="duplicate")
    side.extra["third"] = make_member(side.project, make_user("alpha_third"), Role.EDITOR)
    side.extra["fresh"] = make_article(side.project, ARTICLE_TEXT, editors=[side.other_editor])
    side.extra["facts"] = _facts_article(side)
    side.extra["gold_facts"] = _gold_facts_article(side)


def _gold_facts_article(side: Side) -> dict:
    """An article the editor submitted and whose gold (version 1) holds the same Rebels
    (ACTOR) related NEAR to Aleppo (LOCATION): what the reviewer's facts routes change."""
    article = make_article(side.project, ARTICLE_TEXT, editors=[side.editor])
    ends = [(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION")]
    make_annotation(article, side.editor, ends, relations=[(0, 1, "NEAR")], submit=True)
    gold = gold_for(article)
    save_annotation(
        annotation=gold,
        author=side.reviewer,
        role=Role.REVIEWER,
        base_version=0,
        spans=[SpanInput(*REBELS, "ACTOR"), SpanInput(*ALEPPO, "LOCATION")],
        relations=[RelationInput(0, 1, "NEAR")],
    )
    spans = {s.label.key: s.pk for s in gold.current_spans()}
    relation = Relation.objects.get(annotation=gold)
    value = f"{REBELS[0]}:{REBELS[1]}:ACTOR:{ALEPPO[0]}:{ALEPPO[1]}:LOCATION:NEAR"
    return {"article_id": article.pk, "spans": spans, "relation": relation.pk, "value": value}


def _gold_facts(s: Side) -> dict:
    return {"article_id": s.extra["gold_facts"]["article_id"]}


def _facts_article(side: Side) -> dict:
    """An article the editor works on, version 1: Rebels (ACTOR) related NEAR to Aleppo
    (LOCATION), and officials marked CASUALTY (the label with an attribute)."""
    article = make_article(side.project, ARTICLE_TEXT, editors=[side.editor])
    annotation = make_annotation(
        article,
        side.editor,
        [(*REBELS, "ACTOR"), (*ALEPPO, "LOCATION"), (*OFFICIALS, "CASUALTY")],
        relations=[(0, 1, "NEAR")],
    )
    spans = {s.label.key: s.pk for s in annotation.current_spans()}
    relation = Relation.objects.get(annotation=annotation)
    return {"article_id": article.pk, "spans": spans, "relation_id": relation.pk}


def _facts(s: Side, label: str | None = None) -> dict:
    """The address of the facts article (and of its span of `label`)."""
    facts = s.extra["facts"]
    found = {"article_id": facts["article_id"]}
    return {**found, "span_id": facts["spans"][label]} if label else found


def _art(s: Side) -> dict:
    return {"article_id": s.open_article.pk}


def _review(s: Side, **values) -> dict:
    return {"base_version": "1", "note": "ok", **values}


PAGE = F("page", LENIENT)  # page links fall back to the first or last page
API_PAGING = (F("page", INT, optional=True), F("page_size", INT, optional=True))
AGREEMENT = (
    F("unit", CHOICE, optional=True),
    F("articles", IDS, optional=True),
    F("articles_limit", INT, optional=True),
    F("labels", TEXT),
    F("editors", TEXT),
)
IMPORT_ARTICLE = [
    {
        "external_id": "new-1",
        "title": "A title",
        "text": "The port reopened on Friday.",
        "url": "https://example.org/a",
        "published_at": "2024-03-01T09:30:00Z",
        "meta": {"section": "world", "k": 1},
    }
]
EDITOR_PUT = {
    "base_version": 2,
    "spans": [
        {"start": ALEPPO[0], "end": ALEPPO[1], "label": "LOCATION"},
        {"start": REBELS[0], "end": REBELS[1], "label": "ACTOR", "text": "Rebels"},
    ],
    "submit": False,
    "note": "ok",
}
SPAN_FIELDS = (
    F("spans.1.start", INT),
    F("spans.1.end", INT),
    F("spans.1.label", CHOICE),
    F("spans.1.text", CHOICE),
    F("spans", CHOICE),
    F("spans.1", CHOICE),
)

ROUTES: dict[str, list[Entry]] = {
    # Accounts and home
    "login": [
        Entry("POST", "anonymous", "form", (F("username", LENIENT), F("password", LENIENT)),
              lambda s: {"username": s.editor.username, "password": "test-password-123"}),
    ],
    "logout": [Entry("POST", "editor", "none")],
    "profile": [Entry("GET", "editor", "none")],
    "regenerate-token": [Entry("POST", "editor", "none")],
    "home": [Entry("GET", "editor", "none")],
    # Labelling
    "label-css": [Entry("GET", "editor", "none", kwargs=lambda s: {"slug": s.project.slug})],
    "project": [
        Entry("GET", "editor", "query", (F("show", TEXT), PAGE), lambda s: {"show": "open"},
              lambda s: {"slug": s.project.slug}),
    ],
    "next-article": [
        Entry("GET", "editor", "query", (F("after", INT, optional=True),),
              lambda s: {"after": str(s.article.pk)}, lambda s: {"slug": s.project.slug}),
    ],
    "article": [Entry("GET", "editor", "none", kwargs=_art)],
    "project-search": [
        Entry("GET", "editor", "query", (F("q", CAPPED), PAGE), lambda s: {"q": "Aleppo"},
              lambda s: {"slug": s.project.slug}),
    ],
    "span-add": [
        Entry("POST", "editor", "form",
              (F("start", INT), F("end", INT), F("label", CHOICE), F("quote", CHOICE),
               F("base_version", INT), F("request_key", CHOICE, optional=True)),
              lambda s: {"start": "0", "end": "6", "quote": "Rebels", "label": "ACTOR",
                         "base_version": "2"},
              _art),
    ],
    # Suggestions: Rebels (ACTOR) is in the final gold of the finished article.
    "suggestion-accept": [
        Entry("POST", "editor", "form",
              (F("start", INT), F("end", INT), F("label", CHOICE), F("base_version", INT),
               F("request_key", CHOICE, optional=True), F("model", CAPPED, optional=True),
               F("min_score", INT, optional=True)),
              lambda s: {"start": "0", "end": "6", "label": "ACTOR", "base_version": "2"},
              _art),
    ],
    "suggestion-accept-all": [
        Entry("POST", "editor", "form",
              (F("label", CHOICE), F("base_version", INT),
               F("request_key", CHOICE, optional=True), F("min_score", INT, optional=True)),
              lambda s: {"label": "ACTOR", "base_version": "2"}, _art),
    ],
    "suggestion-reject": [
        Entry("POST", "editor", "form", (F("start", INT), F("end", INT), F("label", CHOICE)),
              lambda s: {"start": "0", "end": "6", "label": "ACTOR"}, _art),
    ],
    "span-add-every": [
        Entry("POST", "editor", "form",
              (F("start", INT), F("end", INT), F("label", CHOICE), F("quote", CHOICE),
               F("base_version", INT), F("request_key", CHOICE, optional=True)),
              lambda s: {"start": "0", "end": "6", "quote": "Rebels", "label": "ACTOR",
                         "base_version": "2"},
              _art),
        Entry("POST", "editor", "form", (F("span", INT), F("base_version", INT)),
              lambda s: {"span": str(_open_spans(s)["mine"].pk), "base_version": "2"}, _art),
    ],
    "span-detail": [
        Entry("GET", "editor", "none",
              kwargs=lambda s: {**_art(s), "span_id": _open_spans(s)["mine"].pk}),
    ],
    "span-relabel": [
        Entry("POST", "editor", "form",
              (F("label", CHOICE), F("base_version", INT), F("request_key", CHOICE, True)),
              lambda s: {"label": "ACTOR", "base_version": "2"},
              lambda s: {**_art(s), "span_id": _open_spans(s)["mine"].pk}),
    ],
    "span-delete": [
        Entry("POST", "editor", "form",
              (F("base_version", INT), F("request_key", CHOICE, True)),
              lambda s: {"base_version": "2"},
              lambda s: {**_art(s), "span_id": _open_spans(s)["mine"].pk}),
    ],
    "span-facts": [Entry("GET", "editor", "none", kwargs=lambda s: _facts(s, "CASUALTY"))],
    "span-attributes": [
        Entry("POST", "editor", "form",
              (F("attr-kind", CHOICE, optional=True), F("base_version", INT),
               F("request_key", CHOICE, True)),
              lambda s: {"attr-kind": SCRIPT, "base_version": "1"},
              lambda s: _facts(s, "CASUALTY")),
    ],
    "relation-add": [
        Entry("POST", "editor", "form",
              (F("from_span", INT), F("to_span", INT), F("type", CHOICE), F("base_version", INT),
               F("request_key", CHOICE, True)),
              lambda s: {"from_span": str(s.extra["facts"]["spans"]["CASUALTY"]),
                         "to_span": str(s.extra["facts"]["spans"]["ACTOR"]), "type": "NEAR",
                         "base_version": "1"},
              _facts),
        Entry("POST", "editor", "form", (F("from_span", INT), F("target", CHOICE)),
              lambda s: {"from_span": str(s.extra["facts"]["spans"]["LOCATION"]),
                         "target": f"NEAR>{s.extra['facts']['spans']['CASUALTY']}",
                         "base_version": "1"},
              _facts),
    ],
    "relation-delete": [
        Entry("POST", "editor", "form", (F("base_version", INT), F("request_key", CHOICE, True)),
              lambda s: {"base_version": "1"},
              lambda s: {**_facts(s), "relation_id": s.extra["facts"]["relation_id"]}),
    ],
    "annotation-undo": [
        Entry("POST", "editor", "form", (F("base_version", INT),),
              lambda s: {"base_version": "2"}, _art),
    ],
    "annotation-submit": [
        Entry("POST", "editor", "form", (F("base_version", INT),),
              lambda s: {"base_version": "2"}, _art),
    ],
    "import-articles": [
        Entry("POST", "manager", "form",
              (F("text", CAPPED), F("title", CAPPED), F("external_id", CAPPED),
               F("url", CHOICE, optional=True)),
              lambda s: {"mode": "paste", "text": "The port reopened.", "title": "Port",
                         "external_id": "port-1", "url": "https://example.org/p"},
              lambda s: {"slug": s.project.slug}),
    ],
    # Background jobs
    "project-jobs": [Entry("GET", "manager", "none", kwargs=lambda s: {"slug": s.project.slug})],
    "job": [
        Entry("GET", "manager", "none",
              kwargs=lambda s: {"slug": s.project.slug, "job_id": s.extra["job"].pk}),
    ],
    "agreement-recompute": [
        Entry("POST", "manager", "none", kwargs=lambda s: {"slug": s.project.slug}),
    ],
    "releases": [
        Entry("GET", "reviewer", "none", kwargs=lambda s: {"slug": s.project.slug}),
        Entry("POST", "reviewer", "form", (F("name", CAPPED), F("note", CAPPED)),
              lambda s: {"name": "v2", "note": "n"}, lambda s: {"slug": s.project.slug}),
    ],
    # History
    "annotation-history": [
        Entry("GET", "editor", "query", (F("version", INT, optional=True),),
              lambda s: {"version": "1"}, _art),
        Entry("GET", "reviewer", "query", (F("annotator", CHOICE, optional=True),),
              lambda s: {"annotator": s.other_editor.username}, _art),
    ],
    "annotation-diff": [
        Entry("GET", "editor", "query",
              (F("a", INT, optional=True), F("b", INT, optional=True)),
              lambda s: {"a": "0", "b": "1"}, _art),
    ],
    "annotation-restore": [
        Entry("POST", "editor", "form",
              (F("base_version", INT), F("number", INT), F("note", CAPPED)),
              lambda s: {"base_version": "2", "number": "1", "note": "back"}, _art),
    ],
    # Review
    "review-queue": [
        Entry("GET", "reviewer", "query",
              (F("status", CHOICE, True), F("label", CHOICE, True), F("editor", CHOICE, True),
               PAGE),
              lambda s: {"status": "all"}, lambda s: {"slug": s.project.slug}),
    ],
    "adjudicate": [
        Entry("GET", "reviewer", "query", (F("layer", TEXT),), lambda s: {}, _art),
    ],
    "review-accept": [
        Entry("POST", "reviewer", "form",
              (F("span", INT), F("base_version", INT), F("note", CAPPED),
               F("request_key", CHOICE, True)),
              lambda s: _review(s, span=str(_open_spans(s)["theirs"].pk)), _art),
    ],
    "review-accept-agreed": [
        Entry("POST", "reviewer", "form",
              (F("min_editors", INT), F("base_version", INT), F("note", CAPPED)),
              lambda s: _review(s, min_editors="1"), _art),
    ],
    "review-add": [
        Entry("POST", "reviewer", "form",
              (F("start", INT), F("end", INT), F("label", CHOICE), F("quote", CHOICE),
               F("base_version", INT), F("note", CAPPED)),
              lambda s: _review(s, start="0", end="6", quote="Rebels", label="ACTOR"), _art),
    ],
    "review-remove": [
        Entry("POST", "reviewer", "form", (F("base_version", INT), F("note", CAPPED)),
              lambda s: _review(s),
              lambda s: {**_art(s), "span_id": s.extra["gold_span"].pk}),
    ],
    "review-relabel": [
        Entry("POST", "reviewer", "form",
              (F("label", CHOICE), F("base_version", INT), F("note", CAPPED)),
              lambda s: _review(s, label="SOURCE"),
              lambda s: {**_art(s), "span_id": s.extra["gold_span"].pk}),
    ],
    "review-attributes": [
        Entry("POST", "reviewer", "form", (F("base_version", INT), F("note", CAPPED)),
              lambda s: _review(s),
              lambda s: {**_gold_facts(s), "span_id": s.extra["gold_facts"]["spans"]["ACTOR"]}),
    ],
    "review-relate": [
        Entry("POST", "reviewer", "form",
              (F("rel_from", INT), F("rel_to", INT), F("rel_type", CHOICE),
               F("base_version", INT), F("note", CAPPED)),
              lambda s: _review(s, rel_from=str(s.extra["gold_facts"]["spans"]["LOCATION"]),
                                rel_to=str(s.extra["gold_facts"]["spans"]["ACTOR"]),
                                rel_type="NEAR"),
              _gold_facts),
    ],
    "review-accept-relation": [
        Entry("POST", "reviewer", "form",
              (F("relation", CHOICE), F("base_version", INT), F("note", CAPPED)),
              lambda s: _review(s, relation=s.extra["gold_facts"]["value"]),
              _gold_facts),
    ],
    "review-unrelate": [
        Entry("POST", "reviewer", "form", (F("base_version", INT), F("note", CAPPED)),
              lambda s: _review(s),
              lambda s: {**_gold_facts(s), "relation_id": s.extra["gold_facts"]["relation"]}),
    ],
    "review-final": [
        Entry("POST", "reviewer", "form", (F("base_version", INT), F("note", CAPPED)),
              lambda s: _review(s), _art),
    ],
    "review-reopen": [
        Entry("POST", "reviewer", "form", (F("base_version", INT), F("note", CAPPED)),
              lambda s: {"base_version": "2", "note": "again"},
              lambda s: {"article_id": s.article.pk}),
    ],
    # Agreement
    "agreement": [
        Entry("GET", "reviewer", "query", AGREEMENT, lambda s: {"unit": "token"},
              lambda s: {"slug": s.project.slug}),
    ],
    "agreement-article": [
        Entry("GET", "reviewer", "query", (F("unit", TEXT), F("back", TEXT)),
              lambda s: {"unit": "char"},
              lambda s: {"slug": s.project.slug, "article_id": s.article.pk}),
    ],
    "agreement-articles-csv": [
        Entry("GET", "reviewer", "query", AGREEMENT, lambda s: {},
              lambda s: {"slug": s.project.slug}),
    ],
    "agreement-pairs-csv": [
        Entry("GET", "reviewer", "query", AGREEMENT, lambda s: {},
              lambda s: {"slug": s.project.slug}),
    ],
    # Workflow
    "project-overview": [
        Entry("GET", "manager", "none", kwargs=lambda s: {"slug": s.project.slug}),
    ],
    "article-flag": [
        Entry("POST", "editor", "form", (F("reason", CHOICE), F("note", CAPPED)),
              lambda s: {"reason": "not_relevant", "note": "n"}, _art),
    ],
    "flag-resolve": [
        Entry("POST", "reviewer", "form",
              (F("flag", INT), F("verdict", CHOICE), F("note", CAPPED), F("next", TEXT)),
              lambda s: {"flag": str(s.extra["flag"].pk), "verdict": "dismissed", "note": "n"},
              lambda s: {"article_id": s.article.pk}),
    ],
    "article-reassign": [
        Entry("POST", "manager", "form", (F("from", CHOICE), F("to", CHOICE), F("next", TEXT)),
              lambda s: {"from": s.other_editor.username, "to": s.extra["third"].username},
              lambda s: {"article_id": s.extra["fresh"].pk}),
    ],
    "article-comments": [
        Entry("GET", "editor", "none", kwargs=_art),
        Entry("POST", "editor", "form",
              (F("body", CAPPED), F("span", INT, optional=True), F("next", TEXT)),
              lambda s: {"body": "A question"}, _art),
    ],
    # The schema page (managers)
    "project-schema": [Entry("GET", "manager", "none", kwargs=lambda s: {"slug": s.project.slug})],
    "schema-attribute-add": [
        Entry("POST", "manager", "form",
              (F("key", CHOICE), F("name", CAPPED), F("type", CHOICE), F("choices", CAPPED),
               F("min", SIGNED, optional=True), F("order", IDS, optional=True)),
              lambda s: {"key": "severity", "name": "Severity", "type": "integer", "min": "0",
                         "order": ""},
              lambda s: {"slug": s.project.slug, "label_key": "CASUALTY"}),
    ],
    "schema-attribute": [
        Entry("POST", "manager", "form",
              (F("key", CHOICE), F("name", CAPPED), F("type", CHOICE), F("choices", CAPPED),
               F("order", IDS, optional=True)),
              lambda s: {"key": "kind", "name": "Kind", "type": "choice",
                         "choices": "\n".join(s.extra["attribute"].choices), "order": "0"},
              lambda s: {"slug": s.project.slug, "attribute_id": s.extra["attribute"].pk}),
    ],
    "schema-attribute-remove": [
        Entry("POST", "manager", "form", (F("confirm", LENIENT),), lambda s: {"confirm": "yes"},
              lambda s: {"slug": s.project.slug, "attribute_id": s.extra["attribute"].pk}),
    ],
    "schema-relation-type-add": [
        Entry("POST", "manager", "form",
              (F("key", CHOICE), F("name", CAPPED), F("from_labels", CHOICE, optional=True),
               F("to_labels", CHOICE, optional=True), F("order", IDS, optional=True)),
              lambda s: {"key": "LOCATED_IN", "name": "Located in", "from_labels": "ACTOR",
                         "to_labels": "LOCATION"},
              lambda s: {"slug": s.project.slug}),
    ],
    "schema-relation-type": [
        Entry("POST", "manager", "form",
              (F("key", CHOICE), F("name", CAPPED), F("from_labels", CHOICE, optional=True),
               F("to_labels", CHOICE, optional=True), F("order", IDS, optional=True)),
              lambda s: {"key": "SAID_BY", "name": "Said by", "from_labels": "CASUALTY",
                         "to_labels": "SOURCE"},
              lambda s: {"slug": s.project.slug,
                         "relation_type_id": s.extra["relation_type"].pk}),
    ],
    "schema-relation-type-remove": [
        Entry("POST", "manager", "form", (F("confirm", LENIENT),), lambda s: {"confirm": "yes"},
              lambda s: {"slug": s.project.slug,
                         "relation_type_id": s.extra["relation_type"].pk}),
    ],
    # API
    "api-schema": [Entry("GET", "anonymous", "none")],
    "api-docs": [Entry("GET", "anonymous", "none")],
    "api-not-found": [],  # answers 404 to everything: no input reaches anything
    "api-projects": [
        Entry("GET", "manager", "query", API_PAGING),
        Entry("POST", "manager", "json",
              (F("slug", CAPPED), F("name", CAPPED), F("guidelines", TEXT), F("overlap", INT),
               F("editors_can_upload", BOOL), F("labels", CHOICE), F("labels.0.key", CHOICE),
               F("labels.0.name", CAPPED), F("labels.0.color", CHOICE),
               F("labels.0.hotkey", CAPPED, optional=True), F("labels.0.description", CAPPED)),
              lambda s: {"slug": "new-one", "name": "New", "guidelines": "", "overlap": 2,
                         "editors_can_upload": False,
                         "labels": [{"key": "ACTOR", "name": "Actor", "color": "#ffd966",
                                     "hotkey": "1", "description": "d"}]}),
    ],
    "api-project": [
        Entry("GET", "editor", "none", kwargs=lambda s: {"slug": s.project.slug}),
        Entry("PATCH", "manager", "json",
              (F("name", CAPPED), F("guidelines", TEXT), F("overlap", INT),
               F("editors_can_upload", BOOL), F("ml_backend_url", CHOICE, optional=True),
               F("suggest_from_gold", BOOL)),
              lambda s: {"name": "Renamed", "guidelines": "g", "overlap": 2,
                         "editors_can_upload": True,
                         "ml_backend_url": "https://ml.example.org/predict",
                         "suggest_from_gold": False},
              lambda s: {"slug": s.project.slug}),
    ],
    "api-labels": [
        Entry("GET", "editor", "query", API_PAGING, kwargs=lambda s: {"slug": s.project.slug}),
        Entry("POST", "manager", "json",
              (F("key", CHOICE), F("name", CAPPED), F("color", CHOICE),
               F("hotkey", CAPPED, optional=True),
               F("description", CAPPED)),
              lambda s: {"key": "NEWLABEL", "name": "New", "color": "#aabbcc", "hotkey": "9",
                         "description": "d"},
              lambda s: {"slug": s.project.slug}),
    ],
    "api-members": [
        Entry("GET", "reviewer", "query", API_PAGING, kwargs=lambda s: {"slug": s.project.slug}),
        Entry("POST", "manager", "json", (F("username", CHOICE), F("role", CHOICE)),
              lambda s: {"username": "root", "role": "editor"},
              lambda s: {"slug": s.project.slug}),
    ],
    "api-member": [
        Entry("DELETE", "manager", "none",
              kwargs=lambda s: {"slug": s.project.slug, "username": s.other_editor.username}),
    ],
    "api-articles": [
        Entry("GET", "reviewer", "query",
              (F("status", CHOICE, True), F("external_id", TEXT), F("ordering", CHOICE, True),
               *API_PAGING),
              lambda s: {"ordering": "id"}, lambda s: {"slug": s.project.slug}),
        Entry("POST", "manager", "json",
              (F("0.external_id", NAME), F("0.title", CAPPED), F("0.text", CAPPED),
               F("0.url", CHOICE, optional=True), F("0.published_at", DATE),
               F("0.meta", OBJECT),
               F("0.meta.k", JSON_VALUE), F("0", CHOICE)),
              lambda s: IMPORT_ARTICLE, lambda s: {"slug": s.project.slug}),
    ],
    "api-search": [
        Entry("GET", "editor", "query", (F("q", CAPPED), *API_PAGING),
              lambda s: {"q": "Aleppo"}, lambda s: {"slug": s.project.slug}),
    ],
    "api-import": [
        Entry("POST", "manager", "json",
              (F("0.id", NAME), F("0.text", CAPPED), F("0.final", BOOL), F("0.spans", CHOICE),
               F("0.spans.0.start", INT), F("0.spans.0.end", INT), F("0.spans.0.label", CHOICE),
               F("0.spans.0.text", CHOICE), F("0.source", CHOICE)),
              lambda s: [{"id": "ds-1", "text": "Rebels shelled Aleppo.", "final": False,
                          "source": "gold",
                          "spans": [{"start": 0, "end": 6, "label": "ACTOR", "text": "Rebels"}]}],
              lambda s: {"slug": s.project.slug}),
    ],
    "api-article": [
        Entry("GET", "reviewer", "query", (F("include", CHOICE, True),),
              lambda s: {"include": "annotation"}, _art),
    ],
    "api-suggestions": [
        Entry("GET", "editor", "query", (F("model", CAPPED, True), F("min_score", INT, True)),
              lambda s: {"min_score": "0.5"}, _art),
    ],
    "api-annotation": [
        Entry("GET", "editor", "none", kwargs=_art),
        Entry("PUT", "editor", "json",
              (F("base_version", INT), *SPAN_FIELDS, F("submit", BOOL), F("note", CAPPED)),
              lambda s: EDITOR_PUT, _art),
    ],
    "api-versions": [Entry("GET", "editor", "query", API_PAGING, kwargs=_art)],
    "api-version": [Entry("GET", "editor", "none", kwargs=lambda s: {**_art(s), "number": 1})],
    "api-restore": [
        Entry("POST", "editor", "json", (F("base_version", INT), F("note", CAPPED)),
              lambda s: {"base_version": 2, "note": "back"},
              lambda s: {**_art(s), "number": 1}),
    ],
    "api-annotations": [Entry("GET", "reviewer", "query", API_PAGING, kwargs=_art)],
    "api-editor-annotation": [
        Entry("GET", "reviewer", "none",
              kwargs=lambda s: {**_art(s), "username": s.editor.username}),
    ],
    "api-editor-versions": [
        Entry("GET", "reviewer", "query", API_PAGING,
              kwargs=lambda s: {**_art(s), "username": s.editor.username}),
    ],
    "api-editor-version": [
        Entry("GET", "reviewer", "none",
              kwargs=lambda s: {**_art(s), "username": s.editor.username, "number": 1}),
    ],
    "api-gold": [
        Entry("GET", "reviewer", "none", kwargs=_art),
        Entry("PUT", "reviewer", "json",
              (F("base_version", INT), *SPAN_FIELDS, F("spans.1.source", INT),
               F("final", BOOL), F("note", CAPPED)),
              lambda s: {
                  "base_version": 1,
                  "spans": [
                      {"start": ALEPPO[0], "end": ALEPPO[1], "label": "LOCATION"},
                      {"start": 0, "end": 6, "label": "ACTOR",
                       "source": _open_spans(s)["theirs"].pk},
                  ],
                  "final": False,
                  "note": "ok",
              },
              _art),
    ],
    "api-gold-versions": [Entry("GET", "reviewer", "query", API_PAGING, kwargs=_art)],
    "api-gold-version": [
        Entry("GET", "reviewer", "none", kwargs=lambda s: {**_art(s), "number": 1}),
    ],
    "api-gold-restore": [
        Entry("POST", "reviewer", "json", (F("base_version", INT), F("note", CAPPED)),
              lambda s: {"base_version": 2, "note": "back"},
              lambda s: {"article_id": s.article.pk, "number": 1}),
    ],
    "api-agreement": [
        Entry("GET", "reviewer", "query", AGREEMENT, lambda s: {"unit": "token"},
              lambda s: {"slug": s.project.slug}),
    ],
    # Predictions: one JSON Lines line for the open article.
    "api-predictions": [
        Entry("POST", "manager", "ndjson",
              (F("id", NAME), F("model", CAPPED), F("spans", CHOICE), F("spans.0", CHOICE),
               F("spans.0.start", INT), F("spans.0.end", INT), F("spans.0.label", CHOICE),
               F("spans.0.score", CHOICE), F("spans.0.text", CHOICE), F("relations", CHOICE)),
              lambda s: {"id": s.open_article.external_id, "model": "ner@1",
                         "spans": [{"start": 0, "end": 6, "label": "ACTOR", "score": 0.5,
                                    "text": "Rebels"}],
                         "relations": []},
              lambda s: {"slug": s.project.slug}),
    ],
    "api-models": [Entry("GET", "reviewer", "none", kwargs=lambda s: {"slug": s.project.slug})],
    "api-propose-attributes": [
        Entry("POST", "editor", "json", (F("label", CHOICE), F("text", CAPPED)),
              lambda s: {"label": "CASUALTY", "text": "six people were wounded"},
              lambda s: {"slug": s.project.slug}),
    ],
    "api-export": [
        Entry("GET", "reviewer", "query",
              (F("format", CHOICE, True), F("source", CHOICE, True), F("final", CHOICE, True)),
              lambda s: {"format": "jsonl", "source": "gold"},
              lambda s: {"slug": s.project.slug}),
    ],
    "api-releases": [
        Entry("GET", "reviewer", "query", API_PAGING, kwargs=lambda s: {"slug": s.project.slug}),
        Entry("POST", "reviewer", "json", (F("name", CAPPED), F("note", CAPPED)),
              lambda s: {"name": "v2", "note": "n"}, lambda s: {"slug": s.project.slug}),
    ],
    "api-agreement-recompute": [
        Entry("POST", "manager", "none", kwargs=lambda s: {"slug": s.project.slug}),
    ],
    "api-jobs": [
        Entry("GET", "manager", "query",
              (F("state", CHOICE, True), F("kind", CHOICE, True), *API_PAGING),
              lambda s: {"state": "failed"}, lambda s: {"slug": s.project.slug}),
    ],
    "api-job": [Entry("GET", "manager", "none", kwargs=lambda s: {"job_id": s.extra["job"].pk})],
    "api-release": [
        Entry("GET", "reviewer", "none",
              kwargs=lambda s: {"slug": s.project.slug, "name": s.release}),
    ],
    "api-release-download": [
        Entry("GET", "reviewer", "none",
              kwargs=lambda s: {"slug": s.project.slug, "name": s.release}),
    ],
}  # fmt: skip


# --- calling a route ----------------------------------------------------------------------

COUNTED = (
    Project,
    Label,
    Membership,
    Article,
    Assignment,
    Annotation,
    AnnotationVersion,
    Span,
    ModelVersion,
    PredictedSpan,
)


def row_counts() -> tuple[int, ...]:
    """The number of rows of every table a write could touch, in one query."""
    tables = [model._meta.db_table for model in (*COUNTED, Release)]
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {table})" for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(cursor.fetchone())


def _client(world, side: Side, who: str) -> Client:
    if who == "anonymous":
        return Client()
    user = side.people[who]
    return login(user)


def _api_client(side: Side, who: str):
    return api(None if who == "anonymous" else side.people[who])


SENTINEL = "@@hostile@@"


def _put(data, path: str, value):
    """`data` with the value at dotted `path` replaced."""
    data = json.loads(json.dumps(data))
    keys = path.split(".")
    target = data
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    last = keys[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


def send(
    world,
    side: Side,
    name: str,
    entry: Entry,
    values=None,
    raw: str | None = None,
    kwargs: dict | None = None,
):
    """Call the route with `values` (or the entry's valid ones); `raw` is the JSON text;
    `kwargs` replace the address's."""
    url = reverse(name, kwargs={**entry.kwargs(side), **(kwargs or {})})
    values = entry.base(side) if values is None else values
    if name.startswith("api-"):
        client = _api_client(side, entry.who)
    else:
        client = _client(world, side, entry.who)
    if entry.body in ("json", "ndjson"):
        text = raw if raw is not None else json.dumps(values)
        media = "application/json" if entry.body == "json" else "application/x-ndjson"
        return client.generic(entry.method, url, text.encode(), content_type=media)
    if entry.body == "form":
        return client.generic(
            entry.method,
            url,
            urlencode(values).encode(),
            content_type="application/x-www-form-urlencoded",
        )
    if entry.body == "query" and values:
        url += "?" + urlencode(values)
    return client.generic(entry.method, url)


def attack(world, side: Side, name: str, entry: Entry, target: Field, hostile: Hostile):
    """The response to the valid request with `target` replaced by `hostile`, or None when
    the value cannot be sent there (a list in a form)."""
    if entry.body in ("json", "ndjson"):
        placeholder = _put(entry.base(side), target.name, SENTINEL)
        raw = json.dumps(placeholder).replace(json.dumps(SENTINEL), hostile.json)
        return send(world, side, name, entry, raw=raw)
    if hostile.form is None:
        return None
    return send(world, side, name, entry, values={**entry.base(side), target.name: hostile.form})


def must_refuse(target: Field, hostile: Hostile, entry: Entry) -> bool:
    refused = set(MUST_REFUSE[target.kind])
    if target.optional:
        refused.discard("empty")
    if entry.body in ("json", "ndjson") and target.kind in (TEXT, CAPPED):
        refused |= JSON_NUMBERS  # strict: a number is not a string
    if entry.body in ("json", "ndjson"):
        refused |= {"1e309", "NaN"}  # not JSON (or not finite): the parser refuses them
    return hostile.name in refused


def _alert(response) -> str:
    """The error a page shows (for assertion messages)."""
    body = response.content.decode(errors="replace")
    start = body.find('role="alert"')
    return body[start : start + 300] if start >= 0 else body[:300]


def message_of(name: str, response) -> str:
    if name.startswith("api-"):
        return response.json().get("detail", "")
    return response.content.decode(errors="replace").strip()


def problems_of(world, side: Side, name: str, entry: Entry) -> list[str]:
    problems = []
    for target in entry.fields:
        for hostile in HOSTILE:
            with transaction.atomic():
                before = row_counts()
                response = attack(world, side, name, entry, target, hostile)
                after = row_counts()
                transaction.set_rollback(True)
            if response is None:
                continue
            where = f"{entry.method} {name} {target.name}={hostile.name}"
            status = response.status_code
            if status >= 500:
                problems.append(f"{where}: {status}")
            elif status >= 400:
                if not message_of(name, response):
                    problems.append(f"{where}: {status} without a message")
                if after != before:
                    problems.append(f"{where}: refused ({status}) but wrote rows")
            elif must_refuse(target, hostile, entry):
                problems.append(f"{where}: accepted ({status})")
    return problems


# --- the tests ----------------------------------------------------------------------------


@pytest.fixture
def side(world) -> Side:
    _prepare(world.alpha)
    return world.alpha


def test_every_route_has_an_entry():
    """A new URL pattern must say which inputs it takes before the suite passes."""
    names = {name for name, _ in patterns()}
    assert names - set(ROUTES) == set(), "routes missing from ROUTES"
    assert set(ROUTES) - names == set(), "ROUTES names routes that no longer exist"


@pytest.mark.parametrize("name", sorted(n for n, entries in ROUTES.items() if entries))
def test_the_valid_request_of_every_entry_is_accepted(world, side, name):
    """The table is right: without a hostile value, each request goes through."""
    for entry in ROUTES[name]:
        with transaction.atomic():
            response = send(world, side, name, entry)
            transaction.set_rollback(True)
        assert response.status_code < 400, (name, entry.method, _alert(response))


@pytest.mark.parametrize(
    "name", sorted(n for n, entries in ROUTES.items() if any(e.fields for e in entries))
)
def test_hostile_values_are_refused_with_a_message_and_write_nothing(world, side, name):
    problems = []
    for entry in ROUTES[name]:
        problems += problems_of(world, side, name, entry)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    "name", sorted(n for n, route in patterns() if "<int:" in route and n in ROUTES)
)
def test_ids_in_the_address_past_the_columns_are_not_found(world, side, name):
    """The valid request with an id past 32 or 64 bits in the address: 404 (or, for a
    write, the 400 naming what is missing), never a 500."""
    wrong = []
    for entry in ROUTES[name] or [Entry("GET", "editor", "none")]:
        keys = [k for k in entry.kwargs(side) if k in ("article_id", "span_id", "number")]
        for key, number in itertools.product(keys, [2**31, 2**63, 2**64, 10**30]):
            with transaction.atomic():
                response = send(world, side, name, entry, kwargs={key: number})
                transaction.set_rollback(True)
            expected = {404} if entry.method in ("GET", "DELETE") else {400, 404}
            if response.status_code not in expected or not message_of(name, response):
                wrong.append((entry.method, key, number, response.status_code))
    assert wrong == []


@pytest.mark.parametrize("where", ["query", "form", "path"])
def test_nul_anywhere_in_a_request_is_a_400_before_any_view(world, side, where):
    client = login(side.reviewer)
    history = reverse("annotation-history", args=[side.open_article.pk])
    if where == "query":
        response = client.get(history + "?annotator=a%00b")
    elif where == "form":
        response = client.post(
            reverse("review-final", args=[side.open_article.pk]),
            "base_version=1&note=a%00b",
            content_type="application/x-www-form-urlencoded",
        )
    else:
        response = api(side.manager).delete(f"/api/projects/{side.project.slug}/members/a%00b/")
    assert response.status_code == 400
    assert b"NUL" in response.content


# --- item 1 of the hardening issue: a date no page can show -------------------------------

FAR_DATES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+00:01"]
# At the very edges, and storable: both databases keep them and every page shows them.
EDGE_DATES = {
    "0001-01-01T00:00:00Z": "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00-05:00": "0001-01-01T05:00:00Z",
    "9999-12-31T23:59:59.999999Z": "9999-12-31T23:59:59.999999Z",
    "9999-12-31T20:00:00+05:00": "9999-12-31T15:00:00Z",
    "9999-12-31": "9999-12-31T00:00:00Z",
}


@pytest.fixture
def uploading(project, editor):
    project.editors_can_upload = True
    project.save(update_fields=["editors_can_upload"])
    return project


def _pages_answer(project, editor, admin_user, article=None) -> dict[str, int]:
    """The pages an article's date appears on (or its list), as their users see them."""
    editor_client, admin = login(editor), login(admin_user)
    statuses = {
        "api articles": api(editor).get(f"/api/projects/{project.slug}/articles/").status_code,
        "home": editor_client.get(reverse("home")).status_code,
        "project": editor_client.get(reverse("project", args=[project.slug])).status_code,
        "admin list": admin.get("/admin/annotate/article/").status_code,
    }
    if article is not None:
        statuses["api article"] = api(editor).get(f"/api/articles/{article.pk}/").status_code
        statuses["article"] = editor_client.get(reverse("article", args=[article.pk])).status_code
        statuses["admin article"] = admin.get(
            f"/admin/annotate/article/{article.pk}/change/"
        ).status_code
    return statuses


@pytest.mark.parametrize("published_at", FAR_DATES)
def test_an_import_dated_outside_the_storable_years_is_refused_and_breaks_nothing(
    uploading, editor, admin_user, published_at
):
    """The attack of the issue: an editor imports one article whose date, in UTC, is in
    year 0 or 10000. It used to be stored on PostgreSQL and break every page listing it."""
    response = api(editor).post(
        f"/api/projects/{uploading.slug}/articles/",
        [{"external_id": "x", "text": "t", "published_at": published_at}],
        format="json",
    )
    detail = response.json()["detail"]
    assert response.status_code == 400
    assert "published_at" in detail and "years 1 to 9999" in detail
    assert not Article.objects.filter(project=uploading).exists()
    assert set(_pages_answer(uploading, editor, admin_user).values()) == {200}


@pytest.mark.parametrize("sent, stored", EDGE_DATES.items())
def test_dates_at_the_storable_edges_import_and_show_everywhere(
    uploading, editor, admin_user, sent, stored
):
    response = api(editor).post(
        f"/api/projects/{uploading.slug}/articles/",
        [{"external_id": "edge", "text": "At the edge of time.", "published_at": sent}],
        format="json",
    )
    assert response.status_code == 201, response.content
    article = Article.objects.get(project=uploading, external_id="edge")
    assert api(editor).get(f"/api/articles/{article.pk}/").json()["published_at"] == stored
    assert set(_pages_answer(uploading, editor, admin_user, article).values()) == {200}
