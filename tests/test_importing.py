"""The import parser (annotate.article_parsing): pure, no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from annotate.article_parsing import (
    Issue,
    Limits,
    detect_format,
    generated_id,
    parse,
    parse_folder,
    parse_json,
    parse_jsonl,
    parse_record,
    parse_txt,
)

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"


def jsonl(*objects: object) -> bytes:
    return "\n".join(json.dumps(o, ensure_ascii=False) for o in objects).encode("utf-8")


def article(external_id: str = "a1", text: str = "Rebels shelled Aleppo.", **extra) -> dict:
    return {"external_id": external_id, "title": "T", "text": text, **extra}


def errors_of(result) -> list[str]:
    return [str(e) for e in result.errors]


# --- canonical text ---------------------------------------------------------------------


def test_crlf_becomes_lf():
    result = parse_jsonl(jsonl(article(text="One.\r\nTwo.\r\n")))
    assert result.records[0]["text"] == "One.\nTwo.\n"


def test_cr_only_line_ends_become_lf():
    result = parse_jsonl(jsonl(article(text="One.\rTwo.\rThree.")))
    assert result.records[0]["text"] == "One.\nTwo.\nThree."


def test_bom_is_stripped_from_the_file_and_from_the_text():
    data = b"\xef\xbb\xbf" + jsonl(article(text="\ufeffHello."))
    result = parse_jsonl(data)
    assert result.ok, errors_of(result)
    assert result.records[0]["text"] == "Hello."


def test_text_is_nfc_normalised():
    result = parse_jsonl(jsonl(article(text="Caf\u0065\u0301 in Beyrouth")))
    assert result.records[0]["text"] == "Caf\u00e9 in Beyrouth"
    assert len(result.records[0]["text"]) == len("Café in Beyrouth")


def test_txt_file_is_canonical_too():
    result = parse_txt(b"\xef\xbb\xbfTitle\r\n\r\nBody with e\xcc\x81.\r", name="story.txt")
    assert result.records[0]["text"] == "Title\n\nBody with \u00e9.\n"


def test_non_utf8_line_is_named_in_jsonl():
    good = jsonl(article("a1"))
    bad = b'{"external_id": "a2", "text": "caf\xe9"}'
    result = parse_jsonl(good + b"\n" + bad)
    assert errors_of(result) == [
        "line 2: not valid UTF-8 at column 35 (byte 0xe9); save the file as UTF-8 and try again"
    ]
    assert result.errors[0].as_dict()["line"] == 2


def test_non_utf8_json_array_names_the_line():
    data = b'[\n {"external_id": "a1",\n  "text": "caf\xe9"}\n]'
    result = parse_json(data)
    assert result.errors == [
        Issue(
            "not valid UTF-8 at column 15 (byte 0xe9); save the file as UTF-8 and try again",
            line=3,
        )
    ]


def test_non_utf8_txt_names_the_file_and_line():
    result = parse_txt(b"Title\nGood line\nBad \xff line\n", name="story.txt")
    assert errors_of(result) == [
        "story.txt: not valid UTF-8 at line 3, column 5 (byte 0xff); "
        "save the file as UTF-8 and try again"
    ]
    assert result.errors[0].as_dict() == {
        "file": "story.txt",
        "detail": "not valid UTF-8 at line 3, column 5 (byte 0xff); "
        "save the file as UTF-8 and try again",
    }


def test_nul_and_lone_surrogates_are_refused():
    result = parse_jsonl(
        b'{"external_id": "a1", "text": "bad \\u0000 byte"}\n'
        b'{"external_id": "a2", "text": "half \\ud800 pair"}'
    )
    assert errors_of(result) == [
        "line 1: text contains a NUL character at line 1",
        "line 2: text contains an unpaired surrogate at line 1",
    ]


# --- JSON Lines -------------------------------------------------------------------------


def test_jsonl_reads_every_field():
    published = "2024-03-01T09:30:00+02:00"
    result = parse_jsonl(
        jsonl(
            article(
                "x-1",
                title="  A  title\nover lines ",
                url="https://example.org/a",
                published_at=published,
                meta={"section": "world", "tags": ["a", "b"]},
            )
        )
    )
    assert result.ok
    assert result.records == [
        {
            "external_id": "x-1",
            "title": "A title over lines",
            "text": "Rebels shelled Aleppo.",
            "url": "https://example.org/a",
            "published_at": datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=2))),
            "meta": {"section": "world", "tags": ["a", "b"]},
        }
    ]


def test_optional_fields_default_to_empty():
    result = parse_jsonl(jsonl({"external_id": "a1", "text": "Body."}))
    assert result.records == [
        {
            "external_id": "a1",
            "title": "",
            "text": "Body.",
            "url": "",
            "published_at": None,
            "meta": {},
        }
    ]


def test_a_bad_json_line_is_reported_with_its_line_number():
    data = jsonl(article("a1"), article("a2")) + b'\n{"external_id": "a3" "text": "x"}'
    result = parse_jsonl(data)
    assert errors_of(result) == ["line 3: not valid JSON: Expecting ',' delimiter (column 22)"]


def test_every_error_is_collected_not_just_the_first():
    data = b"\n".join(
        [
            jsonl(article("a1")),
            b"{oops",
            jsonl({"title": "no id", "text": "x"}),
            jsonl({"external_id": "a4"}),
            jsonl(article("a5")),
            b"[1, 2]",
        ]
    )
    result = parse_jsonl(data)
    assert errors_of(result) == [
        "line 2: not valid JSON: Expecting property name enclosed in double quotes (column 2)",
        "line 3: missing external_id",
        "line 4: missing text",
        "line 6: each line must be a JSON object, got an array",
    ]


def test_blank_lines_are_skipped_but_counted():
    data = jsonl(article("a1")) + b"\n\n   \n" + b"{bad"
    result = parse_jsonl(data)
    assert len(result.records) == 1
    assert errors_of(result)[0].startswith("line 4: not valid JSON")


def test_duplicate_external_ids_in_one_file_are_errors():
    result = parse_jsonl(jsonl(article("a1"), article("a2"), article("a1")))
    assert errors_of(result) == ["line 3: external_id 'a1' appears twice (first at line 1)"]


def test_wrong_types_are_named():
    result = parse_jsonl(
        jsonl(
            {"external_id": ["x"], "text": "t"},
            {"external_id": "a2", "text": 5},
            {"external_id": "a3", "text": "t", "title": 3},
            {"external_id": "a4", "text": "t", "meta": [1]},
            {"external_id": "a5", "text": "t", "published_at": "yesterday"},
            {"external_id": "a6", "text": "t", "url": "javascript:alert(1)"},
            {"external_id": True, "text": "t"},
        )
    )
    assert errors_of(result) == [
        "line 1: external_id must be a string, got an array",
        "line 2: text must be a string, got a number",
        "line 3: title must be a string, got a number",
        "line 4: meta must be a JSON object, got an array",
        "line 5: published_at is not an ISO 8601 date or time: 'yesterday' "
        "(e.g. 2024-03-01 or 2024-03-01T14:30:00Z)",
        "line 6: url is not an http(s) address: 'javascript:alert(1)'",
        "line 7: external_id must be a string, got a boolean",
    ]


def test_numeric_external_ids_are_read_as_strings():
    result = parse_jsonl(jsonl({"external_id": 1234, "text": "t"}))
    assert result.records[0]["external_id"] == "1234"


def test_unknown_fields_are_refused_with_a_hint():
    result = parse_jsonl(jsonl({"external_id": "a1", "body": "t", "txt": "u"}))
    assert errors_of(result) == [
        "line 1: unknown fields 'body', 'txt' (the fields are external_id, title, text, url, "
        "published_at, meta; put anything else under meta); missing text"
    ]


def test_deeply_nested_json_is_refused():
    deep = '{"external_id": "a1", "text": "t", "meta": {"x": ' + "[" * 5000 + "]" * 5000 + "}}"
    nested = '{"external_id": "a2", "text": "t", "meta": ' + '{"a": ' * 40 + "1" + "}" * 41
    result = parse_jsonl((deep + "\n" + nested).encode())
    messages = errors_of(result)
    assert len(messages) == 2
    assert messages[0].startswith("line 1: ")
    assert "nested" in messages[0]
    assert messages[1] == "line 2: meta is nested more than 32 levels deep"


def test_nan_and_infinity_are_not_json():
    result = parse_jsonl(b'{"external_id": "a1", "text": "t", "meta": {"x": NaN}}')
    assert errors_of(result) == ["line 1: not valid JSON: NaN is not allowed"]


def test_empty_text_is_refused():
    result = parse_jsonl(jsonl(article(text=" \n\t ")))
    assert errors_of(result) == ["line 1: text is empty"]


def test_naive_dates_are_taken_as_utc():
    result = parse_jsonl(jsonl(article(published_at="2024-03-01")))
    assert result.records[0]["published_at"] == datetime(2024, 3, 1, tzinfo=UTC)


def test_empty_file_is_an_error():
    assert errors_of(parse_jsonl(b"\n\n")) == ["no articles found: the file is empty"]


# --- caps -------------------------------------------------------------------------------


def test_oversize_article_is_refused_with_its_size():
    limits = Limits(max_chars=10)
    result = parse_jsonl(jsonl(article("a1", "x" * 10), article("a2", "x" * 11)), limits=limits)
    assert errors_of(result) == [
        "line 2: text is longer than 10 characters (11; the limit is MAX_ARTICLE_CHARS)"
    ]


def test_article_cap_counts_canonical_characters():
    # "e" + combining accent is two code points before NFC and one after.
    limits = Limits(max_chars=3)
    result = parse_jsonl(jsonl(article(text="e\u0301e\u0301e\u0301")), limits=limits)
    assert result.ok, errors_of(result)


def test_too_many_items_stops_with_a_clear_error():
    limits = Limits(max_items=2)
    result = parse_jsonl(jsonl(article("a1"), article("a2"), article("a3")), limits=limits)
    assert errors_of(result) == [
        "line 3: more than 2 articles in one upload; the limit is 2 (MAX_IMPORT_ITEMS). "
        "Split the file."
    ]
    result = parse_json(json.dumps([article("a1"), article("a2"), article("a3")]), limits=limits)
    assert errors_of(result) == [
        "3 articles in one upload; the limit is 2 (MAX_IMPORT_ITEMS). Split the file."
    ]


def test_oversize_upload_is_refused_before_parsing():
    result = parse(b"x" * 2048, name="big.jsonl", limits=Limits(max_bytes=1024))
    assert result.too_large
    assert errors_of(result) == [
        "the upload is 2.0 KiB; the limit is 1.0 KiB (MAX_UPLOAD_BYTES). "
        "Split it into smaller files."
    ]


# --- JSON arrays ------------------------------------------------------------------------


def test_json_array_errors_name_the_index():
    data = json.dumps([article("a1"), {"external_id": "a2"}, "text", article("a1")])
    result = parse_json(data)
    assert errors_of(result) == [
        "index 1: missing text",
        "index 2: each item must be a JSON object, got a string",
        "index 3: external_id 'a1' appears twice (first at index 0)",
    ]
    assert result.errors[0].as_dict() == {"index": 1, "detail": "missing text"}


def test_json_syntax_error_names_line_and_column():
    result = parse_json('[\n  {"external_id": "a1", "text": "t"},\n  {"external_id": }\n]')
    assert errors_of(result) == ["line 3: not valid JSON: Expecting value (column 19)"]


def test_a_single_json_object_is_one_article():
    result = parse_json(json.dumps(article("a1"), indent=2))
    assert [r["external_id"] for r in result.records] == ["a1"]


def test_json_that_is_not_an_array_is_refused():
    assert errors_of(parse_json("42")) == ["expected a JSON array of article objects, got a number"]
    assert errors_of(parse_json("[]")) == ["no articles found: the array is empty"]


# --- plain text and folders -------------------------------------------------------------


def test_txt_id_is_the_file_stem_and_title_the_first_line():
    result = parse_txt(b"\n\n  Headline here \nBody.\n", name="2024-03-01 story.txt")
    record = result.records[0]
    assert record["external_id"] == "2024-03-01 story"
    assert record["title"] == "Headline here"
    assert record["text"] == "\n\n  Headline here \nBody.\n"


def test_folder_reads_every_txt_file_in_name_order(tmp_path: Path):
    (tmp_path / "b.txt").write_text("Second\nbody", encoding="utf-8")
    (tmp_path / "a.txt").write_text("First\nbody", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("ignored", encoding="utf-8")
    result = parse_folder(tmp_path)
    assert result.ok
    assert [(r["external_id"], r["title"]) for r in result.records] == [
        ("a", "First"),
        ("b", "Second"),
    ]


def test_folder_errors_name_each_file(tmp_path: Path):
    (tmp_path / "good.txt").write_text("Fine", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Title\nCaf\xe9".encode("latin-1"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "long.txt").write_text("x" * 20, encoding="utf-8")
    result = parse_folder(tmp_path, limits=Limits(max_chars=10, max_items=None, max_bytes=None))
    assert errors_of(result) == [
        "empty.txt: text is empty",
        "latin1.txt: not valid UTF-8 at line 2, column 4 (byte 0xe9); "
        "save the file as UTF-8 and try again",
        "long.txt: text is longer than 10 characters (20; the limit is MAX_ARTICLE_CHARS)",
    ]


def test_empty_folder_is_an_error(tmp_path: Path):
    assert errors_of(parse_folder(tmp_path)) == [f"no .txt files in {tmp_path}"]


# --- format detection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.jsonl", b'{"external_id": "a"}', "jsonl"),
        ("a.ndjson", b'{"external_id": "a"}', "jsonl"),
        ("a.json", b'[{"external_id": "a"}]', "json"),
        ("a.txt", b'{"looks": "like json"}', "txt"),
        ("", b'\xef\xbb\xbf  [{"external_id": "a"}]', "json"),
        ("", b'{"external_id": "a"}\n{"external_id": "b"}', "jsonl"),
        ("", b'{\n  "external_id": "a"\n}', "json"),
        ("upload", b"Just a headline\n\nAnd a body.", "txt"),
        ("a.json", b'{"external_id": "a"}\n{"external_id": "b"}', "jsonl"),
        ("a.jsonl", b'{"external_id": \n', "jsonl"),
    ],
)
def test_format_is_detected_by_extension_then_content(name, data, expected):
    assert detect_format(name, data) == expected


def test_sample_files_parse_cleanly():
    for name in ("articles.jsonl", "articles.json"):
        result = parse((SAMPLES / name).read_bytes(), name=name)
        assert result.ok, errors_of(result)
        assert result.records
    assert parse_folder(SAMPLES / "txt").ok


def test_parse_record_reports_every_problem_of_one_item():
    with pytest.raises(ValueError, match="missing external_id; missing text"):
        parse_record({})


def test_generated_ids_follow_the_text():
    assert generated_id("Same text.") == generated_id("Same text.")
    assert generated_id("Same text.") != generated_id("Other text.")
    assert generated_id("Same text.").startswith("text-")


def test_progress_is_reported_per_article():
    seen: list[int] = []
    parse_jsonl(jsonl(article("a1"), article("a2"), article("a3")), progress=seen.append)
    assert sum(seen) == 3


# --- the fast paths give what the plain ones give ----------------------------------------

TRICKY_TEXTS = [
    "Plain ASCII, as most news is.",
    "Tabs\tand\nnewlines\n\nkept.",
    "Windows\r\nline\r\nends\r\n",
    "Old Mac\rline ends\r",
    "\ufeffA BOM first.",
    "Caf\u0065\u0301 (decomposed) and caf\u00e9 (composed).",
    "\u0627\u0644\u062c\u064a\u0634 \u0642\u0635\u0641 \u062d\u0644\u0628",  # Arabic
    "Emoji \U0001f600 and a flag \U0001f1fa\U0001f1e6 and ZWJ \U0001f469\u200d\U0001f52c.",
    "Hangul jamo \u1100\u1161\u11a8 compose.",
    "NEL\u0085 and \u2028 line separators stay.",
    "A NUL \x00 inside.",
    "A lone \ud800 surrogate.",
    "   ",
]


def reference_text(text: str) -> str:
    """The text as the plain path canonicalises it, or its error."""
    from annotate.text import TextError, canonicalize

    try:
        canonical = canonicalize(text)
    except TextError as exc:
        return f"error: text {exc.reason}"
    return canonical if canonical.strip() else "error: text is empty"


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_text_is_what_canonicalize_makes_of_it(text):
    try:
        got = parse_record({"external_id": "a1", "text": text})["text"]
    except ValueError as exc:
        got = f"error: {exc}"
    assert got == reference_text(text)


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_a_jsonl_upload_reads_texts_as_a_json_parser_does(text):
    data = json.dumps({"external_id": "a1", "text": text}).encode()
    result = parse_jsonl(data + b"\n" + jsonl(article("a2")))
    expected = reference_text(text)
    if expected.startswith("error: "):
        assert errors_of(result) == [f"line 1: {expected.removeprefix('error: ')}"]
    else:
        assert result.records[0]["text"] == expected


@pytest.mark.parametrize(
    ("external_id", "refused"),
    [
        ("plain-1", False),
        ("with space", False),
        ("caf\u00e9-\u0645", False),
        ("tab\there", True),
        ("bell\x07", True),
        ("del\x7f", True),
        ("caf\u00e9\x01", True),
        ("n\u0085el", True),
    ],
)
def test_control_characters_in_external_ids_are_refused(external_id, refused):
    result = parse_jsonl(jsonl(article(external_id)))
    if refused:
        assert errors_of(result) == ["line 1: external_id contains a control character"]
    else:
        assert result.records[0]["external_id"] == external_id


def test_a_bom_at_the_start_of_a_later_line_is_an_error():
    result = parse_jsonl(jsonl(article("a1")) + b"\n\xef\xbb\xbf" + jsonl(article("a2")))
    assert errors_of(result) == [
        "line 2: not valid JSON: Unexpected UTF-8 BOM (decode using utf-8-sig) (column 1)"
    ]


def test_one_bad_utf8_line_names_it_and_still_checks_the_others():
    data = jsonl(article("a1")) + b"\n" + b'{"external_id": "a2", "text": "x\xff"}\n'
    data += jsonl(article("a3", text=""))
    assert errors_of(parse_jsonl(data)) == [
        "line 2: not valid UTF-8 at column 33 (byte 0xff); save the file as UTF-8 and try again",
        "line 3: text is empty",
    ]


def test_a_repeated_id_names_where_it_first_was():
    result = parse_jsonl(jsonl(article("a1"), article("a2"), article("a1")))
    assert errors_of(result) == ["line 3: external_id 'a1' appears twice (first at line 1)"]
    result = parse_json(json.dumps([article("a1"), article("a1")]))
    assert errors_of(result) == ["index 1: external_id 'a1' appears twice (first at index 0)"]
