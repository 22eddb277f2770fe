"""Finding known phrases in a text on whole words (annotate.assistance.matching): pure."""

from __future__ import annotations

import random
import unicodedata

from annotate.assistance.matching import (
    Match,
    Phrase,
    PhraseIndex,
    _no_space,
    ends_word,
    first_word,
    starts_word,
    tokenize,
    word_bounds,
    words,
)


def found(text: str, *phrases: tuple[str, str]) -> list[tuple[str, str]]:
    index = PhraseIndex(Phrase(t, label) for t, label in phrases)
    matches = index.find(text)
    for m in matches:
        assert text[m.start : m.end] == m.text
    return [(m.text, m.label) for m in matches]


def test_words_are_runs_of_letters_marks_and_numbers():
    assert words("Rebels shelled Aleppo, 12 dead.") == ("Rebels", "shelled", "Aleppo", "12", "dead")
    assert [(t.start, t.end) for t in tokenize("a bc")] == [(0, 1), (2, 4)]


def test_combining_marks_and_arabic_vowel_signs_stay_inside_words():
    assert words("Cafe\u0301 ok") == ("Cafe\u0301", "ok")
    assert words("بَغْدَاد مدينة") == ("بَغْدَاد", "مدينة")


def test_a_mark_on_no_letter_is_not_a_word():
    assert words("👍\u0301 ok -\u0301") == ("ok",)
    assert words("\u0301a b") == ("\u0301a", "b")


def test_each_character_of_a_script_without_spaces_is_a_word():
    assert words("北京市") == ("北", "京", "市")


def test_first_word_of_a_phrase_skips_leading_punctuation():
    assert first_word("(Kataeb Hezbollah)") == "Kataeb"
    assert first_word("—") is None


def test_a_phrase_matches_on_whole_words_only():
    assert found("Hezbollahi and Hezbollah.", ("Hezbollah", "ACTOR")) == [("Hezbollah", "ACTOR")]
    assert found("Bagdad Baghdad", ("Bag", "LOCATION")) == []


def test_matching_is_exact_including_case_and_what_lies_between_words():
    text = "kataeb hezbollah, Kataeb  Hezbollah, Kataeb Hezbollah"
    assert found(text, ("Kataeb Hezbollah", "ACTOR")) == [("Kataeb Hezbollah", "ACTOR")]


def test_overlapping_and_nested_phrases_are_all_found():
    text = "Kataeb Hezbollah fighters"
    matches = PhraseIndex(
        [
            Phrase("Kataeb Hezbollah", "ACTOR"),
            Phrase("Hezbollah", "ACTOR"),
            Phrase("Hezbollah fighters", "ACTOR"),
            Phrase("Hezbollah", "SOURCE"),
        ]
    ).find(text)
    assert matches == [
        Match(0, 16, "Kataeb Hezbollah", "ACTOR"),
        Match(7, 16, "Hezbollah", "ACTOR"),
        Match(7, 16, "Hezbollah", "SOURCE"),
        Match(7, 25, "Hezbollah fighters", "ACTOR"),
    ]


def test_a_hyphenated_name_is_one_word():
    text = "Prime Minister al-Kadhemi met Kadhemi's aide."
    phrases = [("al-Kadhemi", "ACTOR"), ("Kadhemi", "SOURCE"), ("al", "X")]
    # "Kadhemi" is not a whole word of "al-Kadhemi", nor "al"; a possessive may follow.
    assert found(text, *phrases) == [("al-Kadhemi", "ACTOR"), ("Kadhemi", "SOURCE")]
    assert found("al Kadhemi", ("al-Kadhemi", "ACTOR")) == []


def test_a_possessive_may_follow_a_phrase_but_other_endings_may_not():
    assert found("Iraq's army", ("Iraq", "LOCATION")) == [("Iraq", "LOCATION")]
    assert found("Iraq’s army", ("Iraq", "LOCATION")) == [("Iraq", "LOCATION")]
    assert found("Iraq'sx army", ("Iraq", "LOCATION")) == []
    assert found("O'Brien", ("O", "ACTOR")) == []


def test_phrases_with_punctuation_at_their_edges_match_exactly():
    text = "U.S. forces and (ISIS) and U.S forces"
    phrases = [("U.S.", "LOCATION"), ("(ISIS)", "ACTOR")]
    assert found(text, *phrases) == [("U.S.", "LOCATION"), ("(ISIS)", "ACTOR")]


def test_emoji_around_a_phrase_do_not_break_offsets_or_words():
    text = "👍🏽Baghdad 🇮🇶 Baghdad👍"
    matches = PhraseIndex([Phrase("Baghdad", "LOCATION")]).find(text)
    assert [(m.start, m.end) for m in matches] == [(2, 9), (13, 20)]
    assert all(text[m.start : m.end] == "Baghdad" for m in matches)


def test_arabic_with_vowel_signs_matches_only_the_same_marks():
    text = "وصل إلى بَغْدَاد ثم إلى بغداد"
    assert found(text, ("بغداد", "LOCATION")) == [("بغداد", "LOCATION")]
    assert found(text, ("بَغْدَاد", "LOCATION")) == [("بَغْدَاد", "LOCATION")]


def test_a_phrase_never_starts_inside_a_user_perceived_character():
    # "e" + combining acute: a phrase "e" would cut the accented letter.
    text = "e\u0301 e"
    assert not ends_word(text, 1)
    assert starts_word(text, 3)
    assert found(text, ("e", "X")) == [("e", "X")]


def test_many_phrases_that_cannot_occur_do_not_get_in_the_way():
    phrases = [Phrase(f"Name{i} Other{i}", "ACTOR") for i in range(50_000)]
    index = PhraseIndex([*phrases, Phrase("Aleppo", "LOCATION")])
    assert index.size == 50_001
    assert index.find("Rebels shelled Aleppo.") == [Match(15, 21, "Aleppo", "LOCATION")]


def test_word_bounds_follow_their_definition_character_by_character():
    """The regular expression gives the words the definition gives: runs of letters, marks
    and numbers that hold a letter or number, each no-space-script character on its own."""

    def by_definition(text: str) -> list[tuple[int, int]]:
        runs, start = [], -1
        for i, ch in enumerate(text):
            if unicodedata.category(ch)[0] in "LMN":
                if _no_space(ch):
                    if start >= 0:
                        runs.append((start, i))
                    runs.append((i, i + 1))
                    start = -1
                elif start < 0:
                    start = i
            elif start >= 0:
                runs.append((start, i))
                start = -1
        if start >= 0:
            runs.append((start, len(text)))
        return [
            (s, e) for s, e in runs if any(unicodedata.category(c)[0] in "LN" for c in text[s:e])
        ]

    alphabet = "ab \u0301\u064e-'_.9١北京ไทย👍🏽é\U0001d165"
    rng = random.Random(15)
    for _ in range(5_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert word_bounds(text) == by_definition(text), repr(text)
