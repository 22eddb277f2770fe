"""The pure export formatters: tokens, overlap rule, CoNLL, JSON Lines, spaCy, W3C."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc
from spacy.vocab import Vocab

from annotate.exports import FORMATS, render
from annotate.exports.conll import DOCSTART, document, sentences, tagged_tokens
from annotate.exports.jsonl import dumps, line, ordered
from annotate.exports.overlap import non_overlapping
from annotate.exports.spacy import example, words_and_spaces
from annotate.exports.tokens import plain_tokens, tokenize
from annotate.exports.w3c import annotations

TEXT = "Kataeb Hezbollah fighters shelled Aleppo. Three people died, the ministry said."


def span(text: str, start: int, end: int, label: str) -> dict:
    return {"start": start, "end": end, "label": label, "text": text[start:end]}


def at(text: str, part: str, label: str, occurrence: int = 0) -> dict:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(part, start + 1)
    return span(text, start, start + len(part), label)


def record(text: str = TEXT, spans=(), **extra) -> dict:
    base = {
        "id": "a1",
        "article": 1,
        "title": "Shelling",
        "url": "",
        "text": text,
        "spans": list(spans),
        "source": "gold",
        "version": 3,
        "adjudicator": "rita",
        "annotators": ["edith", "otto"],
        "final": True,
    }
    return base | extra


def bio_spans(tagged) -> list[tuple[int, int, str]]:
    """Spans read back from BIO tags."""
    found: list[list] = []
    for token, tag in tagged:
        if tag.startswith("B-"):
            found.append([token.start, token.end, tag[2:]])
        elif tag.startswith("I-"):
            assert found and found[-1][2] == tag[2:], "I- must continue a span of its label"
            found[-1][1] = token.end
    return [tuple(f) for f in found]


# --- tokens -------------------------------------------------------------------------


def test_tokens_keep_words_numbers_and_emoji_sequences_whole():
    text = "al-Assad's men: 3.5 km, 10,000 people at 12:30 👩🏽‍🚒 🇱🇧 مُحَمَّد"
    assert [t.text for t in tokenize(text)] == [
        "al-Assad's",
        "men",
        ":",
        "3.5",
        "km",
        ",",
        "10,000",
        "people",
        "at",
        "12:30",
        "👩🏽‍🚒",
        "🇱🇧",
        "مُحَمَّد",
    ]


def test_tokens_are_cut_at_requested_offsets():
    assert [t.text for t in tokenize("Hezbollah's men", cuts=[9, 3])] == [
        "Hez",
        "bollah",
        "'s",
        "men",
    ]


@settings(max_examples=200, deadline=None)
@given(st.text(), st.lists(st.integers(min_value=0, max_value=60), max_size=6))
def test_tokens_cover_every_visible_character_in_order(text, cuts):
    tokens = tokenize(text, cuts)
    position = 0
    for token in tokens:
        assert text[token.start : token.end] == token.text
        assert token.text and not any(c.isspace() for c in token.text)
        assert text[position : token.start].isspace() or position == token.start
        position = token.end
    assert text[position:].isspace() or position == len(text)
    boundaries = {t.start for t in tokens} | {t.end for t in tokens}
    for cut in cuts:
        if 0 < cut < len(text) and not text[cut - 1].isspace() and not text[cut].isspace():
            assert cut in boundaries


# Text that exercises every rule of the tokenizer: joiners in and out of words, emoji
# sequences, combining marks, Arabic and Devanagari, CJK punctuation, line breaks of every
# kind (CRLF included), and the control characters the fast paths use as markers.
TRICKY = [
    *"ab Ć.,-'’:\n\r\t \u3000!?…。؟।\"«“(AZ09_\u200d\u2028\x85\x00\x01\x02\x05é\u0301",
    "🇱🇧", "👩🏽‍🚒", "🔥\u200d.", "مُحَمَّد", "क्षि", "3.5", "10,000", "12:30", "al-Assad's",
    "don't", "Port-au-Prince", "Mr. Smith", ". The", "! 4", "?\n\nx", "\r\n",
]  # fmt: skip
ASCII = [part for part in TRICKY if part.isascii()]
tricky_text = st.one_of(
    st.lists(st.sampled_from(TRICKY), max_size=40).map("".join),
    st.lists(st.sampled_from(ASCII), max_size=40).map("".join),
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(tricky_text, st.text()))
def test_plain_tokens_are_the_tokens_of_tokenize(text):
    assert plain_tokens(text) == [t.text for t in tokenize(text)]


# --- overlap rule -------------------------------------------------------------------


def test_the_longest_span_wins_over_nested_and_crossing_spans():
    outer = span(TEXT, 0, 25, "ACTOR")  # Kataeb Hezbollah fighters
    inner = span(TEXT, 7, 16, "LOCATION")  # Hezbollah
    crossing = span(TEXT, 17, 33, "SOURCE")
    later = span(TEXT, 34, 40, "LOCATION")
    assert non_overlapping([inner, outer, crossing, later]) == [outer, later]


def test_between_equal_lengths_the_earlier_start_then_the_first_listed_wins():
    a = span(TEXT, 0, 6, "ACTOR")
    b = span(TEXT, 3, 9, "SOURCE")
    c = span(TEXT, 0, 6, "LOCATION")
    assert non_overlapping([b, a, c]) == [a]
    assert non_overlapping([c, a]) == [c]


def test_adjacent_spans_both_survive():
    a, b = span(TEXT, 0, 6, "ACTOR"), span(TEXT, 6, 16, "ACTOR")
    assert non_overlapping([b, a]) == [a, b]


def in_a_row(steps: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans in text order: each (gap, length) step starts `gap` after the last end (a
    negative gap overlaps it)."""
    pairs, end = [], 0
    for gap, length in steps:
        start = max(0, end + gap)
        pairs.append((start, start + length))
        end = start + length
    return pairs


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8)), max_size=8).map(
            lambda pairs: [(s, s + n) for s, n in pairs]
        ),
        st.lists(st.tuples(st.integers(-2, 3), st.integers(1, 5)), max_size=8).map(in_a_row),
    )
)
def test_the_overlap_rule_keeps_what_a_plain_reading_of_it_keeps(pairs):
    spans = [{"start": s, "end": e, "label": f"L{i}", "text": ""} for i, (s, e) in enumerate(pairs)]
    by_rule = sorted(
        range(len(spans)), key=lambda i: (-(pairs[i][1] - pairs[i][0]), pairs[i][0], i)
    )
    kept: list[int] = []
    for i in by_rule:
        s, e = pairs[i]
        if all(e <= pairs[k][0] or pairs[k][1] <= s for k in kept):
            kept.append(i)
    expected = [spans[i] for i in sorted(kept, key=lambda i: (pairs[i][0], pairs[i][1]))]
    assert [s["label"] for s in non_overlapping(spans)] == [s["label"] for s in expected]


