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

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """The words of `text` with their code-point offsets: maximal runs of letters, marks
    (combining accents, Arabic vowel signs) and numbers; a character of a script written
    without spaces (Chinese, Japanese, Thai...) is a word by itself. Everything else
    (spaces, punctuation, hyphens, emoji) separates words."""
    tokens: list[Token] = []
    start = -1
    for i, ch in enumerate(text):
        if _word_char(ch):
            if _no_space(ch):
                if start >= 0:
                    tokens.append(Token(text[start:i], start, i))
                    start = -1
                tokens.append(Token(ch, i, i + 1))
            elif start < 0:
                start = i
        elif start >= 0:
            tokens.append(Token(text[start:i], start, i))
            start = -1
    if start >= 0:
        tokens.append(Token(text[start:], start, len(text)))
    return tokens


def words(text: str) -> tuple[str, ...]:
    """The words of `text` (see `tokenize`)."""
    return tuple(t.text for t in tokenize(text))


def first_word(text: str) -> str | None:
    """The first word of a phrase: what an index looks phrases up by; None for a phrase
    without any word (nothing to match on)."""
    for token in tokenize(text):
        return token.text
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
            tokens = tokenize(phrase.text)
            if not tokens:
                continue
            node = self._root
            for token in tokens:
                node = node.setdefault(token.text, {})
            entry = _Entry(phrase, tokens[0].start, len(phrase.text) - tokens[-1].end)
            node.setdefault(_END, []).append(entry)
            self.size += 1

    def find(self, text: str, tokens: list[Token] | None = None) -> list[Match]:
        """Every place where a phrase occurs in `text` exactly and on whole words, in text
        order (overlapping and nested matches included; one match per place and label)."""
        tokens = tokenize(text) if tokens is None else tokens
        found: dict[tuple[int, int, str], Match] = {}
        for i in range(len(tokens)):
            node = self._root.get(tokens[i].text)
            j = i
            while node is not None:
                for entry in node.get(_END, ()):
                    match = _check(text, tokens[i].start, tokens[j].end, entry)
                    if match is not None:
                        found.setdefault((match.start, match.end, match.label), match)
                j += 1
                node = node.get(tokens[j].text) if j < len(tokens) else None
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
