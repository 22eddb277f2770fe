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
def token_pattern() -> re.Pattern[str]:
    """The regex whose matches are the tokens of a text before any cut (built once, on first
    use: listing the combining marks takes about a second)."""
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
    for match in token_pattern().finditer(text):
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


# ASCII text has no combining marks, no joiners but ' - . , : and no emoji sequences, so its
# tokens are the runs of word characters and every other visible character alone, except
# where a joiner holds two runs together: ' or - between word characters, . , : between
# digits. ``_JOINER`` finds the joiners that hold (it starts with the joiner so that the
# search skips ahead fast); while the other symbols are cut off, each of those is disguised
# as a control character that the text does not hold.
_SYMBOLS = [c for c in map(chr, range(128)) if not c.isspace() and not re.match(r"\w", c)]
_JOINER = re.compile(r"[.,:'\-](?:(?<=\w['\-])(?=\w)|(?<=\d[.,:])(?=\d))")
_DISGUISES = [c for c in map(chr, range(32)) if not c.isspace()]


def plain_tokens(text: str, apart: str = "") -> list[str]:
    """The texts of ``tokenize(text)``, without offsets or cuts.

    The same tokens, found faster: ASCII text is cut by ``str.replace`` and ``str.split``
    (see ``_JOINER``); other text is cut at whitespace first (no token holds any) and a
    run of letters and digits is kept whole (it is always one token). The caller may name
    symbols that stand between whitespace wherever they occur (`apart`), which saves
    looking for them."""
    if text.isascii():
        spaced = _spaced(text, apart)
        return token_pattern().findall(text) if spaced is None else spaced.split()
    found: list[str] = []
    keep, extend, match_all = found.append, found.extend, token_pattern().findall
    for run in text.split():
        if run.isalnum():
            keep(run)
        else:
            extend(match_all(run))
    return found


def _spaced(text: str, apart: str = "") -> str | None:
    """ASCII `text` with a space on each side of every symbol but the joiners that hold, or
    None in the odd text that leaves no control character free to disguise them."""
    joiners = [match.start() for match in _JOINER.finditer(text)]
    if not joiners:
        return _isolate(text, keep=apart)
    kinds = sorted({text[at] for at in joiners})
    disguises = list(itertools.islice((c for c in _DISGUISES if c not in text), len(kinds)))
    if len(disguises) < len(kinds):
        return None
    disguise = dict(zip(kinds, disguises, strict=True))
    pieces = []
    done = 0
    for at in joiners:
        pieces += (text[done:at], disguise[text[at]])
        done = at + 1
    pieces.append(text[done:])
    spaced = _isolate("".join(pieces), keep=f"{apart}{''.join(disguises)}")
    for joiner, mask in disguise.items():
        spaced = spaced.replace(mask, joiner)
    return spaced


def _isolate(text: str, keep: str = "") -> str:
    """`text` with a space on each side of every symbol but those in `keep` (``str.translate``
    does the same, character by character, several times slower)."""
    for symbol in _SYMBOLS:
        if symbol in text and symbol not in keep:
            text = text.replace(symbol, f" {symbol} ")
    return text