# --- CoNLL --------------------------------------------------------------------------


def test_conll_tags_nested_spans_by_the_outermost():
    spans = [at(TEXT, "Kataeb Hezbollah fighters", "ACTOR"), at(TEXT, "Hezbollah", "LOCATION")]
    tags = [(t.text, tag) for t, tag in tagged_tokens(TEXT, spans)][:5]
    assert tags == [
        ("Kataeb", "B-ACTOR"),
        ("Hezbollah", "I-ACTOR"),
        ("fighters", "I-ACTOR"),
        ("shelled", "O"),
        ("Aleppo", "O"),
    ]


def test_conll_starts_a_new_entity_for_adjacent_spans_of_one_label():
    text = "Aleppo Idlib"
    tags = [
        tag for _, tag in tagged_tokens(text, [span(text, 0, 6, "LOC"), span(text, 7, 12, "LOC")])
    ]
    assert tags == ["B-LOC", "B-LOC"]


def test_conll_splits_a_word_where_a_span_ends_inside_it():
    text = "Hezbollah's men"
    lines = document(record(text, [span(text, 0, 9, "ACTOR")])).splitlines()
    assert lines[2:5] == ["Hezbollah -X- _ B-ACTOR", "'s -X- _ O", "men -X- _ O"]


def test_conll_document_layout():
    spans = [at(TEXT, "Aleppo", "LOCATION"), at(TEXT, "Three people", "CASUALTY")]
    out = document(record(TEXT, spans))
    assert out.startswith("-DOCSTART- -X- -X- O\n\nKataeb -X- _ O\n")
    sentences = out.split("\n\n")[1:-1]
    assert len(sentences) == 2, "one blank line after each sentence"
    assert sentences[0].endswith("Aleppo -X- _ B-LOCATION\n. -X- _ O")
    assert sentences[1].startswith("Three -X- _ B-CASUALTY\npeople -X- _ I-CASUALTY\n")
    assert out.endswith(". -X- _ O\n\n")
    assert all(len(row.split(" ")) == 4 for row in out.splitlines() if row)


