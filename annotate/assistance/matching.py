"""Finding known phrases in an article, on whole words. Pure: no Django.

Gold suggestions are the places where an article says, word for word, what final gold
already marks elsewhere ("Kataeb Hezbollah" as ACTOR). The article is tokenised once into
words (runs of letters, marks and numbers; each character of a script written without
spaces is a word of its own), the known phrases are put in a trie keyed by their words, and
the article is walked once: at each word the trie is followed as far as the next words allow.
The cost is the number of words times the length of the longest match, never the number of
phrases, and each candidate is then checked exactly against the text (the characters between
the words too, so "al-Kadhemi" does not match "al Kadhemi") and on word boundaries as the
page's word snapping draws them: a hyphen or an apostrophe between letters is inside a word
("Kadhemi" is not a whole word of "al-Kadhemi"), and a possessive "'s" after a phrase is not
("Iraq" matches in "Iraq's").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from ..offsets import POSSESSIVE_ENDINGS, WORD_JOINERS, is_cluster_boundary

# Scripts written without spaces (offsets._NO_SPACE_SCRIPTS): each character is a word.
_NO_SPACE = (
    (0x0E00, 0x0EFF),
    (0x0F00, 0x0FFF),
    (0x1000, 0x109F),
    (0x1780, 0x17FF),
    (0x2E80, 0x2FDF),
    (0x3005, 0x3007),
    (0x3040, 0x30FF),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF66, 0xFF9F),
    (0x20000, 0x3FFFF),
)


def _no_space(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _NO_SPACE)


def _word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


class Token(NamedTuple):
    text: str
    start: int
    end: int


_ALNUM = re.compile(r"[^\W_]+")  # letters and numbers (str.isalnum), in C
_NO_SPACE_RE = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _NO_SPACE) + "]")


def _is_mark(ch: str) -> bool:
    # Combining marks start at U+0300: spaces and ASCII punctuation need no lookup.
    return ch >= "\u0300" and unicodedata.category(ch)[0] == "M"


def tokenize(text: str) -> list[Token]:
    """The words of `text` with their code-point offsets (see `word_bounds`)."""
    return [Token(text[s:e], s, e) for s, e in word_bounds(text)]


def word_bounds(text: str) -> list[tuple[int, int]]:
    """Where the words of `text` are, as (start, end) code-point offsets. A word is a
    maximal run of letters and numbers with the marks on them (combining accents, Arabic
    vowel signs); a character of a script written without spaces (Chinese, Japanese,
    Thai...) is a word by itself. Everything else (spaces, punctuation, hyphens, emoji, a
    mark on none of these) separates words. The runs are found by one regular expression."""
    bounds: list[tuple[int, int]] = []
    for m in _word_runs().finditer(text):
        s, e = m.span()
        if _is_mark(text[s]) and not _ALNUM.search(text, s, e):
            continue  # marks on no letter or number
        bounds.append((s, e))
    if not _NO_SPACE_RE.search(text):
        return bounds
    split: list[tuple[int, int]] = []
    for s, e in bounds:
        start = s
        for i in range(s, e):  # each character of a no-space script is a word
            if _no_space(text[i]):
                if _ALNUM.search(text, start, i):
                    split.append((start, i))
                split.append((i, i + 1))
                start = i + 1
        if _ALNUM.search(text, start, e):
            split.append((start, e))
    return split


@functools.cache
def _word_runs() -> re.Pattern[str]:
    """Runs of letters, numbers and marks. The marks' character class is made once per
    process from the Unicode database (the planes where combining marks are)."""
    ranges: list[tuple[int, int]] = []
    for lo, hi in ((0x0300, 0xFFFF), (0x10000, 0x1FFFF), (0xE0100, 0xE01EF)):
        start = None
        for cp in range(lo, hi + 2):
            mark = cp <= hi and unicodedata.category(chr(cp))[0] == "M"
            if mark and start is None:
                start = cp
            elif not mark and start is not None:
                ranges.append((start, cp - 1))
                start = None
    marks = "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(rf"(?:[^\W_]|[{marks}])+")


def words(text: str) -> tuple[str, ...]:
    """The words of `text` (see `word_bounds`)."""
    return tuple(text[s:e] for s, e in word_bounds(text))


def first_word(text: str) -> str | None:
    """The first word of a phrase: what an index looks phrases up by; None for a phrase
    without any word (nothing to match on)."""
    for s, e in word_bounds(text):
        return text[s:e]
    return None


@dataclass(frozen=True)
class Phrase:
    """A known phrase and the label it was marked with."""

    text: str
    label: str


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    text: str
    label: str


_END = ""  # no word is empty, so this key in a trie node never collides with a word


@dataclass(frozen=True)
class _Entry:
    phrase: Phrase
    lead: int  # characters before the first word ("(" in "(ISIS)")
    trail: int  # characters after the last word


class PhraseIndex:
    """Known phrases, in a trie keyed by their words. Build once, match many texts."""

    def __init__(self, phrases: Iterable[Phrase]):
        self._root: dict = {}
        self.size = 0
        for phrase in phrases:
            bounds = word_bounds(phrase.text)
            if not bounds:
                continue
            node = self._root
            for s, e in bounds:
                node = node.setdefault(phrase.text[s:e], {})
            entry = _Entry(phrase, bounds[0][0], len(phrase.text) - bounds[-1][1])
            node.setdefault(_END, []).append(entry)
            self.size += 1

    def find(self, text: str, bounds: list[tuple[int, int]] | None = None) -> list[Match]:
        """Every place where a phrase occurs in `text` exactly and on whole words, in text
        order (overlapping and nested matches included; one match per place and label).
        `bounds`: the text's `word_bounds`, if the caller has them already."""
        bounds = word_bounds(text) if bounds is None else bounds
        words = [text[s:e] for s, e in bounds]
        root = self._root
        found: dict[tuple[int, int, str], Match] = {}
        for i, word in enumerate(words):
            node = root.get(word)
            j = i
            while node is not None:
                for entry in node.get(_END, ()):
                    match = _check(text, bounds[i][0], bounds[j][1], entry)
                    if match is not None:
                        found.setdefault((match.start, match.end, match.label), match)
                j += 1
                node = node.get(words[j]) if j < len(words) else None
        return sorted(found.values(), key=lambda m: (m.start, m.end, m.label))


