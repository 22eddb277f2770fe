"""The demo: users, a project and work already under way, from ``fixtures/demo/``.

``setup_demo()`` is idempotent: it creates what is missing, puts the project definition and
the demo users' passwords back to what the fixtures say, and leaves everything else alone,
so running it twice changes nothing. Articles come in through the import path; the
editors' and reviewer's work is written version by version through ``save_annotation``,
so it has a real history. Users are never created by a migration.

``project.json`` gives the labels, each with optional ``attributes`` (``{"key", "name",
"type", "choices"?, "min"?, "required"?}``), and ``relation_types`` (``{"key", "name",
"from": [label keys], "to": [label keys]}``, an empty list meaning any label). They are
written through ``services.schema`` and only when they differ from what is stored.

``annotations.json`` is a list of annotations, each ``{"article": external id, "editor":
username}`` (or ``"gold": true, "author": username``) and its ``versions``, written in order.
A version is ``{"add"?, "remove"?, "relations"?, "note"?, "status"?, "final"?}``:

- a span is ``[label, phrase, occurrence?, attributes?]``: the `occurrence`-th (from 0)
  appearance of `phrase` in the text, e.g. ``["CASUALTY", "at least six civilians", 0,
  {"kind": "killed", "low": 6, "qualifier": "at_least", "victims": "civilians"}]``; adding a
  span that is already there with other attributes changes them (a new version);
- ``relations`` adds relations ``[type, from span, to span]``, each end ``[label, phrase,
  occurrence?]``, e.g. ``["SAID_BY", ["CASUALTY", "at least six civilians"], ["SOURCE",
  "Local officials"]]``; removing a span removes its relations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from .facts.schema import AttributeSpec
from .models import (
    Annotation,
    Article,
    Assignment,
    AttributeDefinition,
    Label,
    Membership,
    ModelVersion,
    Project,
    RelationType,
    Role,
)
from .services import schema
from .services.annotations import SpanInput, annotation_for, gold_for, save_annotation
from .services.assignment import assign_articles
from .services.importing import import_articles, parse_upload
from .services.predictions import upload_predictions
from .text import canonicalize
from .versioning import RelationKey
from .views.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo"
ROLE_OF_ACCOUNT = {"admin": Role.MANAGER, "editor": Role.EDITOR, "reviewer": Role.REVIEWER}
LABEL_FIELDS = ("name", "color", "hotkey", "description")


class DemoError(Exception):
    """The demo fixtures do not fit together (a phrase not in its article, say)."""


@dataclass
class DemoSummary:
    project: Project | None = None
    users_created: list[str] = field(default_factory=list)
    articles_created: int = 0
    assignments_made: int = 0
    versions_written: int = 0
    predictions_stored: int = 0

    def __str__(self) -> str:
        users = ", ".join(self.users_created) or "none"
        return (
            f"Demo project {self.project.slug if self.project else '?'}: users created: "
            f"{users}; articles added: {self.articles_created}; assignments made: "
            f"{self.assignments_made}; annotation versions written: {self.versions_written}; "
            f"predicted spans stored: {self.predictions_stored}."
        )


def setup_demo(directory: Path = DEMO_DIR) -> DemoSummary:
    """Create or bring up to date the demo project and its users; see the module docstring."""
    summary = DemoSummary()
    with transaction.atomic():
        users = _users(summary)
        project = _project(_read_json(directory / "project.json"), directory)
        summary.project = project
        _memberships(project, users)
        _articles(project, directory / "articles.json", users["admin"], summary)
        work = _read_json(directory / "annotations.json")
        _assignments(project, work, users, summary)
        for entry in work:
            summary.versions_written += _annotation(project, entry, users)
        summary.predictions_stored = _predictions(project, directory / "predictions.json")
    return summary


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DemoError(f"{path}: {exc}") from None


def _users(summary: DemoSummary) -> dict[str, Any]:
    users = {}
    for username, kind in DEMO_ACCOUNTS:
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org"}
        )
        changed = created
        if kind == "admin" and not (user.is_superuser and user.is_staff):
            user.is_superuser = user.is_staff = changed = True
        if not user.is_active:
            user.is_active = changed = True
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            changed = True
        if changed:
            user.save()
        if created:
            summary.users_created.append(username)
        users[username] = user
    return users


def _project(definition: dict[str, Any], directory: Path) -> Project:
    guidelines = (directory / definition["guidelines_file"]).read_text(encoding="utf-8")
    project = _sync(
        Project,
        {"slug": definition["slug"]},
        {
            "name": definition["name"],
            "guidelines": guidelines,
            "overlap": definition["overlap"],
            "editors_can_upload": definition["editors_can_upload"],
        },
    )
    for order, label in enumerate(definition["labels"]):
        values = {name: label[name] for name in LABEL_FIELDS}
        stored = _sync(Label, {"project": project, "key": label["key"]}, {**values, "order": order})
        for position, item in enumerate(label.get("attributes", [])):
            _sync_attribute(stored, item, position)
    for order, item in enumerate(definition.get("relation_types", [])):
        _sync_relation_type(project, item, order)
    return project


def _sync_attribute(label: Label, item: dict[str, Any], order: int) -> None:
    spec = AttributeSpec(
        key=item["key"],
        name=item["name"],
        type=item["type"],
        choices=tuple(item.get("choices", ())),
        min=item.get("min"),
        required=item.get("required", False),
    )
    stored = AttributeDefinition.objects.filter(label=label, key=spec.key).first()
    if stored is None or stored.spec() != spec or stored.order != order:
        schema.save_attribute(label=label, spec=spec, order=order, attribute=stored)


def _sync_relation_type(project: Project, item: dict[str, Any], order: int) -> None:
    wanted = schema.RelationTypeInput(
        item["key"], item["name"], tuple(item.get("from", ())), tuple(item.get("to", ()))
    )
    stored = RelationType.objects.filter(project=project, key=wanted.key).first()
    if stored is not None:
        have = (
            stored.name,
            stored.order,
            set(stored.from_labels.values_list("key", flat=True)),
            set(stored.to_labels.values_list("key", flat=True)),
        )
        if have == (wanted.name, order, set(wanted.from_labels), set(wanted.to_labels)):
            return
    schema.save_relation_type(project=project, relation=wanted, order=order, relation_type=stored)


def _sync(model, lookup: dict[str, Any], values: dict[str, Any]):
    """get_or_create, then save only the fields that differ (so a rerun writes nothing)."""
    obj, created = model.objects.get_or_create(**lookup, defaults=values)
    stale = [name for name, value in values.items() if getattr(obj, name) != value]
    if not created and stale:
        for name in stale:
            setattr(obj, name, values[name])
        obj.save(update_fields=stale)
    return obj


def _memberships(project: Project, users: dict[str, Any]) -> None:
    for username, kind in DEMO_ACCOUNTS:
        _sync(
            Membership,
            {"project": project, "user": users[username]},
            {"role": ROLE_OF_ACCOUNT[kind]},
        )


def _articles(project: Project, path: Path, admin, summary: DemoSummary) -> None:
    # The import path, like any upload: canonical text (the CRLF article becomes LF),
    # existing external ids skipped. Assignments come after, so the editors who already
    # worked on an article are the ones it is assigned to.
    records = parse_upload(path.read_bytes(), name=path.name)
    result = import_articles(project=project, records=records, user=admin, assign=False)
    summary.articles_created = result.created


def _assignments(project: Project, work: list[dict], users: dict[str, Any], summary) -> None:
    articles = {a.external_id: a for a in project.articles.all()}
    for entry in work:
        if "editor" in entry:
            article = _article(articles, entry["article"])
            _, created = Assignment.objects.get_or_create(
                article=article, editor=users[entry["editor"]]
            )
            summary.assignments_made += created
    summary.assignments_made += assign_articles(project)


def _article(articles: dict[str, Article], external_id: str) -> Article:
    try:
        return articles[external_id]
    except KeyError:
        raise DemoError(f"annotations.json names {external_id!r}, which is not an article")


def _annotation(project: Project, entry: dict[str, Any], users: dict[str, Any]) -> int:
    """Write one annotation's scripted versions, unless it already has a history."""
    article = _article({a.external_id: a for a in project.articles.all()}, entry["article"])
    if entry.get("gold"):
        annotation, author, role = gold_for(article), users[entry["author"]], Role.REVIEWER
    else:
        author = users[entry["editor"]]
        annotation, role = annotation_for(article, author), Role.EDITOR
    if annotation.version > 0:
        return 0
    sources = _editor_spans(article) if annotation.is_gold else {}
    spans: dict[tuple[int, int, str], SpanInput] = {}
    relations: set[RelationKey] = set()
    for step in entry["versions"]:
        for item in step.get("remove", []):
            spans.pop(_locate(article, *item).key, None)
        for item in step.get("add", []):
            span = _span_item(article, item)
            kept = spans.get(span.key)
            # Added again without attributes: it keeps those it has.
            attributes = span.attributes if kept is None or span.attributes else kept.attributes
            spans[span.key] = SpanInput(
                span.start, span.end, span.label, span.text, sources.get(span.key), attributes
            )
        for kind, source, target in step.get("relations", []):
            relations.add(
                RelationKey(_locate(article, *source).key, _locate(article, *target).key, kind)
            )
        relations = {r for r in relations if r.from_span in spans and r.to_span in spans}
        save_annotation(
            annotation=annotation,
            author=author,
            role=role,
            base_version=annotation.version,
            spans=list(spans.values()),
            relations=sorted(relations),
            status=step.get("status"),
            final=step.get("final"),
            note=step.get("note", ""),
        )
    return len(entry["versions"])