def test_conll_never_ends_a_sentence_inside_a_span():
    text = "They met Mr. Smith. He left.\nNext line."
    out = document(record(text, [at(text, "Mr. Smith", "ACTOR")]))
    assert "Mr -X- _ B-ACTOR\n. -X- _ I-ACTOR\nSmith -X- _ I-ACTOR\n" in out
    assert out.count("\n\n") == 4  # DOCSTART, then three sentences


spans_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40),
        st.integers(min_value=1, max_value=12),
        st.sampled_from(["ACTOR", "LOCATION", "SOURCE"]),
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab Ć.,-'\n🇱🇧👩🏽‍🚒é\u0301")), min_size=1, max_size=50),
    spans_strategy,
)
def test_conll_bio_tags_give_back_every_kept_span(text, raw):
    spans = [span(text, s, min(s + n, len(text)), lab) for s, n, lab in raw if s < len(text)]
    kept = non_overlapping(spans)
    expected = []
    for s in kept:
        covered = [
            t for t in tokenize(text, [s["start"], s["end"]]) if s["start"] <= t.start < s["end"]
        ]
        if covered:  # a span of only whitespace has no token to carry its tag
            expected.append((covered[0].start, covered[-1].end, s["label"]))
    assert bio_spans(tagged_tokens(text, spans)) == expected


def reference_document(text: str, spans) -> str:
    """The CoNLL document written token by token from the rules, as the module states them."""
    lines = [DOCSTART]
    for sentence in sentences(text, tagged_tokens(text, spans)):
        lines.extend(f"{token.text} -X- _ {tag}\n" for token, tag in sentence)
        lines.append("\n")
    return "".join(lines)


@st.composite
def text_and_spans(draw):
    text = draw(tricky_text)
    spans = []
    for start, length, label in draw(spans_strategy):
        if text:
            start = start % len(text)
            spans.append(span(text, start, min(len(text), start + length), label))
    return text, sorted(spans, key=lambda s: (s["start"], s["end"], s["label"]))


@settings(max_examples=1000, deadline=None)
@given(text_and_spans())
def test_conll_document_is_what_the_token_rules_write(case):
    text, spans = case
    assert document(record(text, spans)) == reference_document(text, spans)


@pytest.mark.parametrize(
    "text, parts",
    [
        ("Rebels shelled Port-au-Prince. Three died.", ["Port-au-Prince", "Three died"]),
        ("At 12:30, 10,000 people fled.\r\nThe army said so.", ["10,000 people", "The"]),
        ("Hezbollah's men left. Then they came back.", ["Hezbollah", "men left. "]),
        ("Fire 🔥\u200d. Then smoke.", ["🔥", "Then"]),
        ("قال مُحَمَّد. ثم غادر؟ نعم", ["مُحَمَّد", "غادر"]),
        ("Marks\x00 and\x01 stops\x02 in\x05 text. Yes", ["and", "stops\x02 in"]),
        ("Every marker: \x00\x01\x02\x03\x04\x05\x06\x07\x08. Gone", ["marker", "Gone"]),
        ("", []),
        ("   \n ", []),
    ],
)
def test_conll_document_on_awkward_text(text, parts):
    spans = [at(text, part, label) for part, label in zip(parts, ["ACTOR", "SOURCE"], strict=False)]
    assert document(record(text, spans)) == reference_document(text, spans)


