"""Who labels what: each article goes to `project.overlap` editors, least-loaded first."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from ..models import Article, Assignment, Project, Role

CHUNK = 500  # ids per query: SQLite caps the parameters of one statement


def project_editors(project: Project) -> QuerySet:
    """The project's active editors, in a stable order."""
    return (
        get_user_model()
        .objects.filter(memberships__project=project, memberships__role=Role.EDITOR, is_active=True)
        .order_by("id")
    )


def editor_loads(project: Project) -> dict[int, int]:
    """Assignments in the project per active editor id (0 for an editor with none)."""
    editors = project_editors(project).annotate(
        load=Count("assignments", filter=Q(assignments__article__project=project))
    )
    return {editor.pk: editor.load for editor in editors}


@transaction.atomic
def assign_articles(
    project: Project,
    articles: Iterable[Article] | None = None,
    *,
    first: AbstractBaseUser | None = None,
) -> int:
    """Fill every article (or the given ones) up to `overlap` editors. Returns how many
    assignments were made.

    Each article goes to the editors with the fewest assignments in the project so far
    (ties broken by user id, so the result is deterministic), and every assignment counts
    at once, so a batch spreads evenly: 9 articles, 3 editors, overlap 2 make 6 each.
    `first`, if given, is an editor who must be among an article's editors when it has room
    (an editor who uploads an article labels it). Articles that already have editors keep
    them; with fewer editors than `overlap`, an article gets them all and is filled up by a
    later call, e.g. when an editor joins.
    """
    load = editor_loads(project)
    if not load:
        return 0
    article_list = list(project.articles.all() if articles is None else articles)
    have: dict[int, set[int]] = {}
    ids = [article.pk for article in article_list]
    for start in range(0, len(ids), CHUNK):
        for article_id, editor_id in Assignment.objects.filter(
            article_id__in=ids[start : start + CHUNK]
        ).values_list("article_id", "editor_id"):
            have.setdefault(article_id, set()).add(editor_id)

    first_id = getattr(first, "pk", None)
    new: list[Assignment] = []
    for article in article_list:
        taken = have.setdefault(article.pk, set())
        room = project.overlap - len(taken)
        if room <= 0:
            continue
        candidates = sorted((pk for pk in load if pk not in taken), key=lambda pk: (load[pk], pk))
        if first_id in load and first_id not in taken:
            candidates.remove(first_id)
            candidates.insert(0, first_id)
        for editor_id in candidates[:room]:
            new.append(Assignment(article=article, editor_id=editor_id))
            taken.add(editor_id)
            load[editor_id] += 1
    Assignment.objects.bulk_create(new, batch_size=1000)
    return len(new)
