"""Article text as HTML with labelled spans marked. Pure: no Django.

Spans may nest (an ACTOR holding a LOCATION) or cross. The output is well-formed HTML in
which every span is one or more ``<mark>`` fragments, nested so that longer spans are
outside shorter ones; a span that crosses another is split into fragments that share its
``data-span``. The text nodes, read in order, are exactly the article text, so the browser can
count offsets over them. Everything from the text and the spans is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


def _open_tag(mark: Mark, continued: bool) -> str:
    classes = ["span", f"lbl-{mark.label}", *mark.classes]
    if continued:
        classes.append("cont")
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
    marks = sorted(
        (m for m in marks if 0 <= m.start < m.end <= len(text)),
        key=lambda m: (m.start, -m.end, m.label, m.id),
    )
    starts: dict[int, list[Mark]] = {}
    ends: dict[int, set[Mark]] = {}
    for m in marks:
        starts.setdefault(m.start, []).append(m)
        ends.setdefault(m.end, set()).add(m)
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
        opening = [(m, True) for m in reopen] + [(m, False) for m in starts.get(pos, [])]
        opening.sort(key=lambda pair: (-pair[0].end, pair[0].start, pair[0].label, pair[0].id))
        for m, continued in opening:
            out.append(_open_tag(m, continued))
            stack.append(m)
    out.extend("</mark>" for _ in stack)
    return "".join(out)


def marks_from_spans(spans: Sequence, *, classes_for=None) -> list[Mark]:
    """Marks for model spans (anything with start, end, id and label.key / label_key)."""
    result = []
    for s in spans:
        key = getattr(s, "label_key", None) or s.label.key
        extra = tuple(classes_for(s)) if classes_for else ()
        result.append(Mark(s.start, s.end, key, str(s.id), extra, f"{key}: {s.text}"))
    return result
