from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from .. import guidelines, highlight
from ..versioning import describe

register = template.Library()


@register.simple_tag
def highlighted(text: str, marks) -> SafeString:
    """The article text with marks (annotate.highlight.Mark) as nested <mark> elements."""
    return mark_safe(highlight.render(text, marks))  # noqa: S308 - render() escapes everything


@register.filter
def markdown(source: str) -> SafeString:
    """Markdown as HTML, rendered now: for the guidelines use the stored
    ``project.guidelines_as_html``, rendered once per change."""
    return mark_safe(guidelines.render(source))  # noqa: S308 - raw HTML is escaped


@register.filter
def version_summary(summary: dict) -> str:
    return describe(summary or {})


@register.filter
def attributes_text(values: dict | None) -> str:
    """A span's attribute values in a line, by key: ``confirmed: yes · kind: wounded · low: 6``
    (sorted: PostgreSQL's jsonb does not keep the order they were given in)."""
    if not values:
        return ""
    return " · ".join(f"{key}: {_value_text(value)}" for key, value in sorted(values.items()))


@register.filter
def value_text(value: object) -> str:
    return _value_text(value)


def _value_text(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
