"""Tokens with code-point offsets, for the CoNLL and spaCy exports. Pure: no Django.

A token is one of:

- a *word*: a run of letters, combining marks, numbers and ``_``, which may hold a joiner
  between two such characters: an apostrophe (``'`` ``’``), a hyphen (``-`` ``‐`` ``‑``),
  or ``.`` ``,`` ``:`` between two digits. So ``al-Assad``, ``don't``, ``3.5``, ``10,000``
  and ``12:30`` are one token each; Arabic or Devanagari words keep their vowel signs.
- otherwise *one visible character* (punctuation, a symbol, an emoji) together with what
  renders with it: combining marks and variation selectors, emoji skin-tone modifiers,
  tag characters, characters glued on by a zero-width joiner, and the second half of a
  regional-indicator flag. So ``👩🏽‍🚒`` and ``🇱🇧`` are one token.

Whitespace (``str.isspace``) separates tokens and never belongs to one.

`cuts` forces token boundaries at extra offsets. The exports pass every span's start and
end, so each span starts and ends on a token boundary whatever the text looks like; a span
that begins in the middle of a word splits that word into two tokens.
"""

from __future__ import annotations

import itertools
import re
import sys
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import NamedTuple


class Token(NamedTuple):
    start: int
    end: int
    text: str


@cache
def _mark_class() -> str:
    """A regex character class body for every combining mark (categories Mn, Mc, Me)."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code))[0] == "M":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


@cache
def _token_re() -> re.Pattern[str]:
    marks = _mark_class()
    word_char = rf"[\w{marks}]"
    joiner = r"(?:['\u2019\-\u2010\u2011]|(?<=\d)[.,:](?=\d))"
    word = rf"{word_char}+(?:{joiner}{word_char}+)*"
    glue = rf"(?:[{marks}\U0001F3FB-\U0001F3FF\U000E0020-\U000E007F]|\u200d\S)"
    other = rf"(?:[\U0001F1E6-\U0001F1FF]{{2}}|\S){glue}*"
    return re.compile(rf"{word}|{other}")


def tokenize(text: str, cuts: Iterable[int] = ()) -> list[Token]:
    """The tokens of `text` in order, with code-point offsets (``text[t.start:t.end] ==
    t.text``), split further at every offset in `cuts`."""
    points = sorted(set(cuts))
    tokens: list[Token] = []
    i, n = 0, len(points)
    for match in _token_re().finditer(text):
        start, end = match.span()
        while i < n and points[i] <= start:
            i += 1
        if i == n or points[i] >= end:
            tokens.append(Token(start, end, match.group()))
            continue
        edges = [start]
        while i < n and points[i] < end:
            edges.append(points[i])
            i += 1
        edges.append(end)
        tokens.extend(Token(a, b, text[a:b]) for a, b in itertools.pairwise(edges))
    return tokens
