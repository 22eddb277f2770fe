"""CoNLL-2003 style export: one token a line with a BIO tag. Pure: no Django.

Each line is ``TOKEN -X- _ TAG`` (the four CoNLL-2003 columns; part of speech and chunk are
not known, so they hold placeholders, as Label Studio writes them). A document starts with
``-DOCSTART- -X- -X- O`` and a blank line; a blank line ends each sentence.

- Tokens come from :func:`annotate.exports.tokens.tokenize`, cut at every span boundary, so
  a span always covers whole tokens: its first token is tagged ``B-LABEL``, the rest
  ``I-LABEL``, everything else ``O``.
- One label per token: overlapping spans are resolved by :mod:`annotate.exports.overlap`
  (the longest span wins; the others are left out whole).
- Sentences end at a line break, or after ``. ! ? …`` (and their CJK, Arabic and Devanagari
  forms) when whitespace and then a capital letter, a digit or an opening quote follow. This
  is a heuristic (``Mr. Smith`` is cut in two); a sentence never ends inside a span.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .overlap import non_overlapping
from .records import ExportRecord, ExportSpan
from .tokens import Token, tokenize

DOCSTART = "-DOCSTART- -X- -X- O\n\n"
TERMINALS = frozenset({".", "!", "?", "…", "。", "！", "？", "؟", "।"})
OPENERS = frozenset("\"'“‘«(„")


def tagged_tokens(text: str, spans: Iterable[ExportSpan]) -> list[tuple[Token, str]]:
    """Every token of `text` with its BIO tag."""
    kept = non_overlapping(list(spans))
    cuts = [offset for span in kept for offset in (span["start"], span["end"])]
    tokens = tokenize(text, cuts)
    tagged: list[tuple[Token, str]] = []
    spans_iter = iter(kept)
    span = next(spans_iter, None)
    for token in tokens:
        while span is not None and span["end"] <= token.start:
            span = next(spans_iter, None)
        if span is not None and span["start"] <= token.start and token.end <= span["end"]:
            prefix = "B" if not tagged or not _inside(tagged[-1], span) else "I"
            tagged.append((token, f"{prefix}-{span['label']}"))
        else:
            tagged.append((token, "O"))
    return tagged


def _inside(previous: tuple[Token, str], span: ExportSpan) -> bool:
    token, tag = previous
    return tag != "O" and span["start"] <= token.start


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
    """One record as a CoNLL document, from ``-DOCSTART-`` to its last blank line."""
    text = record["text"]
    parts = [DOCSTART]
    for sentence in sentences(text, tagged_tokens(text, record["spans"])):
        parts.extend(f"{token.text} -X- _ {tag}\n" for token, tag in sentence)
        parts.append("\n")
    return "".join(parts)


def stream(records: Iterable[ExportRecord]) -> Iterator[str]:
    """The CoNLL text of every record, one document per yielded string."""
    for record in records:
        yield document(record)
