from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

UNDEFINED = "undefined for these data"


@register.filter
def score(value: float | None, digits: int = 3) -> SafeString:
    """A coefficient for people: fixed decimals, or "n/a" explained when undefined."""
    if value is None:
        return format_html(
            '<abbr class="undefined" title="{}">n/a</abbr>', "undefined for these data"
        )
    return format_html("{}", f"{value:.{int(digits)}f}")
