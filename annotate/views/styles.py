"""Per-project label colours as a stylesheet, so pages need no inline styles (CSP)."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.cache import cache_control

from ..models import COLOR_RE, LABEL_KEY_RE
from ..permissions import project_for


def _text_color(hex_color: str) -> str:
    """Black or white, whichever reads better on the background (WCAG relative luminance)."""
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if luminance > 0.179 else "#ffffff"


@login_required
@cache_control(private=True, max_age=60)
def label_css(request: HttpRequest, slug: str) -> HttpResponse:
    project, _ = project_for(request.user, slug)
    rules = []
    for label in project.labels.all():
        # Keys and colours are validated on the way in; check again, this is CSS.
        if re.fullmatch(LABEL_KEY_RE, label.key) and re.fullmatch(COLOR_RE, label.color):
            fg = _text_color(label.color)
            rules.append(f".lbl-{label.key} {{ --lbl: {label.color}; --lbl-fg: {fg}; }}")
    return HttpResponse("\n".join(rules) + "\n", content_type="text/css; charset=utf-8")


urlpatterns = [path("projects/<slug:slug>/labels.css", label_css, name="label-css")]
