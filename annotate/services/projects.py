"""Creating projects and adding labels: the writes whose uniqueness (project slug, label key
and hotkey in a project) two requests can race for.

The checks before the write give the usual answer (400, naming the field); the database's
unique constraints decide a race the checks could not see, and the loser gets
:class:`Conflict` (409) with a message instead of an IntegrityError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.db import IntegrityError, transaction

from ..models import Label, Membership, Project, Role
from .annotations import AnnotationError

# Label.order is a PostgreSQL smallint; far below it, a label list nobody could use.
MAX_LABELS_PER_PROJECT = 500


class Conflict(AnnotationError):
    """Another request took the same unique name first; nothing was written."""

    status = 409


class TooManyLabels(AnnotationError):
    status = 400


def create_project(
    *,
    creator,
    labels: Sequence[Mapping[str, object]],
    **fields: object,
) -> Project:
    """The project, its labels (in the order given) and `creator` as its manager, in one
    transaction. A slug another request took meanwhile raises Conflict."""
    if len(labels) > MAX_LABELS_PER_PROJECT:
        raise TooManyLabels(f"A project has at most {MAX_LABELS_PER_PROJECT} labels.")
    try:
        with transaction.atomic():
            project = Project.objects.create(**fields)
            Label.objects.bulk_create(
                Label(project=project, order=order, **item) for order, item in enumerate(labels)
            )
            Membership.objects.create(project=project, user=creator, role=Role.MANAGER)
    except IntegrityError:
        if Project.objects.filter(slug=fields.get("slug")).exists():
            raise Conflict(
                f"A project with the slug {fields.get('slug')!r} was created at the same "
                "time; nothing was created. Choose another slug."
            ) from None
        raise
    return project


def add_label(
    *,
    project: Project,
    fields: Mapping[str, object],
    check: Callable[[list[Label]], None] | None = None,
) -> Label:
    """Add a label at the end of the project's list. The project row is locked while the
    existing labels are read, so concurrent additions are checked one after the other;
    `check(labels)` (if given) refuses a clash with them. Should a clash get past it, the
    unique constraints refuse it and Conflict says so."""
    try:
        with transaction.atomic():
            Project.objects.select_for_update().filter(pk=project.pk).exists()
            existing = list(Label.objects.filter(project=project))
            if len(existing) >= MAX_LABELS_PER_PROJECT:
                raise TooManyLabels(f"A project has at most {MAX_LABELS_PER_PROJECT} labels.")
            if check is not None:
                check(existing)
            order = max((label.order for label in existing), default=-1) + 1
            return Label.objects.create(project=project, order=order, **fields)
    except IntegrityError:
        raise Conflict(
            f"Another label with the key {fields.get('key')!r} or the hotkey "
            f"{fields.get('hotkey') or ''!r} was added at the same time; nothing was added."
        ) from None
