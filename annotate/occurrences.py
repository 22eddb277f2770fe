"""Whole-word occurrences of a phrase in an article. Pure: no Django.

"Label every occurrence" on the labelling page finds the other places where the selected
words stand as words of their own, by the rules the page snaps selections with
(:func:`annotate.offsets.snap_to_words`): "Iraq" is not found inside "Iraqi" or
"al-Iraq", but is in "Iraq's" (a possessive "'s" is not part of the word), and a match never
ends inside a user-perceived character (a letter and its combining accent, an emoji
sequence). Matching is exact: same case, same characters (the text is NFC).
"""

from __future__ import annotations

from .offsets import POSSESSIVE_ENDINGS
from .offsets import _inside as cuts_word  # the snapping rule's own test, not a copy of it


def _starts_word(text: str, offset: int) -> bool:
    return offset == 0 or not cuts_word(text, offset)


def _ends_word(text: str, offset: int) -> bool:
    if offset == len(text) or not cuts_word(text, offset):
        return True
    # "Iraq's": the possessive belongs to no word, as when a selection is snapped.
    after = offset + 2
    return text[offset:after] in POSSESSIVE_ENDINGS and (
        after == len(text) or not cuts_word(text, after)
    )


def whole_word_occurrences(text: str, phrase: str) -> list[tuple[int, int]]:
    """(start, end) code-point offsets of every occurrence of `phrase` in `text` that starts
    and ends at a word boundary, in text order, none overlapping another."""
    if not phrase:
        return []
    found: list[tuple[int, int]] = []
    at = text.find(phrase)
    while at != -1:
        end = at + len(phrase)
        if _starts_word(text, at) and _ends_word(text, end):
            found.append((at, end))
            at = text.find(phrase, end)
        else:
            at = text.find(phrase, at + 1)
    return found
