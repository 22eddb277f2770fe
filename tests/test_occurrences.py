"""Whole-word occurrences of the selected words, by the page's word-snapping rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotate.occurrences import whole_word_occurrences
from annotate.offsets import snap_to_words


def words(text: str, phrase: str) -> list[str]:
    return [text[s:e] for s, e in whole_word_occurrences(text, phrase)]


def test_every_whole_word_occurrence_is_found_in_text_order():
    text = "Iraq and Iraq, then (Iraq). Iraq"
    assert whole_word_occurrences(text, "Iraq") == [(0, 4), (9, 13), (21, 25), (28, 32)]


def test_a_word_inside_a_longer_word_is_not_an_occurrence():
    assert words("Iraqi forces left Iraq; IRAQ and Iraqis", "Iraq") == ["Iraq"]


def test_matching_is_exact_in_case():
    assert whole_word_occurrences("iraq IRAQ Iraq", "Iraq") == [(10, 14)]


def test_a_possessive_is_not_part_of_the_word():
    text = "Iraq's army and Iraq’s oil; Iraqs"
    assert whole_word_occurrences(text, "Iraq") == [(0, 4), (16, 20)]


def test_hyphenated_names_are_one_word():
    text = "al-Kadhemi met Kadhemi; Kadhemi-led talks"
    assert whole_word_occurrences(text, "Kadhemi") == [(15, 22)]
    assert words(text, "al-Kadhemi") == ["al-Kadhemi"]


def test_a_phrase_of_several_words():
    text = "Kataeb Hezbollah said. Kataeb Hezbollahs. Kataeb  Hezbollah. Kataeb Hezbollah"
    assert whole_word_occurrences(text, "Kataeb Hezbollah") == [(0, 16), (61, 77)]


def test_arabic_words_with_their_prefixes_are_other_words():
    text = "بغداد وبغداد في بغداد، بغدادي"
    # "وبغداد" (and Baghdad) and "بغدادي" (Baghdadi) are other words.
    assert whole_word_occurrences(text, "بغداد") == [(0, 5), (16, 21)]


def test_arabic_with_vowel_marks_is_a_different_string():
    text = "مُحَمَّد ومحمد محمد"
    assert words(text, "محمد") == ["محمد"]


def test_a_match_never_ends_inside_a_combining_accent():
    text = "cafe\u0301 cafe cafe\u0301"
    assert whole_word_occurrences(text, "cafe") == [(6, 10)]
    assert whole_word_occurrences(text, "cafe\u0301") == [(0, 5), (11, 16)]


def test_emoji_sequences_stay_whole():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    text = f"{family} and \U0001f468 and \U0001f468\U0001f3fd"
    assert whole_word_occurrences(text, "\U0001f468") == [(len(family) + 5, len(family) + 6)]
    flags = "\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea"  # FR DE
    assert whole_word_occurrences(flags, "\U0001f1f7\U0001f1e9") == []


def test_scripts_without_spaces_match_anywhere():
    assert whole_word_occurrences("北京和北京", "北京") == [(0, 2), (3, 5)]


def test_occurrences_do_not_overlap():
    assert whole_word_occurrences("a-a a a", "a") == [(4, 5), (6, 7)]
    assert whole_word_occurrences("", "a") == [] and whole_word_occurrences("abc", "") == []


@pytest.mark.parametrize(
    "text, phrase, expected",
    [
        ("$5 then $5, not $50", "$5", 2),
        ("U.S. then U.S., not xU.S.", "U.S.", 2),
        ("40°C then 40°C, not 140°C", "40°C", 2),
        # A symbol is no letter: the word starts after it, as when snapping.
        ("x$5", "$5", 1),
    ],
)
def test_phrases_with_symbols_and_punctuation(text, phrase, expected):
    assert len(whole_word_occurrences(text, phrase)) == expected


ALPHABET = st.sampled_from(list("ab -'’\u0301.") + ["\U0001f468", "\u200d", "ب"])


@given(st.text(ALPHABET, max_size=40), st.integers(0, 40), st.integers(1, 8))
def test_each_occurrence_is_what_snapping_it_gives(text, start, length):
    # The page labels what snapping makes of a selection; every occurrence found is such a
    # snapped selection again: snapping it changes nothing.
    if start >= len(text):
        return
    s, e = snap_to_words(text, start, min(len(text), start + length))
    phrase = text[s:e]
    if not phrase.strip(" -'’."):
        return
    for a, b in whole_word_occurrences(text, phrase):
        assert text[a:b] == phrase
        assert snap_to_words(text, a, b) == (a, b)
