"""Units of agreement: tokens or characters, and the category each editor gives each unit.

Pure: numpy and the standard library only.

Chance-corrected coefficients (Cohen's and Fleiss' kappa, Krippendorff's alpha) compare
categories that coders assign to the same units. Span annotation has no units of its own,
so we make them, and these are the rules (the report page repeats them):

Which articles, which editors
    An article is compared when at least two editors *submitted* their annotation of it.
    Only submitted annotations count. An editor who was not assigned the article, or who has
    not submitted it, is **missing** for all of its units (Krippendorff's alpha simply has
    fewer values for those units; Fleiss' kappa needs the same number everywhere). An editor
    who submitted and left a unit unmarked gave it the category **"none"**: finishing an
    article is a statement about every part of it.

Tokens (the default, ``unit=token``)
    A token is a maximal run of word characters (Unicode letters L*, marks M*, numbers N*,
    and format characters Cf such as the zero-width non-joiner inside Persian words), or any
    other single non-space character (punctuation, symbols, emoji). Han ideographs, kana
    and other characters of scripts written without spaces are one token each. So
    ``al-Assad's`` is five tokens (``al - Assad ' s``). Runs of Thai, Lao, Khmer or Burmese
    letters stay one token: use ``unit=char`` for such text. A span covers a token when they
    share at least one character; a span that covers only white space covers no token.

Characters (``unit=char``)
    Every code point of the article, white space included, is a unit.

Overlapping spans of one editor
    Spans may nest (an ACTOR holding a LOCATION) or cross. A unit covered by several of one
    editor's spans takes the label of the **innermost** one: the span covering the fewest
    units; between equally long spans, the label that comes first in the project's label
    list. Per-label figures ("that label against the rest") do not need the rule: there a
    unit is "in" for a label when any of the editor's spans of that label covers it, so
    nesting costs no agreement.

Krippendorff's unitizing alpha works on characters and on each editor's spans as they are,
except that overlapping spans of one label by one editor are merged into one unit (the
coefficient needs each coder's units of one category to be disjoint). Adjacent spans that
do not share a character stay separate units.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

TOKEN = "token"
CHAR = "char"
UNITS = (TOKEN, CHAR)

# Character classes for tokenisation.
SPACE, WORD, SINGLE = 0, 1, 2

# Scripts written without spaces between words, whose characters are tokens on their own.
_SINGLE_RANGES = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x3FFFF),  # CJK Extensions B and later
)


def _classify(code: int) -> int:
    char = chr(code)
    if char.isspace():
        return SPACE
    if any(lo <= code <= hi for lo, hi in _SINGLE_RANGES):
        return SINGLE
    category = unicodedata.category(char)
    return WORD if category[0] in "LMN" or category == "Cf" else SINGLE


@lru_cache(maxsize=1)
def _bmp_table() -> np.ndarray:
    """The class of every code point of the Basic Multilingual Plane (built once)."""
    chars = [chr(code) for code in range(0x10000)]
    word = np.array(
        [(c := unicodedata.category(ch))[0] in "LMN" or c == "Cf" for ch in chars], dtype=bool
    )
    space = np.array([ch.isspace() for ch in chars], dtype=bool)
    table = np.where(word, WORD, SINGLE).astype(np.uint8)
    for lo, hi in _SINGLE_RANGES:
        if lo < 0x10000:
            table[lo : min(hi, 0xFFFF) + 1] = SINGLE
    table[space] = SPACE
    return table


def codepoints(text: str) -> np.ndarray:
    """The text as an array of code points (one element per Python character)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def char_classes(codes: np.ndarray) -> np.ndarray:
    """SPACE, WORD or SINGLE for each code point (see the module docstring)."""
    codes = np.asarray(codes, dtype=np.uint32)
    table = _bmp_table()
    bmp = codes < 0x10000
    classes = np.empty(codes.shape, dtype=np.uint8)
    classes[bmp] = table[codes[bmp]]
    if not bmp.all():
        astral = codes[~bmp]
        unique, inverse = np.unique(astral, return_inverse=True)
        looked_up = np.array([_classify(int(c)) for c in unique], dtype=np.uint8)
        classes[~bmp] = looked_up[inverse]
    return classes


