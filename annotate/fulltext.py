"""Full-text search queries and snippets. Pure: no Django.

A query is what a person types in the search box, read like a web search engine reads it
(the rules of PostgreSQL's ``websearch_to_tsquery``): words must all occur; ``"a phrase"``
must occur as written; ``-word`` or ``-"a phrase"`` must not occur; ``or`` between two parts
accepts either (``or`` binds more loosely than the implicit "and": ``a b or c`` is
``(a and b) or c``). Nothing else is an operator: ``AND``, ``NOT``, ``NEAR(...)``, ``*``,
parentheses and stray quotes are plain text, and text without letters or digits is ignored.

:func:`parse` turns the box into a :class:`Query`; :func:`fts5_match` and
:func:`websearch` write it for SQLite's FTS5 and PostgreSQL, each term quoted so that no
user input is ever read as the engine's own syntax. :func:`mark_snippet` turns a snippet
whose hits the database wrapped in the sentinel characters :data:`HIT_START` and
:data:`HIT_END` into HTML: the text escaped, the hits in ``<mark>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

# Private-use characters: the database wraps each hit in these; mark_snippet turns them
# into <mark> tags after escaping everything else.
HIT_START = "\ue000"
HIT_END = "\ue001"

MAX_QUERY_CHARS = 500
MAX_TERMS = 32

# A word for the search engines: letters, marks and digits (both tokenizers split on the rest).
_WORD = re.compile(r"[^\W_]", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


class QueryError(ValueError):
    """A query that cannot be searched for; the message says why, for the person typing."""


@dataclass(frozen=True)
class Term:
    """A word or a phrase (``text``, as typed), required or excluded (``negated``)."""

    text: str
    negated: bool = False
    phrase: bool = False


@dataclass(frozen=True)
class Query:
    """Alternatives (``or``), each a conjunction of terms with at least one required term."""

    alternatives: tuple[tuple[Term, ...], ...] = field(default_factory=tuple)

    @property
    def words(self) -> list[str]:
        """The required words and phrases, in order (for a caption: "results for ...")."""
        return [t.text for group in self.alternatives for t in group if not t.negated]


def _has_word(text: str) -> bool:
    return bool(_WORD.search(text))


def parse(raw: str) -> Query:
    """The query typed in the box; :class:`QueryError` when it has nothing to look for
    (only punctuation, only excluded words) or is too long."""
    raw = raw.strip()
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryError(f"The search is too long: at most {MAX_QUERY_CHARS} characters.")
    if "\x00" in raw:  # no text holds one (annotate.text refuses it), and PostgreSQL cannot
        raise QueryError("The search contains a NUL character.")
    raw = _CONTROL.sub(" ", raw)  # other control characters separate words
    alternatives: list[tuple[Term, ...]] = []
    current: list[Term] = []
    count = 0
    for match in _TOKEN.finditer(raw):
        negated, quoted, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None and bare.lower() == "or":
            alternatives.append(tuple(current))
            current = []
            continue
        if quoted is not None:
            term = Term(" ".join(quoted.split()), negated=bool(negated), phrase=True)
        elif bare.startswith("-") and len(bare) > 1:
            term = Term(bare[1:], negated=True)
        else:
            term = Term(bare)
        if not _has_word(term.text):
            continue
        count += 1
        if count > MAX_TERMS:
            raise QueryError(f"The search has too many words: at most {MAX_TERMS}.")
        current.append(term)
    alternatives.append(tuple(current))
    # A part with nothing required cannot be searched for on its own (FTS5 has no bare NOT).
    kept = tuple(group for group in alternatives if any(not t.negated for t in group))
    if not kept:
        raise QueryError("Type at least one word to search for.")
    return Query(kept)


def _fts5_string(text: str) -> str:
    # An FTS5 string: inside double quotes nothing is an operator; a quote is doubled.
    return '"' + text.replace('"', '""') + '"'


def fts5_match(query: Query) -> str:
    """The query as an FTS5 MATCH expression, every term a quoted string."""
    parts = []
    for group in query.alternatives:
        required = [_fts5_string(t.text) for t in group if not t.negated]
        excluded = [_fts5_string(t.text) for t in group if t.negated]
        part = "(" + " AND ".join(required) + ")"
        for term in excluded:
            part = f"({part} NOT {term})"
        parts.append(part)
    return " OR ".join(parts)


def _websearch_term(term: Term) -> str:
    # Inside quotes websearch_to_tsquery reads only words; outside, a leading "-" negates and
    # a bare "or" is the operator, so every term goes in quotes (a phrase of one word is that
    # word), without quotes of its own.
    text = term.text.replace('"', " ")
    return ("-" if term.negated else "") + f'"{text}"'


def websearch(query: Query) -> str:
    """The query as input for PostgreSQL's ``websearch_to_tsquery``, every term quoted."""
    return " or ".join(" ".join(_websearch_term(t) for t in group) for group in query.alternatives)


def mark_snippet(snippet: str) -> str:
    """HTML for a snippet whose hits are wrapped in HIT_START … HIT_END: every character of
    the text escaped, each hit in ``<mark>``; a stray sentinel (the text may hold one) never
    leaves a tag open."""
    out: list[str] = []
    inside = False
    for piece in re.split(f"([{HIT_START}{HIT_END}])", snippet):
        if piece == HIT_START:
            if not inside:
                out.append("<mark>")
                inside = True
        elif piece == HIT_END:
            if inside:
                out.append("</mark>")
                inside = False
        elif piece:
            out.append(escape(piece))
    if inside:
        out.append("</mark>")
    return "".join(out).replace("<mark></mark>", "")
