"""CoNLL-2003 style export: one token a line with a BIO tag. Pure: no Django.

Each line is ``TOKEN -X- _ TAG`` (the four CoNLL-2003 columns; part of speech and chunk are
not known, so they hold placeholders, as Label Studio writes them). A document starts with
``-DOCSTART- -X- -X- O`` and a blank line (or the variant spaCy's converter reads, or none:
see ``DOCSTARTS``); a blank line ends each sentence.

- Tokens come from :func:`annotate.exports.tokens.tokenize`, cut at every span boundary, so
  a span always covers whole tokens: its first token is tagged ``B-LABEL``, the rest
  ``I-LABEL``, everything else ``O``.
- One label per token: overlapping spans are resolved by :mod:`annotate.exports.overlap`
  (the longest span wins; the others are left out whole).
- Sentences end at a line break, or after ``. ! ? …`` (and their CJK, Arabic and Devanagari
  forms) when whitespace and then a capital letter, a digit or an opening quote follow. This
  is a heuristic (``Mr. Smith`` is cut in two); a sentence never ends inside a span.

:func:`tagged_tokens` and :func:`sentences` state these rules token by token.
:func:`document` writes the same text without walking tokens in Python, because an export
runs it on every article: sentence ends are found by searching the text for terminals and
line breaks, and the whole text is tokenized and written as lines in a few string
operations (see :func:`_fast_document`).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence

from .overlap import non_overlapping
from .records import ExportRecord, ExportSpan
from .tokens import Token, plain_tokens, token_pattern, tokenize

DOCSTART = "-DOCSTART- -X- -X- O\n\n"
# The line that opens each document, by variant: the original CoNLL-2003 files' line (read
# by the CoNLL-2003 evaluation script, seqeval-based loaders, Hugging Face's conll2003
# reader); the line spaCy's ``spacy convert`` looks for to split documents
# (``-DOCSTART- -X- O O``); or none, for tools that take sentences only.
DOCSTARTS = {"conll2003": DOCSTART, "spacy": "-DOCSTART- -X- O O\n\n", "none": ""}
TERMINALS = frozenset({".", "!", "?", "…", "。", "！", "？", "؟", "।"})
OPENERS = frozenset("\"'“‘«(„")

Bounds = tuple[int, int, str]  # a kept span: start, end, label

_O_LINE = " -X- _ O\n"
# Control characters, three of which (any the text does not hold) mark spans and sentence
# ends for _fast_document.
_MARKERS = "\x00\x01\x02\x03\x04\x05\x06\x07\x08"
_ZONE = -2
# A terminal, whitespace, and a character that may start a sentence: an ASCII capital, digit
# or quote, or anything outside ASCII (checked further by _starts_sentence). Gaps holding a
# line break are found apart, whatever follows them.
_TERMINAL_GAP = re.compile(
    f"[{re.escape(''.join(sorted(TERMINALS)))}]\\s++(?=[A-Z0-9\"'(]|[^\\x00-\\x7f])"
)
_RUN = re.compile(r"\S+")


def tagged_tokens(text: str, spans: Iterable[ExportSpan]) -> list[tuple[Token, str]]:
    """Every token of `text` with its BIO tag."""
    kept = [(s["start"], s["end"], s["label"]) for s in non_overlapping(list(spans))]
    return _tag(tokenize(text, [offset for s, e, _ in kept for offset in (s, e)]), kept)


def _tag(tokens: Sequence[Token], kept: Sequence[Bounds]) -> list[tuple[Token, str]]:
    tagged: list[tuple[Token, str]] = []
    spans_iter = iter(kept)
    span = next(spans_iter, None)
    for token in tokens:
        while span is not None and span[1] <= token.start:
            span = next(spans_iter, None)
        if span is not None and span[0] <= token.start and token.end <= span[1]:
            previous = tagged[-1] if tagged else None
            inside = previous is not None and previous[1] != "O" and span[0] <= previous[0].start
            tagged.append((token, f"{'I' if inside else 'B'}-{span[2]}"))
        else:
            tagged.append((token, "O"))
    return tagged


def sentences(text: str, tagged: list[tuple[Token, str]]) -> Iterator[list[tuple[Token, str]]]:
    """The tagged tokens, grouped into sentences (see the module docstring)."""
    sentence: list[tuple[Token, str]] = []
    for index, item in enumerate(tagged):
        sentence.append(item)
        if index + 1 == len(tagged):
            break
        following = tagged[index + 1]
        if following[1].startswith("I-"):
            continue
        token, next_token = item[0], following[0]
        gap = text[token.end : next_token.start]
        if "\n" in gap or (gap and token.text in TERMINALS and _starts_sentence(next_token.text)):
            yield sentence
            sentence = []
    if sentence:
        yield sentence


def _starts_sentence(word: str) -> bool:
    first = word[0]
    return first.isupper() or first.isdigit() or first in OPENERS


def document(record: ExportRecord) -> str:
    """One record as a CoNLL document, from ``-DOCSTART-`` to its last blank line: the lines
    of ``sentences(text, tagged_tokens(text, spans))``, a blank line after each sentence."""
    text = record["text"]
    kept = [(s["start"], s["end"], s["label"]) for s in non_overlapping(list(record["spans"]))]
    markers = list(itertools.islice((c for c in _MARKERS if c not in text), 3))
    if len(markers) < 3:
        tokens = tokenize(text, [offset for s, e, _ in kept for offset in (s, e)])
        return _lines(sentences(text, _tag(tokens, kept)))
    return _fast_document(text, kept, *markers)


def _lines(groups: Iterable[list[tuple[Token, str]]]) -> str:
    parts = [DOCSTART]
    for sentence in groups:
        parts.extend(f"{token.text} -X- _ {tag}\n" for token, tag in sentence)
        parts.append("\n")
    return "".join(parts)


def _fast_document(text: str, kept: Sequence[Bounds], opening: str, closing: str, stop: str) -> str:
    """The whole text is tokenized by one :func:`plain_tokens`, with marker tokens added
    around each span (`opening`, `closing`) and at each sentence break (`stop`), and written
    as ``O`` lines at once; the lines are then cut at the markers and each span's retagged.

    A span edge that falls inside a token needs that token cut, which the plain tokenizer
    cannot do: such a span, with the words its edges fall in, is a *zone*, left out of the
    marked text and tokenized and tagged token by token (with its own share of the breaks).
    """
    size = len(text)
    breaks = _sentence_breaks(text, kept)
    opening, closing, stop = f" {opening} ", f" {closing} ", f" {stop} "
    marked: list[str] = []
    slots: list[tuple[int, int, int]] = []
    zone_breaks: list[list[int]] = []
    position = pending = 0
    for begin, end, what in [*_slots(text, kept), (size, size, _ZONE)]:
        while pending < len(breaks) and breaks[pending] < begin:
            marked += (text[position : breaks[pending]], stop)
            position = breaks[pending]
            pending += 1
        marked.append(text[position:begin])
        if begin == size:
            break
        if pending < len(breaks) and breaks[pending] < end:
            what = _ZONE  # a span that ends in whitespace ending a sentence: rare
        if what == _ZONE:
            inside = []
            while pending < len(breaks) and breaks[pending] < end:
                inside.append(breaks[pending])
                pending += 1
            zone_breaks.append(inside)
            marked += (opening, closing)
        else:
            marked += (opening, text[begin:end], closing)
        slots.append((begin, end, what))
        position = end
    words = plain_tokens("".join(marked), apart=f"{opening}{closing}{stop}")
    words.append("")  # so that the last token too is followed by its tag
    lines = _O_LINE.join(words).replace(f"{stop[1]}{_O_LINE}", "\n") if len(words) > 1 else ""
    parts = lines.split(f"{opening[1]}{_O_LINE}")
    after_span = f"{closing[1]}{_O_LINE}"
    written = [DOCSTART, parts[0]]
    zones = iter(zone_breaks)
    starts = [start for start, _, _ in kept]
    for (begin, end, what), part in zip(slots, parts[1:], strict=True):
        inside, _, after = part.partition(after_span)
        if what == _ZONE:
            _zone_lines(written, text, begin, end, kept, starts, next(zones))
        elif inside:
            label = kept[what][2]
            head, _, rest = inside.partition(_O_LINE)
            written += (head, f" -X- _ B-{label}\n", rest.replace(_O_LINE, f" -X- _ I-{label}\n"))
        written.append(after)
    document = "".join(written)
    return f"{document}\n" if len(document) > len(DOCSTART) else document


def _slots(text: str, kept: Sequence[Bounds]) -> list[tuple[int, int, int]]:
    """The kept spans as (start, end, index), in order, except that a span with an edge
    inside a token becomes a zone (start, end, _ZONE) stretching to the whitespace around
    that token; overlapping zones and spans merge into one zone."""
    size = len(text)
    runs = _Runs(text)
    slots: list[tuple[int, int, int]] = []
    for index, (start, end, _) in enumerate(kept):
        low = slots[-1][1] if slots else 0
        begin, stop = start, end
        # Most edges touch whitespace, which is always a token boundary.
        if start and not text[start - 1].isspace() and not runs.is_boundary(start):
            begin = max(low, runs.around(start - 1)[0])
        if end < size and not text[end].isspace() and not runs.is_boundary(end):
            stop = runs.around(end)[1]
        if start < low:
            slots[-1] = (slots[-1][0], max(low, stop), _ZONE)
        else:
            slots.append((begin, stop, index if (begin, stop) == (start, end) else _ZONE))
    return slots


class _Runs:
    """The runs of non-whitespace in a text (no token crosses whitespace), found once, and
    the tokens of a run, found the first time one of its offsets is asked about: so each
    span edge costs a bisection, not a scan of its run (CJK text is one long run)."""

    def __init__(self, text: str):
        self.text = text
        self.bounds = [m.span() for m in _RUN.finditer(text)]
        self.starts = [start for start, _ in self.bounds]
        self.token_starts: dict[int, set[int]] = {}

    def _index(self, offset: int) -> int:
        """The run holding ``text[offset]``, which is not whitespace."""
        return bisect.bisect_right(self.starts, offset) - 1

    def around(self, offset: int) -> tuple[int, int]:
        """(start, end) of the run holding ``text[offset]``, which is not whitespace."""
        return self.bounds[self._index(offset)]

    def is_boundary(self, offset: int) -> bool:
        """Whether no token holds both ``text[offset - 1]`` and ``text[offset]``."""
        text = self.text
        if offset <= 0 or offset >= len(text):
            return True
        if text[offset - 1].isspace() or text[offset].isspace():
            return True
        if text[max(0, offset - 2) : offset + 2].isascii():
            return _is_ascii_boundary(text, offset)
        # Tokens cover a run without gaps, so an offset inside a run is a boundary exactly
        # when a token starts there.
        index = self._index(offset)
        if index not in self.token_starts:
            low, stop = self.bounds[index]
            found = token_pattern().finditer(text, low, stop)
            self.token_starts[index] = {match.start() for match in found}
        return offset in self.token_starts[index]


def _zone_lines(
    written: list[str],
    text: str,
    begin: int,
    end: int,
    kept: Sequence[Bounds],
    starts: Sequence[int],
    breaks: list[int],
) -> None:
    """Write the lines of one zone token by token, a blank line at each of its `breaks`.
    `starts` are the kept spans' starts, to find the zone's spans by bisection: the kept
    spans are in text order and disjoint, so those inside the zone are consecutive."""
    spans = []
    index = bisect.bisect_left(starts, begin)
    while index < len(kept) and kept[index][1] <= end:
        s, e, label = kept[index]
        spans.append((index, s - begin, e - begin, label))
        index += 1
    pending = iter(breaks)
    following = next(pending, end)
    last = -1  # the span of the token written last
    walk = 0  # spans[walk] is the first span that ends after the current token starts
    for token in tokenize(text[begin:end], [offset for _, s, e, _ in spans for offset in (s, e)]):
        while following < begin + token.start:
            written.append("\n")
            following = next(pending, end)
        while walk < len(spans) and spans[walk][2] <= token.start:
            walk += 1
        holder = -1
        if walk < len(spans) and spans[walk][1] <= token.start and token.end <= spans[walk][2]:
            holder = spans[walk][0]
        if holder < 0:
            written.append(f"{token.text} -X- _ O\n")
        else:
            prefix = "I" if holder == last else "B"
            written.append(f"{token.text} -X- _ {prefix}-{kept[holder][2]}\n")
        last = holder
    while following < end:
        written.append("\n")
        following = next(pending, end)


def _is_ascii_boundary(text: str, offset: int) -> bool:
    """Whether no token holds both ``text[offset - 1]`` and ``text[offset]``, neither being
    whitespace, in ASCII text around `offset`: ASCII tokens are words and single characters;
    a word goes on through ' and - between word characters and through . , : between digits."""
    before, after = text[offset - 1], text[offset]
    ahead = text[offset + 1 : offset + 2]
    behind = text[offset - 2 : offset - 1] if offset >= 2 else ""
    if _is_word(before) and (
        _is_word(after)
        or (after in "'-" and _is_word(ahead))
        or (after in ".,:" and before.isdigit() and ahead.isdigit())
    ):
        return False
    return not (
        (before in "'-" and _is_word(behind) and _is_word(after))
        or (before in ".,:" and behind.isdigit() and after.isdigit())
    )


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _sentence_breaks(text: str, kept: Sequence[Bounds]) -> list[int]:
    """The offsets of the whitespace gaps after which a sentence ends, in order: the same
    decisions as :func:`sentences`, found by searching the text instead of walking tokens."""
    size = len(text)
    matches = _TERMINAL_GAP.finditer(text)
    # start of a gap -> offset of the token after it; ASCII text has no emoji to glue a
    # terminal and no capitals but those the regex knows.
    edges = set() if text.isascii() else {offset for s, e, _ in kept for offset in (s, e)}
    gaps = (
        {m.start() + 1: m.end() for m in matches}
        if text.isascii()
        else {
            m.start() + 1: m.end()
            for m in matches
            if _starts_sentence(text[m.end()]) and _is_whole_token(text, m.start(), edges)
        }
    )
    newline = text.find("\n")
    while newline >= 0:
        start = newline
        while start and text[start - 1].isspace():
            start -= 1
        after = newline + 1
        while after < size and text[after].isspace():
            after += 1
        if start and after < size:
            gaps[start] = after
        newline = text.find("\n", after)
    breaks = []
    span = 0  # kept[span - 1] is the last span that starts before the gap
    for start in sorted(gaps):
        while span < len(kept) and kept[span][0] < start:
            span += 1
        # A gap between two tokens of one span continues it (I-), whatever the text says.
        if not (span and gaps[start] < kept[span - 1][1]):
            breaks.append(start)
    return breaks


def _is_whole_token(text: str, offset: int, edges: set[int]) -> bool:
    """Whether the terminal at `offset`, followed by whitespace, is a token by itself rather
    than the end of an emoji sequence glued by a zero-width joiner."""
    if offset == 0 or text[offset - 1] != "\u200d":
        return True
    if offset in edges:
        return True
    low = max(text.rfind(" ", 0, offset), text.rfind("\n", 0, offset)) + 1
    return any(m.start() == offset for m in token_pattern().finditer(text, low, offset + 1))


def stream(records: Iterable[ExportRecord], *, docstart: str = "conll2003") -> Iterator[str]:
    """The CoNLL text of every record, one document per yielded string, each opened by the
    `docstart` variant's line (see ``DOCSTARTS``)."""
    opening = DOCSTARTS[docstart]
    for record in records:
        text = document(record)
        yield text if opening == DOCSTART else opening + text[len(DOCSTART) :]
