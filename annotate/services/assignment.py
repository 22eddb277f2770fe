"""Who labels what: each article goes to `project.overlap` editors, least-loaded first."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from ..models import Article, Assignment, Project, Role
from .bulk import insert_rows, max_params


def project_editors(project: Project) -> QuerySet:
    """The project's active editors, in a stable order."""
    return (
        get_user_model()
        .objects.filter(memberships__project=project, memberships__role=Role.EDITOR, is_active=True)
        .order_by("id")
    )


def editor_loads(project: Project) -> dict[int, int]:
    """Assignments in the project per active editor id (0 for an editor with none)."""
    return _loads(project, list(project_editors(project).values_list("pk", flat=True)))


def _loads(project: Project, editors: list[int]) -> dict[int, int]:
    if not editors:
        return {}
    # Grouped from the project's articles, for every editor who has some (former editors
    # too): starting from the editors walks all their assignments, in every project.
    counts = dict(
        Assignment.objects.filter(article__project=project)
        .order_by()
        .values_list("editor")
        .annotate(n=Count("*"))
    )
    return {pk: counts.get(pk, 0) for pk in editors}


@transaction.atomic
def assign_articles(
    project: Project,
    articles: Iterable[Article | int] | None = None,
    *,
    first: AbstractBaseUser | None = None,
    new: bool = False,
) -> int:
    """Fill every article (or the given ones, or ids) up to `overlap` editors. Returns how
    many assignments were made.

    Each article goes to the editors with the fewest assignments in the project so far
    (ties broken by user id, so the result is deterministic), and every assignment counts
    at once, so a batch spreads evenly: 9 articles, 3 editors, overlap 2 make 6 each.
    `first`, if given, is an editor who must be among an article's editors when it has room
    (an editor who uploads an article labels it). Articles that already have editors keep
    them; with fewer editors than `overlap`, an article gets them all and is filled up by a
    later call, e.g. when an editor joins. `new` says the articles were just created, so
    they have no editors to look up.
    """
    editors = list(project_editors(project).values_list("pk", flat=True))
    if not editors:
        return 0
    if len(editors) <= project.overlap:
        # Every article gets them all: their loads cannot change who labels what.
        load = dict.fromkeys(editors, 0)
    else:
        load = _loads(project, editors)
    if articles is None:
        ids = list(project.articles.values_list("pk", flat=True))
    else:
        ids = [article if isinstance(article, int) else article.pk for article in articles]
    have: dict[int, set[int]] = {}
    size = max_params()
    for start in range(0, 0 if new else len(ids), size):
        for article_id, editor_id in (
            Assignment.objects.filter(article_id__in=ids[start : start + size])
            .order_by()
            .values_list("article_id", "editor_id")
        ):
            have.setdefault(article_id, set()).add(editor_id)

    first_id = getattr(first, "pk", None)
    made: list[tuple[int, int]] = []
    for article_id in ids:
        taken = have.setdefault(article_id, set())
        room = project.overlap - len(taken)
        if room <= 0:
            continue
        candidates = sorted((pk for pk in load if pk not in taken), key=lambda pk: (load[pk], pk))
        if first_id in load and first_id not in taken:
            candidates.remove(first_id)
            candidates.insert(0, first_id)
        for editor_id in candidates[:room]:
            made.append((article_id, editor_id))
            taken.add(editor_id)
            load[editor_id] += 1
    insert_rows(Assignment, ("article", "editor"), made, same={"created_at": timezone.now()})
    return len(made)
