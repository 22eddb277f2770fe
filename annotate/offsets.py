"""Offsets: code points (the stored unit) versus UTF-16 code units (the browser's). Pure.

The browser's DOM Range counts UTF-16 code units; Python's ``str`` counts code points.
They differ by one for every astral character (emoji, some CJK) before the offset.
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


def _is_word_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    # Letters, marks (combining accents, Arabic vowel signs) and numbers belong to words.
    return category[0] in "LMN"


def _is_edge_trim(ch: str) -> bool:
    """Characters a selection should not start or end with: space and punctuation."""
    category = unicodedata.category(ch)
    return category[0] in "ZPS" or ch in "\n\t\r" or category == "Cc"


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Snap a selection to whole words: widen to word boundaries, trim space and punctuation.

    A selection that starts or ends inside a word grows to take the whole word; spaces and
    punctuation at either edge are dropped. Returns the selection unchanged if trimming would
    leave nothing (a selection of only punctuation stays as it was).
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
    while s > 0 and _is_word_char(text[s - 1]) and _is_word_char(text[s]):
        s -= 1
    while e < len(text) and _is_word_char(text[e]) and _is_word_char(text[e - 1]):
        e += 1
    return s, e
