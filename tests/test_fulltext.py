"""Search queries as typed in the box, written for FTS5 and PostgreSQL; snippets as HTML."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotate.fulltext import (
    HIT_END,
    HIT_START,
    MAX_QUERY_CHARS,
    QueryError,
    Term,
    fts5_match,
    mark_snippet,
    parse,
    websearch,
)


def test_words_are_all_required():
    query = parse("Aleppo shelling")
    assert query.alternatives == ((Term("Aleppo"), Term("shelling")),)
    assert fts5_match(query) == '("Aleppo" AND "shelling")'
    assert websearch(query) == '"Aleppo" "shelling"'


def test_a_quoted_phrase_is_one_term():
    query = parse('"Kataeb  Hezbollah" Baghdad')
    assert query.alternatives[0][0] == Term("Kataeb Hezbollah", phrase=True)
    assert fts5_match(query) == '("Kataeb Hezbollah" AND "Baghdad")'


def test_an_unclosed_quote_runs_to_the_end():
    assert parse('"killed in Homs').alternatives == ((Term("killed in Homs", phrase=True),),)


def test_minus_excludes_a_word_or_a_phrase():
    query = parse('Aleppo -Homs -"air strike"')
    assert fts5_match(query) == '((("Aleppo") NOT "Homs") NOT "air strike")'
    assert websearch(query) == '"Aleppo" -"Homs" -"air strike"'


def test_or_binds_more_loosely_than_and():
    query = parse("Aleppo shelling or Homs OR Idlib")
    assert fts5_match(query) == '("Aleppo" AND "shelling") OR ("Homs") OR ("Idlib")'
    assert websearch(query) == '"Aleppo" "shelling" or "Homs" or "Idlib"'


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("AND", '("AND")'),
        ("NOT Homs", '("NOT" AND "Homs")'),
        ("NEAR(Aleppo Homs)", '("NEAR(Aleppo" AND "Homs)")'),
        ("Hom*", '("Hom*")'),
        ('say "she said ""no"""', '("say" AND "she said" AND "no")'),
        ("title:Aleppo", '("title:Aleppo")'),
        ("{text}: x", '("{text}:" AND "x")'),
    ],
)
def test_engine_syntax_is_plain_text(raw, expected):
    assert fts5_match(parse(raw)) == expected


def test_a_quote_inside_a_word_is_doubled_for_fts5_and_dropped_for_postgres():
    query = parse('al"Qaeda')
    assert fts5_match(query) == '("al""Qaeda")'
    assert websearch(query) == '"al Qaeda"'


@pytest.mark.parametrize("raw", ["", "   ", '"', '""', "*", "- -", "(", "-Homs", "or", "Homs or"])
def test_nothing_to_look_for_is_refused_or_dropped(raw):
    if raw == "Homs or":
        assert parse(raw).words == ["Homs"]
        return
    with pytest.raises(QueryError, match="at least one word"):
        parse(raw)


def test_a_part_with_only_excluded_words_is_dropped():
    assert fts5_match(parse("Aleppo or -Homs")) == '("Aleppo")'


def test_too_long_or_too_many_words_is_refused():
    with pytest.raises(QueryError, match="too long"):
        parse("a" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(QueryError, match="too many words"):
        parse(" ".join(["w"] * 33))


def test_any_script_is_a_word():
    query = parse("بغداد 北京 Ελλάδα")
    assert query.words == ["بغداد", "北京", "Ελλάδα"]


@given(st.text(max_size=80))
def test_any_input_is_quoted_or_refused(raw):
    try:
        query = parse(raw)
    except QueryError:
        return
    match = fts5_match(query)
    # Outside the quoted strings only our own operators and parentheses remain.
    outside = "".join(match.split('"')[0::2]).replace("AND", "").replace("NOT", "")
    assert set(outside.replace("OR", "")) <= set("() ")
    assert websearch(query).count('"') % 2 == 0


def test_snippet_hits_are_marked_and_the_text_escaped():
    snippet = f'… the <b>{HIT_START}Aleppo{HIT_END}</b> & "{HIT_START}Homs{HIT_END}" …'
    assert mark_snippet(snippet) == (
        "… the &lt;b&gt;<mark>Aleppo</mark>&lt;/b&gt; &amp; &quot;<mark>Homs</mark>&quot; …"
    )


def test_stray_sentinels_never_leave_a_tag_open():
    assert mark_snippet(f"a{HIT_END}b{HIT_START}c{HIT_START}d") == "ab<mark>cd</mark>"
    assert mark_snippet(f"{HIT_START}{HIT_END}x") == "x"


def test_a_script_in_the_text_stays_text():
    html = mark_snippet(f"<script>alert(1)</script>{HIT_START}<img src=x>{HIT_END}")
    assert "<script" not in html and "<img" not in html
    assert html.endswith("<mark>&lt;img src=x&gt;</mark>")


def test_control_characters_separate_words_and_nul_is_refused():
    assert parse("Aleppo\tHoms\x1b").words == ["Aleppo", "Homs"]
    with pytest.raises(QueryError, match="NUL"):
        parse("Aleppo\x00Homs")