def _seconds(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _long_article(words: int) -> str:
    vocabulary = ["Rebels", "shelled", "the", "town", "of", "Aleppo", "on", "Monday."]
    return " ".join(vocabulary[i % len(vocabulary)] for i in range(words))


@pytest.mark.parametrize(
    "shape",
    ["edges inside words", "nested and crossing", "one long run of CJK"],
)
def test_conll_of_one_long_article_takes_time_linear_in_its_spans(shape):
    """The issue's case: 10,000 spans on a 200,000-character article took 12.5 s when each
    span or zone looked at every other one (and minutes for CJK, which has no spaces); the
    work is now linear. The bound is loose (a busy machine), the old code far beyond it."""
    if shape == "one long run of CJK":
        text = ("北京市政府今天宣布新的措施。" * 15_000)[:200_000]
        spans = [span(text, s, s + 3, "LOCATION") for s in range(0, len(text) - 3, 20)]
    else:
        text = _long_article(40_000)[:200_000]
        starts = [i for i in range(1, len(text)) if text[i - 1] == " "]
        if shape == "edges inside words":
            pairs = [(starts[n] + 1, starts[n + 1] + 2) for n in range(0, 30_000, 3)]
        else:
            pairs = [(starts[n], starts[n + 1 + n % 3] - 1) for n in range(0, 20_000, 2)]
        spans = [span(text, s, e, "ACTOR") for s, e in pairs]
    assert len(spans) == 10_000 and len(text) == 200_000
    tokenize("warm")  # the token regex is built once per process, not per export
    assert _seconds(lambda: document(record(text, spans))) < 8


# --- JSON Lines ---------------------------------------------------------------------


def test_jsonl_line_has_fixed_key_order_and_no_raw_unicode_line_breaks():
    text = "A\u2028B said: ok"
    out = line(record(text, [at(text, "B", "SOURCE")]))
    assert out.endswith("\n") and out.count("\n") == 1
    assert "\u2028" not in out and "\\u2028" in out
    data = json.loads(out)
    assert list(data)[:8] == [
        "id",
        "article",
        "title",
        "url",
        "text",
        "spans",
        "source",
        "adjudicator",
    ]
    assert data["text"] == text
    assert all(data["text"][s["start"] : s["end"]] == s["text"] for s in data["spans"])


def reference_line(record) -> str:
    return (
        json.dumps(ordered(record), ensure_ascii=False, separators=(",", ":"))
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
        .replace("\x85", "\\u0085")
        + "\n"
    )


@settings(max_examples=500, deadline=None)
@given(
    text_and_spans(),
    st.text(),
    st.dictionaries(st.text(max_size=3), st.one_of(st.none(), st.integers(), st.text())),
)
def test_jsonl_line_is_compact_json_of_the_ordered_record(case, title, extra):
    text, spans = case
    text *= 10  # long texts take another road than short strings; the spans still fit
    value = record(text, spans, title=title, **{f"x{key}": v for key, v in extra.items()})
    assert line(value) == reference_line(value)
    assert json.loads(line(value)) == json.loads(dumps(value))


# --- spaCy --------------------------------------------------------------------------


def test_spacy_offsets_count_code_points_with_emoji():
    text = "🇱🇧 👩🏽‍🚒 Beirut 🔥 Aleppo"
    spans = [at(text, "Beirut", "LOCATION"), at(text, "Aleppo", "LOCATION")]
    out = json.loads(next(iter(render("spacy", [record(text, spans)]))))
    assert out["entities"] == [[8, 14, "LOCATION"], [17, 23, "LOCATION"]]
    assert [text[s:e] for s, e, _ in out["entities"]] == ["Beirut", "Aleppo"]
    doc = Doc(Vocab(), words=out["words"], spaces=out["spaces"])
    assert doc.text == text
    assert [doc.char_span(s, e, label=lab).text for s, e, lab in out["entities"]] == [
        "Beirut",
        "Aleppo",
    ]


def test_spacy_entities_drop_overlaps_while_span_groups_keep_them():
    spans = [at(TEXT, "Kataeb Hezbollah", "ACTOR"), at(TEXT, "Hezbollah", "LOCATION")]
    out = example(record(TEXT, spans))
    assert out["entities"] == [[0, 16, "ACTOR"]]
    assert out["spans"] == {"sc": [[0, 16, "ACTOR"], [7, 16, "LOCATION"]]}
    assert out["meta"] == {
        "id": "a1",
        "article": 1,
        "title": "Shelling",
        "source": "gold",
        "adjudicator": "rita",
        "version": 3,
    }
    doc = Doc(Vocab(), words=out["words"], spaces=out["spaces"])
    doc.ents = [doc.char_span(s, e, label=lab) for s, e, lab in out["entities"]]
    doc.spans["sc"] = [doc.char_span(s, e, label=lab) for s, e, lab in out["spans"]["sc"]]
    assert [(e.text, e.label_) for e in doc.ents] == [("Kataeb Hezbollah", "ACTOR")]
    assert len(doc.spans["sc"]) == 2


def test_spacy_whitespace_follows_spacy_conventions():
    words, spaces = words_and_spaces("a  b\nc ", [])
    assert words == ["a", " ", "b", "\n", "c"]
    assert spaces == [True, False, False, False, True]


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab  .\n\t🇱🇧👩🏽‍🚒é\u0301-")), min_size=1, max_size=40),
    spans_strategy,
)
def test_spacy_char_span_accepts_every_exported_span(text, raw):
    spans = [span(text, s, min(s + n, len(text)), lab) for s, n, lab in raw if s < len(text)]
    out = example(record(text, spans))
    doc = Doc(Vocab(), words=out["words"], spaces=out["spaces"])
    assert doc.text == text
    for start, end, label in out["spans"]["sc"]:
        made = doc.char_span(start, end, label=label)
        assert made is not None, (start, end, text[start:end])
        assert made.text == text[start:end]
    doc.ents = [doc.char_span(s, e, label=lab) for s, e, lab in out["entities"]]


