"""Tags for the labelling page's hot paths, where a template loop over hundreds of spans
costs more than the rest of the page together."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from .. import highlight
from ..offsets import to_utf16
from ..services.page_facts import PageFacts
from .facts_tags import span_facts_html

register = template.Library()


@register.simple_tag
def span_items(
    spans: Iterable,
    label_key: str,
    url_prefix: str,
    facts: PageFacts | None = None,
    relation_url: str = "",
) -> SafeString:
    """The span list's items: one link per span (to the span's own page, which works without
    JavaScript; the page's script turns a click into selecting the span), and under it,
    with `facts`, its attributes at a glance and its relations (facts_tags)."""
    css = escape(f"span-item lbl-{label_key}")
    parts = [
        f'<li><a class="{css}" href="{escape(url_prefix)}{s.pk}/" data-span="{s.pk}">'
        f'<span class="quote">{escape(s.quote)}</span> '
        f'<span class="offsets">{s.start}–{s.end}</span></a>'
        f"{span_facts_html(facts, s, url_prefix, relation_url) if facts else ''}</li>"
        for s in spans
    ]
    return mark_safe("\n".join(parts))  # noqa: S308 - every value above is escaped or an int


@register.simple_tag
def highlighted_paragraphs(text: str, marks) -> SafeString:
    """The article text with its marks, one ``<span class="para">`` per paragraph (so that the
    page can redraw the paragraph a change touched)."""
    html = highlight.render_paragraphs(text, marks, lambda offset: to_utf16(text, offset))
    return mark_safe(html)  # noqa: S308 - render_paragraphs() escapes everything