def _token_bounds(classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    word = classes == WORD
    first = classes == SINGLE  # first (and last) characters of tokens
    last = first.copy()
    first[0] |= word[0]
    first[1:] |= word[1:] > word[:-1]  # a word character after a non-word one
    last[-1] |= word[-1]
    last[:-1] |= word[:-1] > word[1:]
    return np.flatnonzero(first).astype(np.int64), np.flatnonzero(last).astype(np.int64) + 1


def _text_classes(text: str) -> np.ndarray:
    """:func:`char_classes` of a non-empty text. Most texts have no character beyond the
    Basic Multilingual Plane: then UTF-16 gives the code points at half the size of
    UTF-32, and one table look-up classifies them."""
    data = text.encode("utf-16-le", "surrogatepass")
    if len(data) == 2 * len(text):
        return _bmp_table()[np.frombuffer(data, dtype="<u2")]
    return char_classes(codepoints(text))


def tokenize(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Token start and end offsets (code points, end exclusive) of `text`.

    Tokens are runs of word characters or single other non-space characters (module
    docstring). Vectorised: one pass of numpy over the code points, no Python loop per
    character.
    """
    if not text:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return _token_bounds(_text_classes(text))


def tokenize_joined(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`tokenize` for many texts in one numpy pass.

    The texts are joined with a newline (white space, so no token crosses from one text to
    the next). Returns the token starts and ends in the joined string, the offset of each
    text in it, and the index of each text's first token (both with a final total).
    """
    joined = "\n".join(texts)
    empty = np.zeros(0, dtype=np.int64)
    starts, ends = _token_bounds(_text_classes(joined)) if joined else (empty, empty)
    char_offsets = np.cumsum([0] + [len(t) + 1 for t in texts]).astype(np.int64)
    token_offsets = np.searchsorted(starts, char_offsets).astype(np.int64)
    return starts, ends, char_offsets, token_offsets


def spans_to_token_ranges(
    token_starts: np.ndarray, token_ends: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each span [start, end), the range [first, last) of tokens it shares a character with.

    The range is empty (first == last) when the span covers only white space.
    """
    first = np.searchsorted(token_ends, np.asarray(starts), side="right")
    last = np.searchsorted(token_starts, np.asarray(ends), side="left")
    return first.astype(np.int64), np.maximum(last, first).astype(np.int64)


def unit_categories(
    n_units: int, starts: Sequence[int], ends: Sequence[int], labels: Sequence[int]
) -> np.ndarray:
    """The category of every unit for one editor: 0 for "none", label index + 1 otherwise.

    Spans are in unit coordinates. Where spans overlap, the innermost wins: the shortest,
    then the label that comes first (module docstring). This is the plain reference
    definition; :mod:`.stats` computes the same counts from span boundaries without
    materialising one value per unit.
    """
    result = np.zeros(n_units, dtype=np.int64)
    order = sorted((s, e, lab) for s, e, lab in zip(starts, ends, labels, strict=True) if e > s)
    # Paint the outermost first so inner spans overwrite it.
    for s, e, lab in sorted(order, key=lambda span: (-(span[1] - span[0]), -span[2])):
        result[s:e] = lab + 1
    return result


def label_presence(
    n_units: int,
    starts: Sequence[int],
    ends: Sequence[int],
    labels: Sequence[int],
    n_labels: int,
) -> np.ndarray:
    """Boolean matrix (labels × units): is the unit inside any of the editor's spans of that
    label? The per-label ("that label against the rest") categorisation."""
    diff = np.zeros((n_labels, n_units + 1), dtype=np.int64)
    for s, e, lab in zip(starts, ends, labels, strict=True):
        if e > s:
            diff[lab, s] += 1
            diff[lab, e] -= 1
    return np.cumsum(diff, axis=1)[:, :n_units] > 0


def merge_overlapping(starts: Sequence[int], ends: Sequence[int]) -> tuple[list[int], list[int]]:
    """Merge spans that share at least one character; adjacent spans stay apart.

    Used to make one editor's spans of one label a set of disjoint units for unitizing alpha.
    """
    merged_starts: list[int] = []
    merged_ends: list[int] = []
    for s, e in sorted(zip(starts, ends, strict=True)):
        if merged_ends and s < merged_ends[-1]:
            merged_ends[-1] = max(merged_ends[-1], e)
        else:
            merged_starts.append(s)
            merged_ends.append(e)
    return merged_starts, merged_ends