def _predictions(project: Project, path: Path) -> int:
    """A model's predictions (``predictions.json``: ``{"article", "model", "spans": [[label,
    phrase, occurrence, score]]}``), uploaded as a model would send them; a model version
    the project already has is left alone."""
    if not path.exists():
        return 0
    articles = {a.external_id: a for a in project.articles.all()}
    known = set(ModelVersion.objects.filter(project=project).values_list("name", flat=True))
    lines = []
    for entry in _read_json(path):
        if entry["model"] in known:
            continue
        article = _article(articles, entry["article"])
        spans = []
        for label, phrase, occurrence, score in entry["spans"]:
            span = _locate(article, label, phrase, occurrence)
            spans.append({"start": span.start, "end": span.end, "label": label, "score": score})
        lines.append(
            json.dumps({"id": article.external_id, "model": entry["model"], "spans": spans})
        )
    if not lines:
        return 0
    return upload_predictions(project=project, data="\n".join(lines)).created


def _span_item(article: Article, item: list) -> SpanInput:
    """A span from ``[label, phrase, occurrence?, attributes?]``."""
    attributes = item[-1] if isinstance(item[-1], dict) else None
    place = item[:-1] if attributes is not None else item
    span = _locate(article, *place)
    return SpanInput(span.start, span.end, span.label, span.text, attributes=attributes)


def _locate(article: Article, label: str, phrase: str, occurrence: int = 0) -> SpanInput:
    """The span of the `occurrence`-th (from 0) appearance of `phrase` in the article."""
    phrase = canonicalize(phrase)
    at = -1
    for _ in range(occurrence + 1):
        at = article.text.find(phrase, at + 1)
        if at < 0:
            raise DemoError(
                f"{article.external_id}: {phrase!r} (occurrence {occurrence}) is not in the text"
            )
    return SpanInput(at, at + len(phrase), label, phrase)


def _editor_spans(article: Article) -> dict[tuple[int, int, str], int]:
    """Submitted editor spans by (start, end, label), so gold spans name their source."""
    found: dict[tuple[int, int, str], int] = {}
    for annotation in Annotation.objects.submitted().filter(article=article):
        for span in annotation.current_spans():
            found.setdefault((span.start, span.end, span.label.key), span.pk)
    return found
