"""Offsets between the browser (UTF-16 code units) and storage (code points), and word snapping."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from annotate.offsets import (
    OffsetError,
    from_utf16,
    is_cluster_boundary,
    snap_to_words,
    to_utf16,
    utf16_length,
)

# Text a newsroom sees: letters of many scripts, emoji (astral, with modifiers and joiners),
# combining marks, spaces, punctuation, line breaks; plus any Unicode at all.
newsroom_chars = st.sampled_from(
    list("abcXYZ019 ,.;:!?'\"()-\n\t")
    + ["\u00a0", "\u2014", "\u00ab", "\u00bb", "$", "\u00b0"]
    + list("العراقبغداد،؟")  # Arabic letters and punctuation
    + ["\u064e", "\u0651", "\u0301", "\u0308"]  # Arabic harakat, combining accents
    + ["\U0001f469", "\U0001f3fd", "\u200d", "\u2695", "\ufe0f", "\U0001f680"]  # emoji parts
    + ["\U0001f1ee", "\U0001f1f6"]  # regional indicators (flags)
    + list("北京東京ไทย")  # scripts without spaces
    + ["\U00020000", "\U0001d400"]  # astral letters
)
any_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=60)
news_text = st.text(newsroom_chars, min_size=1, max_size=60)
texts = st.one_of(news_text, any_text)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@st.composite
def text_and_selection(draw, strategy=texts):
    text = draw(strategy)
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    return text, start, end


# UTF-16 <-> code points


@given(text=texts, data=st.data())
def test_utf16_offset_counts_the_code_units_before_it(text, data):
    offset = data.draw(st.integers(0, len(text)))
    assert to_utf16(text, offset) == utf16_units(text[:offset])


@given(text=texts, data=st.data())
def test_from_utf16_inverts_to_utf16(text, data):
    offset = data.draw(st.integers(0, len(text)))
    assert from_utf16(text, to_utf16(text, offset)) == offset


@given(text=texts)
def test_every_utf16_offset_is_a_character_boundary_or_refused(text):
    units = text.encode("utf-16-le")
    for unit in range(utf16_length(text) + 1):
        prefix = units[: 2 * unit]
        try:
            point = from_utf16(text, unit)
        except OffsetError:
            # Refused only between the two halves of a surrogate pair.
            assert 0xD800 <= int.from_bytes(prefix[-2:], "little") <= 0xDBFF
        else:
            assert text[:point] == prefix.decode("utf-16-le")


@given(text=texts)
def test_utf16_length_is_what_the_browser_counts(text):
    assert utf16_length(text) == utf16_units(text)
    assert to_utf16(text, len(text)) == utf16_units(text)


def test_emoji_count_twice_in_utf16():
    text = "Dr 👩🏽‍⚕️ launched 🚀 here"
    rocket = text.index("🚀")
    assert to_utf16(text, rocket) == rocket + 2  # 👩 and 🏽 are astral; ZWJ, ⚕ and FE0F are not
    assert from_utf16(text, rocket + 2) == rocket
    assert from_utf16(text, rocket + 4) == rocket + 1


def test_middle_of_a_surrogate_pair_is_refused():
    with pytest.raises(OffsetError, match="surrogate pair"):
        from_utf16("a🚀b", 2)


@pytest.mark.parametrize("offset", [-1, 5])
def test_offsets_outside_the_text_are_refused(offset):
    with pytest.raises(OffsetError, match="outside"):
        from_utf16("a🚀b", offset)
    with pytest.raises(OffsetError, match="outside"):
        to_utf16("abc", offset if offset < 0 else 4)


# Word snapping: examples


@pytest.mark.parametrize(
    "text, selected, expected",
    [
        ("Iraq's Prime Minister", " Prime Minis", "Prime Minister"),
        ("Iraq's Prime Minister", "Iraq'", "Iraq"),
        ("Iraq's Prime Minister", "raq", "Iraq"),
        ("(Mustafa al-Kadhemi),", "(Mustafa al-Kad", "Mustafa al-Kadhemi"),
        # Hyphens and apostrophes between letters are inside a name; a possessive is not.
        ("the town of Al-Mayadeen in", "Mayadeen", "Al-Mayadeen"),
        ("the town of Al-Mayadeen in", "Al", "Al-Mayadeen"),
        ("Mustafa al-Kadhemi said", "al", "al-Kadhemi"),
        ("Minister Mustafa al\u2011Kadhemi said", "Kadhemi", "al\u2011Kadhemi"),
        ("reached N'Djamena on", "Djamena", "N'Djamena"),
        ("reached N\u2019Djamena on", "N", "N\u2019Djamena"),
        ("Iraq's Prime Minister", "Iraq's", "Iraq"),
        ("Iraq\u2019s Prime Minister", "Iraq\u2019s", "Iraq"),
        ("Iraq's Prime Minister", "Iraq", "Iraq"),
        ("Iraq's Prime Minister", "Iraq's Prime", "Iraq's Prime"),
        ("Syria's Al-Omar oil field", "Syria's Al-Om", "Syria's Al-Omar"),
        ("BAGHDAD\u2014The minister", "BAGHDAD", "BAGHDAD"),  # a dash is not a hyphen
        ("wounded - at least", "wounded -", "wounded"),
        ("said: «Baghdad»  today", "«Baghdad»  ", "Baghdad"),
        ("killed $5 million", " $5 mil", "$5 million"),
        ("it was 40°C here", "40°C h", "40°C here"),
        ("it was 40° here", "40°", "40°"),  # symbols are kept, never widened into
        ("caf\u0065\u0301 noir", "caf", "cafe\u0301"),  # keeps the combining accent
        ("قال رئيس الوزراء، اليوم", "رئيس الوز", "رئيس الوزراء"),
        ("الوزراء، اليوم", "الوزراء،", "الوزراء"),  # Arabic comma trimmed
        ("Dr 👩🏽‍⚕️ arrived", "👩", "👩🏽‍⚕️"),  # whole emoji sequence
        ("Dr 👩🏽‍⚕️ arrived", "🏽‍⚕️ arr", "👩🏽‍⚕️ arrived"),
        ("flag 🇮🇶 here", "🇶", "🇮🇶"),
        ("line one\nline two", "one\nline", "one\nline"),
        ("我在北京工作", "北京", "北京"),  # no spaces between words: kept as selected
        ("a <b>bold</b> &amp; more", "<b>bo", "<b>bold"),
        ("a <b>bold</b> &amp; more", " &amp; ", "amp"),
    ],
)
def test_snap_examples(text, selected, expected):
    start = text.index(selected)
    s, e = snap_to_words(text, start, start + len(selected))
    assert text[s:e] == expected


def test_selection_of_only_space_and_punctuation_is_returned_unchanged():
    assert snap_to_words("a , b", 1, 4) == (1, 4)
    assert snap_to_words("a   b", 1, 3) == (1, 3)


@pytest.mark.parametrize("start, end", [(-1, 2), (2, 2), (3, 2), (0, 99)])
def test_selection_outside_the_text_is_refused(start, end):
    with pytest.raises(OffsetError):
        snap_to_words("abc def", start, end)


# Word snapping: properties


def trimmed(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "ZP" or cat == "Cc" or (cat == "Cf" and ch != "\u200d")


def wordy(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


@given(text_and_selection())
@example(("Iraq's Prime Minister", 8, 12))
@example(("e\u0301e\u0301 x", 1, 2))
@example(("👩🏽‍⚕️", 2, 4))
def test_snapped_selection_stays_inside_the_text(case):
    text, start, end = case
    s, e = snap_to_words(text, start, end)
    assert 0 <= s < e <= len(text)


@given(text_and_selection())
def test_snapping_is_idempotent(case):
    text, start, end = case
    once = snap_to_words(text, start, end)
    assert snap_to_words(text, *once) == once


@given(text_and_selection())
def test_snapped_selection_keeps_every_word_character_selected(case):
    text, start, end = case
    s, e = snap_to_words(text, start, end)
    inside = [i for i in range(start, end) if not trimmed(text[i])]
    if inside:
        possessive = text[e : e + 2] in ("'s", "\u2019s", "'S", "\u2019S")
        assert s <= inside[0] and (inside[-1] < e or possessive and inside[-1] == e + 1)


@given(text_and_selection())
def test_snapped_selection_does_not_start_or_end_with_space_or_punctuation(case):
    text, start, end = case
    s, e = snap_to_words(text, start, end)
    assume(any(not trimmed(ch) for ch in text[start:end]))
    # A space or punctuation mark stays only as part of a larger user-perceived character
    # (a colon with a variation selector, a joiner inside an emoji sequence).
    assert not trimmed(text[s]) or not is_cluster_boundary(text, s + 1)
    assert not trimmed(text[e - 1]) or not is_cluster_boundary(text, e - 1)


def ascii_or_arabic(ch: str) -> bool:
    return ch.isascii() or "\u0600" <= ch <= "\u06ff" or unicodedata.category(ch) == "Mn"


@given(text_and_selection(news_text))
def test_snapped_selection_never_cuts_a_word_in_a_spaced_script(case):
    text, start, end = case
    s, e = snap_to_words(text, start, end)
    if s > 0 and ascii_or_arabic(text[s - 1]) and ascii_or_arabic(text[s]):
        assert not (wordy(text[s - 1]) and wordy(text[s]))
    if e < len(text) and ascii_or_arabic(text[e - 1]) and ascii_or_arabic(text[e]):
        assert not (wordy(text[e - 1]) and wordy(text[e]))


@given(text_and_selection())
def test_snapped_selection_never_splits_a_user_perceived_character(case):
    text, start, end = case
    s, e = snap_to_words(text, start, end)
    if (s, e) != (start, end) or (
        is_cluster_boundary(text, start) and is_cluster_boundary(text, end)
    ):
        assert is_cluster_boundary(text, s) and is_cluster_boundary(text, e)


@given(text_and_selection())
def test_snapped_offsets_survive_the_trip_through_utf16(case):
    text, start, end = case
    s, e = snap_to_words(text, start, end)
    assert from_utf16(text, to_utf16(text, s)) == s
    assert text[s:e] == text.encode("utf-16-le")[
        2 * to_utf16(text, s) : 2 * to_utf16(text, e)
    ].decode("utf-16-le")
