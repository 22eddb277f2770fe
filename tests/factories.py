"""Small `make_*` helpers that build test data through the domain layer."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from annotate.models import (
    Annotation,
    Article,
    Assignment,
    AttributeDefinition,
    Label,
    Membership,
    Project,
    RelationType,
    Role,
)
from annotate.services.annotations import (
    RelationInput,
    SpanInput,
    annotation_for,
    save_annotation,
)
from annotate.text import canonicalize

_counter = itertools.count(1)

DEFAULT_LABELS = [
    ("ACTOR", "Actor", "#ffd966", "1"),
    ("LOCATION", "Location", "#9fc5e8", "2"),
    ("CASUALTY", "Casualty figure", "#ea9999", "3"),
    ("SOURCE", "Source", "#b6d7a8", "4"),
]
PASSWORD = "test-password-123"


def make_user(username: str | None = None, **extra):
    username = username or f"user{next(_counter)}"
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.org", **extra
    )
    return user


def make_project(slug: str | None = None, *, overlap: int = 2, labels=DEFAULT_LABELS, **extra):
    n = next(_counter)
    slug = slug or f"project-{n}"
    project = Project.objects.create(
        name=extra.pop("name", f"Project {n}"), slug=slug, overlap=overlap, **extra
    )
    for order, (key, name, color, hotkey) in enumerate(labels):
        Label.objects.create(
            project=project, key=key, name=name, color=color, hotkey=hotkey, order=order
        )
    return project


def make_member(project: Project, user=None, role: str = Role.EDITOR):
    user = user or make_user()
    Membership.objects.create(project=project, user=user, role=role)
    return user


def make_attribute(project: Project, label: str, key: str, type: str, **extra):
    """An attribute that spans of the label keyed `label` may carry, e.g.
    ``make_attribute(project, "CASUALTY", "low", "integer", min=0)``."""
    return AttributeDefinition.objects.create(
        label=project.labels.get(key=label),
        key=key,
        name=extra.pop("name", key.replace("_", " ").capitalize()),
        type=type,
        **extra,
    )


def make_relation_type(project: Project, key: str, from_labels=(), to_labels=(), **extra):
    """A relation type of the project, e.g. ``make_relation_type(project, "SAID_BY",
    ["CASUALTY"], ["SOURCE"])``; no labels on a side means any label."""
    relation_type = RelationType.objects.create(
        project=project, key=key, name=extra.pop("name", key.replace("_", " ").lower()), **extra
    )
    relation_type.from_labels.set(project.labels.filter(key__in=from_labels))
    relation_type.to_labels.set(project.labels.filter(key__in=to_labels))
    return relation_type


def make_article(
    project: Project,
    text: str = "Rebels shelled Aleppo on Monday.",
    *,
    external_id: str | None = None,
    title: str = "",
    editors=(),
    **extra,
) -> Article:
    article = Article.objects.create(
        project=project,
        external_id=external_id or f"a{next(_counter)}",
        title=title or "An article",
        text=canonicalize(text),
        **extra,
    )
    for editor in editors:
        Assignment.objects.create(article=article, editor=editor)
    return article


def make_annotation(
    article: Article, editor, spans=(), *, relations=None, submit: bool = False
) -> Annotation:
    """An editor's annotation with the given spans: (start, end, LABEL) tuples, and
    relations: (from index, to index, TYPE) tuples into `spans`."""
    annotation = annotation_for(article, editor)
    save_annotation(
        annotation=annotation,
        author=editor,
        role=Role.EDITOR,
        base_version=annotation.version,
        spans=[SpanInput(s, e, label) for s, e, label in spans],
        relations=None if relations is None else [RelationInput(*r) for r in relations],
        status=Annotation.Status.SUBMITTED if submit else None,
    )
    annotation.refresh_from_db()
    return annotation
