"""Project guidelines: their size limit and their Markdown. Pure: no Django.

Raw HTML is shown as text and markdown-it refuses ``javascript:`` links. markdown-it's time
grows linearly with the text, but at tens of microseconds a character on bracket-heavy input
(1.6 MB of ``[`` took 24 s), so guidelines are capped at :data:`MAX_CHARS` and rendered once
per change, not per page view (``Project.guidelines_html``).
"""

from __future__ import annotations

from markdown_it import MarkdownIt

MAX_CHARS = 100_000

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def size_problem(source: str) -> str | None:
    """Why `source` is too large for guidelines, or None."""
    if len(source) > MAX_CHARS:
        return f"Guidelines are limited to {MAX_CHARS:,} characters; these have {len(source):,}."
    return None


def render(source: str) -> str:
    """The guidelines as HTML (safe to insert into a page as it is)."""
    return _markdown.render(source or "")
