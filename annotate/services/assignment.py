"""Who labels what: each article goes to `project.overlap` editors, least-loaded first."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q

from ..models import Article, Assignment, Project, Role


def project_editors(project: Project):
    return (
        get_user_model()
        .objects.filter(memberships__project=project, memberships__role=Role.EDITOR, is_active=True)
        .order_by("id")
    )


@transaction.atomic
def assign_articles(
    project: Project, articles: Iterable[Article] | None = None, *, first=None
) -> int:
    """Fill every article (or the given ones) up to `overlap` editors. Returns how many
    assignments were made.

    Each article goes to the editors with the fewest assignments in the project so far
    (ties broken by user id, so the result is deterministic). `first`, if given, is an
    editor who must be among an article's editors when it has room (an editor who uploads
    an article labels it).
    """
    editors = list(
        project_editors(project).annotate(
            load=Count("assignments", filter=Q(assignments__article__project=project))
        )
    )
    if not editors:
        return 0
    load = {e.pk: e.load for e in editors}
    if articles is None:
        articles = project.articles.all()
    article_list = list(articles)
    have: dict[int, set[int]] = {}
    for article_id, editor_id in Assignment.objects.filter(article__in=article_list).values_list(
        "article_id", "editor_id"
    ):
        have.setdefault(article_id, set()).add(editor_id)

    new: list[Assignment] = []
    for article in article_list:
        taken = have.setdefault(article.pk, set())
        room = project.overlap - len(taken)
        candidates = sorted((pk for pk in load if pk not in taken), key=lambda pk: (load[pk], pk))
        if first is not None and first.pk in load and first.pk not in taken and room > 0:
            candidates.remove(first.pk)
            candidates.insert(0, first.pk)
        for editor_id in candidates[: max(room, 0)]:
            new.append(Assignment(article=article, editor_id=editor_id))
            taken.add(editor_id)
            load[editor_id] += 1
    Assignment.objects.bulk_create(new, batch_size=1000)
    return len(new)
