"""Article text as HTML with labelled spans marked. Pure: no Django.

Spans may nest (an ACTOR holding a LOCATION) or cross. The output is well-formed HTML in
which every span is one or more ``<mark>`` fragments, nested so that longer spans are
outside shorter ones; a span that crosses another is split into fragments that share its
``data-span``. The text nodes, read in order, are exactly the article text, so the browser can
count offsets over them. Everything from the text and the spans is escaped.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Mark:
    start: int
    end: int
    label: str
    id: str = ""
    classes: tuple[str, ...] = ()
    title: str = ""


def _open_tag(mark: Mark, continued: bool, twin: bool = False) -> str:
    classes = ["span", f"lbl-{mark.label}", *mark.classes]
    if continued and "cont" not in classes:
        classes.append("cont")
    if twin:
        # Exactly over the mark around it: the stylesheet shows both colours, not only this.
        classes.append("twin")
    attrs = [
        f'class="{escape(" ".join(classes))}"',
        f'data-label="{escape(mark.label)}"',
        f'data-start="{mark.start}"',
        f'data-end="{mark.end}"',
    ]
    if mark.id:
        attrs.append(f'data-span="{escape(mark.id)}"')
    attrs.append(f'title="{escape(mark.title or mark.label)}"')
    return f"<mark {' '.join(attrs)}>"


def render(text: str, marks: Iterable[Mark]) -> str:
    """HTML for `text` with every mark highlighted (see the module docstring)."""
    pieces = {m: (m.start, m.end) for m in marks if 0 <= m.start < m.end <= len(text)}
    return _render(text, pieces, frozenset())


def _render(text: str, pieces: dict[Mark, tuple[int, int]], continued: frozenset[Mark]) -> str:
    """`text` with each mark highlighted over its (start, end) in `pieces`, offsets into
    `text`; the marks in `continued` go on from before `text` (their first fragment is
    marked "cont", like any fragment after the first)."""
    ordered = sorted(pieces, key=lambda m: (pieces[m][0], -pieces[m][1], m.label, m.id))
    starts: dict[int, list[Mark]] = {}
    ends: dict[int, set[Mark]] = {}
    for m in ordered:
        start, end = pieces[m]
        starts.setdefault(start, []).append(m)
        ends.setdefault(end, set()).add(m)
    boundaries = sorted({0, len(text), *starts, *ends})

    out: list[str] = []
    stack: list[Mark] = []
    previous = 0
    for pos in boundaries:
        if pos > previous:
            out.append(escape(text[previous:pos], quote=False))
        previous = pos
        ending = ends.get(pos, set())
        reopen: list[Mark] = []
        if ending:
            lowest = min((i for i, m in enumerate(stack) if m in ending), default=None)
            if lowest is not None:
                out.append("</mark>" * (len(stack) - lowest))
                reopen = [m for m in stack[lowest:] if m not in ending]
                del stack[lowest:]
        opening = [(m, True) for m in reopen] + [(m, m in continued) for m in starts.get(pos, [])]
        opening.sort(
            key=lambda pair: (-pieces[pair[0]][1], pieces[pair[0]][0], pair[0].label, pair[0].id)
        )
        for m, cont in opening:
            twin = bool(stack) and pieces[stack[-1]] == pieces[m]
            out.append(_open_tag(m, cont, twin))
            stack.append(m)
    out.extend("</mark>" for _ in stack)
    return "".join(out)


# Paragraphs: the labelling page updates one paragraph at a time.

PARAGRAPH_BREAK = "\n"


@dataclass(frozen=True)
class Paragraph:
    """Paragraph `index` of a text: text[start:end], its line break included."""

    index: int
    start: int
    end: int


def paragraphs(text: str) -> list[Paragraph]:
    """The text cut after each line break (the last paragraph may have none)."""
    found, start = [], 0
    while start < len(text):
        cut = text.find(PARAGRAPH_BREAK, start)
        end = len(text) if cut == -1 else cut + 1
        found.append(Paragraph(len(found), start, end))
        start = end
    return found


def paragraphs_between(text: str, start: int, end: int) -> list[Paragraph]:
    """The paragraphs that text[start:end] touches (one at least, for a non-empty span)."""
    first = text.count(PARAGRAPH_BREAK, 0, start)
    para_start = text.rfind(PARAGRAPH_BREAK, 0, start) + 1
    found = []
    while para_start < len(text) and (para_start < end or not found):
        cut = text.find(PARAGRAPH_BREAK, para_start)
        para_end = len(text) if cut == -1 else cut + 1
        found.append(Paragraph(first + len(found), para_start, para_end))
        para_start = para_end
    return found


def render_paragraph(text: str, paragraph: Paragraph, marks: Iterable[Mark]) -> str:
    """The inner HTML of one paragraph: the marks that touch it, clipped to it."""
    pieces: dict[Mark, tuple[int, int]] = {}
    continued = set()
    for m in marks:
        start, end = max(m.start, paragraph.start), min(m.end, paragraph.end)
        if start < end:
            pieces[m] = (start - paragraph.start, end - paragraph.start)
            if m.start < paragraph.start:
                continued.add(m)
    return _render(text[paragraph.start : paragraph.end], pieces, frozenset(continued))


def render_paragraphs(text: str, marks: Iterable[Mark], utf16_start: Callable[[int], int]) -> str:
    """HTML for `text` as one ``<span class="para">`` per paragraph, each with its marks
    and its UTF-16 start offset (``data-u16``, from `utf16_start`), so the page can redraw
    one paragraph. The text nodes, read in order, are still exactly the text."""
    marks = sorted(
        (m for m in marks if 0 <= m.start < m.end <= len(text)), key=lambda m: (m.start, m.end)
    )
    found = paragraphs(text)
    starts = [p.start for p in found]
    touching: list[list[Mark]] = [[] for _ in found]
    for m in marks:
        i = bisect.bisect_right(starts, m.start) - 1
        while i < len(found) and found[i].start < m.end:
            touching[i].append(m)
            i += 1
    return "".join(
        paragraph_element(p, utf16_start(p.start), render_paragraph(text, p, touching[p.index]))
        for p in found
    )


def paragraph_element(paragraph: Paragraph, utf16_start: int, inner: str) -> str:
    return (
        f'<span class="para" data-para="{paragraph.index}" data-u16="{utf16_start}">{inner}</span>'
    )


def marks_from_spans(spans: Sequence, *, classes_for=None) -> list[Mark]:
    """Marks for model spans (anything with start, end, id and label.key / label_key)."""
    result = []
    for s in spans:
        key = getattr(s, "label_key", None) or s.label.key
        extra = tuple(classes_for(s)) if classes_for else ()
        result.append(Mark(s.start, s.end, key, str(s.id), extra, f"{key}: {s.text}"))
    return result