# --- W3C ----------------------------------------------------------------------------


def test_w3c_annotation_has_position_and_quote_selectors():
    spans = [at(TEXT, "Aleppo", "LOCATION")]
    (item,) = annotations(record(TEXT, spans), namespace="demo", generated="2024-01-01T00:00:00Z")
    position, quote = item["target"]["selector"]
    assert position == {"type": "TextPositionSelector", "start": 34, "end": 40}
    assert quote == {
        "type": "TextQuoteSelector",
        "exact": "Aleppo",
        "prefix": "Kataeb Hezbollah fighters shelled "[-32:],
        "suffix": ". Three people died, the ministr",
    }
    assert item["target"]["source"] == "urn:x-annotate:demo:article:1"
    assert item["body"] == {"type": "TextualBody", "purpose": "tagging", "value": "LOCATION"}
    assert item["creator"] == {"type": "Person", "nickname": "rita"}
    assert item["id"] == "urn:x-annotate:demo:article:1:gold:v3:span:0"


def test_w3c_document_is_one_json_ld_collection():
    first = record(TEXT, [at(TEXT, "Aleppo", "LOCATION"), at(TEXT, "ministry", "SOURCE")])
    second = record(
        "Idlib was hit.",
        [span("Idlib was hit.", 0, 5, "LOCATION")],
        article=2,
        url="https://news.example/idlib",
        source="editor",
        annotator="edith",
    )
    empty = record("Nothing here.", [], article=3)
    out = b"".join(
        render(
            "w3c",
            [first, empty, second],
            namespace="demo",
            label="gold",
            generated="2024-01-01T00:00:00Z",
        )
    )
    data = json.loads(out)
    assert data["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert data["type"] == "AnnotationCollection"
    items = data["first"]["items"]
    assert len(items) == 3
    assert items[2]["target"]["source"] == "https://news.example/idlib"
    assert items[2]["creator"]["nickname"] == "edith"
    assert json.loads(b"".join(render("w3c", [], generated="x")))["first"]["items"] == []


def test_every_format_is_registered_with_a_content_type():
    assert set(FORMATS) == {"jsonl", "conll", "spacy", "w3c", "facts", "facts-csv"}
    assert all(f.content_type.endswith("charset=utf-8") for f in FORMATS.values())
    with pytest.raises(ValueError, match="unknown export format"):
        render("xml", [])
    with pytest.raises(ValueError, match="schema's columns"):
        render("facts", [])
