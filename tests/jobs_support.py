"""Helpers shared by the job tests."""

from __future__ import annotations

from annotate.models import Role
from annotate.services.review import set_final

from .factories import make_article


def finalise(project, reviewer, count: int) -> list:
    """`count` articles whose (empty) gold is final: what a release is made of."""
    articles = [make_article(project, f"Article number {n}.") for n in range(count)]
    for article in articles:
        set_final(article, reviewer, role=Role.REVIEWER, final=True, base_version=0)
    return articles