def _check(text: str, first: int, last: int, entry: _Entry) -> Match | None:
    start, end = first - entry.lead, last + entry.trail
    phrase = entry.phrase
    if start < 0 or end > len(text) or text[start:end] != phrase.text:
        return None
    if not (starts_word(text, start) and ends_word(text, end)):
        return None
    return Match(start, end, phrase.text, phrase.label)


def _joined(left: str, right: str) -> bool:
    return _word_char(left) and _word_char(right) and not (_no_space(left) or _no_space(right))


def starts_word(text: str, offset: int) -> bool:
    """Whether a whole-word phrase may start at `offset` (not inside a word, a hyphenated or
    apostrophe name, or a user-perceived character)."""
    if offset == 0:
        return True
    if not is_cluster_boundary(text, offset):
        return False
    before, at = text[offset - 1], text[offset]
    if _joined(before, at):
        return False
    return not (before in WORD_JOINERS and offset > 1 and _joined(text[offset - 2], at))


def ends_word(text: str, offset: int) -> bool:
    """Whether a whole-word phrase may end at `offset`; a possessive "'s" may follow."""
    if offset == len(text):
        return True
    if not is_cluster_boundary(text, offset):
        return False
    before, at = text[offset - 1], text[offset]
    if _joined(before, at):
        return False
    if at in WORD_JOINERS and offset + 1 < len(text) and _joined(before, text[offset + 1]):
        possessive = text[offset : offset + 2] in POSSESSIVE_ENDINGS
        after = offset + 2
        return possessive and (after == len(text) or not _word_char(text[after]))
    return True


def iter_phrases(rows: Iterable[tuple[str, str]]) -> Iterator[Phrase]:
    """Phrases from (text, label) rows."""
    for text, label in rows:
        yield Phrase(text, label)
