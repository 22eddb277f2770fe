"""Offsets: code points (the stored unit) versus UTF-16 code units (the browser's). Pure.

The browser's DOM Range counts UTF-16 code units; Python's ``str`` counts code points.
They differ by one for every astral character (emoji, some CJK) before the offset.

:func:`snap_to_words` turns a rough mouse selection into the span an editor meant: whole
words, no surrounding space or punctuation, never half of a user-perceived character. As the
guidelines say, a hyphen or an apostrophe between two letters stays inside a name
("al-Kadhemi", "Al-Mayadeen", "N'Djamena"), and a possessive "'s" at the end is left out
("[LOCATION Iraq]'s Prime Minister"). ``static/js/offsets.js`` implements the same rule for
the page's instant highlight; the server stays the authority.
"""

from __future__ import annotations

import bisect
import unicodedata
from functools import lru_cache


class OffsetError(ValueError):
    """An offset that does not fall on a character of the text."""


@lru_cache(maxsize=64)
def _astral_positions(text: str) -> tuple[int, ...]:
    """Code-point indices of the characters outside the Basic Multilingual Plane."""
    return tuple(i for i, ch in enumerate(text) if ord(ch) > 0xFFFF)


def utf16_length(text: str) -> int:
    """How many UTF-16 code units the browser counts in `text`."""
    return len(text) + len(_astral_positions(text))


def to_utf16(text: str, offset: int) -> int:
    """The UTF-16 offset of code-point offset `offset` (0..len(text))."""
    if not 0 <= offset <= len(text):
        raise OffsetError(f"offset {offset} is outside the text (0..{len(text)})")
    return offset + bisect.bisect_left(_astral_positions(text), offset)


def from_utf16(text: str, offset: int) -> int:
    """The code-point offset of UTF-16 offset `offset`; refuses the middle of a surrogate pair."""
    astral = _astral_positions(text)
    total = len(text) + len(astral)
    if not 0 <= offset <= total:
        raise OffsetError(f"offset {offset} is outside the text (0..{total} UTF-16 units)")
    # Astral character k (0-based, at code point p) occupies UTF-16 units p+k and p+k+1.
    lo, hi = 0, len(astral)
    while lo < hi:
        mid = (lo + hi) // 2
        if astral[mid] + mid < offset:
            lo = mid + 1
        else:
            hi = mid
    # `lo` astral characters start strictly before `offset`.
    if lo and astral[lo - 1] + (lo - 1) + 1 == offset:
        raise OffsetError(f"UTF-16 offset {offset} falls inside a surrogate pair")
    return offset - lo


ZWJ = "\u200d"

# Scripts written without spaces between words: widening a selection "to the whole word"
# there would swallow the sentence, so selections in them are kept as the editor made them.
_NO_SPACE_SCRIPTS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3005, 0x3007),  # CJK iteration marks
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def _in_no_space_script(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _NO_SPACE_SCRIPTS)


def _is_word_char(ch: str) -> bool:
    # Letters, marks (combining accents, Arabic vowel signs) and numbers belong to words.
    return unicodedata.category(ch)[0] in "LMN"


def _joins_words(left: str, right: str) -> bool:
    """Whether `left` and `right` side by side are inside one word (so no boundary between)."""
    return (
        _is_word_char(left)
        and _is_word_char(right)
        and not (_in_no_space_script(left) or _in_no_space_script(right))
    )


# Punctuation that joins two words into one name: hyphens and apostrophes.
WORD_JOINERS = frozenset("-\u2010\u2011'\u2019")
POSSESSIVE_ENDINGS = ("'s", "\u2019s", "'S", "\u2019S")


def _joined_across(text: str, offset: int) -> bool:
    """Whether `offset` is next to a hyphen or apostrophe that joins two words into one."""
    n = len(text)
    if 0 < offset < n - 1 and text[offset] in WORD_JOINERS:
        return _joins_words(text[offset - 1], text[offset + 1])
    if 1 < offset < n and text[offset - 1] in WORD_JOINERS:
        return _joins_words(text[offset - 2], text[offset])
    return False


def _is_edge_trim(ch: str) -> bool:
    """Characters a selection should not start or end with: spaces, punctuation, controls.

    Symbols stay: "$" in "$5 million", "°" in "40°C", an emoji the editor chose.
    """
    category = unicodedata.category(ch)
    return category[0] in "ZP" or category == "Cc" or (category == "Cf" and ch != ZWJ)


def _extends_previous(ch: str) -> bool:
    """Characters that belong to the character before them in one user-perceived character:
    combining marks, the zero-width joiner, variation selectors, emoji skin-tone modifiers
    and emoji tag characters (an approximation of Unicode's grapheme-cluster rules)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch)[0] == "M"
        or ch == ZWJ
        or 0xFE00 <= cp <= 0xFE0F
        or 0xE0100 <= cp <= 0xE01EF
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def is_cluster_boundary(text: str, offset: int) -> bool:
    """Whether `offset` falls between two user-perceived characters (not inside an accented
    letter, an emoji sequence or a flag)."""
    if offset <= 0 or offset >= len(text):
        return True
    before, after = text[offset - 1], text[offset]
    if _extends_previous(after) or before == ZWJ:
        return False
    if _is_regional_indicator(before) and _is_regional_indicator(after):
        # Flags are pairs: a boundary only after an even run of regional indicators.
        run = 0
        i = offset - 1
        while i >= 0 and _is_regional_indicator(text[i]):
            run += 1
            i -= 1
        return run % 2 == 0
    return before != "\r" or after != "\n"


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Snap a selection to whole words: widen to word boundaries, trim space and punctuation.

    A selection that starts or ends inside a word grows to take the whole word (except in
    scripts written without spaces: Chinese, Japanese, Thai...); a hyphen or apostrophe
    between letters is inside the word ("al-Kadhemi"), but a possessive "'s" that ends the
    selection is dropped ("Iraq's" -> "Iraq"); spaces and punctuation at either edge are
    dropped; the result never splits a user-perceived character (an accented letter, an
    emoji sequence, a flag). A selection with nothing but space and punctuation comes back
    as it was, so the caller can refuse it.
    """
    if not 0 <= start < end <= len(text):
        raise OffsetError(f"selection {start}:{end} is not inside the text (0..{len(text)})")
    s, e = start, end
    while s < e and _is_edge_trim(text[s]):
        s += 1
    while e > s and _is_edge_trim(text[e - 1]):
        e -= 1
    if s == e:
        return start, end
    while s > 0 and _inside(text, s):
        s -= 1
    while e < len(text) and _inside(text, e):
        e += 1
    if e - s > 2 and text[e - 2 : e] in POSSESSIVE_ENDINGS and _is_word_char(text[e - 3]):
        e -= 2
    return s, e


def _inside(text: str, offset: int) -> bool:
    """Whether `offset` cuts a word (hyphenated and apostrophe names included) or a
    user-perceived character."""
    return (
        _joins_words(text[offset - 1], text[offset])
        or _joined_across(text, offset)
        or not is_cluster_boundary(text, offset)
    )
