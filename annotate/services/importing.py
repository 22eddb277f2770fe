"""Adding articles to a project: the one write path of the ``import_articles`` command, the
import page and the API.

Parsing (:mod:`annotate.article_parsing`) finds every error before anything is written; the
write is then one transaction: articles whose external id the project already has are
skipped and reported, the rest are inserted in bulk and handed to editors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..article_parsing import (
    MAX_TITLE,
    ArticleRecord,
    Format,
    Issue,
    Limits,
    generated_id,
    parse,
    parse_record,
)
from ..models import Article, Project, Role, text_sha256
from ..text import TextError, canonicalize
from .annotations import AnnotationError, NotAllowed
from .assignment import assign_articles
from .bulk import insert_rows, max_params
from .ml_backend import BackendOutcome, ask_backend
from .uploads import InvalidUpload

ARTICLE_FIELDS = ("external_id", "title", "text", "sha256", "url", "published_at", "meta")


class InvalidImport(InvalidUpload):
    """Articles that cannot be imported; nothing was written."""

    nothing_written = "Nothing was imported"


class ImportTooLarge(InvalidImport):
    status = 413


class ImportConflict(AnnotationError):
    """Another write added some of the same articles while this import ran."""

    status = 409


@dataclass
class ImportResult:
    created: int = 0
    skipped: list[str] = field(default_factory=list)  # external ids the project already had
    assigned: int = 0  # assignments made for the new articles
    article_ids: list[int] = field(default_factory=list)
    predictions: BackendOutcome | None = None  # what the ML backend gave, if one is set

    def add(self, other: ImportResult) -> None:
        self.created += other.created
        self.skipped.extend(other.skipped)
        self.assigned += other.assigned
        self.article_ids.extend(other.article_ids)


def upload_limits() -> Limits:
    """The caps on one upload (page or API), from settings MAX_ARTICLE_CHARS,
    MAX_IMPORT_ITEMS and MAX_UPLOAD_BYTES."""
    return Limits(
        max_chars=settings.MAX_ARTICLE_CHARS,
        max_items=settings.MAX_IMPORT_ITEMS,
        max_bytes=settings.MAX_UPLOAD_BYTES,
    )


def can_import(project: Project, role: str | None) -> bool:
    """Managers add articles; editors too where the project allows it."""
    return role == Role.MANAGER or (role == Role.EDITOR and project.editors_can_upload)


def parse_upload(
    data: bytes | str,
    *,
    name: str = "",
    format: Format | str = "auto",
    limits: Limits | None = None,
) -> list[ArticleRecord]:
    """The records of an upload, or InvalidImport (ImportTooLarge over the byte cap)."""
    result = parse(data, name=name, format=format, limits=limits or upload_limits())  # type: ignore[arg-type]
    if result.too_large:
        raise ImportTooLarge(result.errors)
    if result.errors:
        raise InvalidImport(result.errors)
    return result.records


def import_upload(
    *,
    project: Project,
    data: bytes | str,
    user=None,
    role: str | None = None,
    name: str = "",
    format: Format | str = "auto",
    limits: Limits | None = None,
) -> ImportResult:
    """Parse and import one upload: what the import page and the API call.

    With `role` (the uploader's role in the project), the import rights are checked here:
    managers import anything, editors (where the project allows it) one article at a time,
    and it goes to their own queue first.
    """
    if role is not None and not can_import(project, role):
        raise NotAllowed("You cannot add articles to this project.")
    records = parse_upload(data, name=name, format=format, limits=limits)
    if role == Role.EDITOR and len(records) > 1:
        raise InvalidImport(
            [Issue(f"editors add one article at a time; this upload has {len(records)}")]
        )
    return import_articles(project=project, records=records, user=user)


def import_pasted(
    *,
    project: Project,
    text: str,
    title: str = "",
    external_id: str = "",
    url: str = "",
    user=None,
    role: str | None = None,
    limits: Limits | None = None,
) -> ImportResult:
    """Import one article typed or pasted into a form. Without an external id, one is made
    from the text (so the same text pasted twice is found, not duplicated); without a
    title, its first non-blank line is the title."""
    if role is not None and not can_import(project, role):
        raise NotAllowed("You cannot add articles to this project.")
    try:
        canonical = canonicalize(text)
    except TextError as exc:
        raise InvalidImport([Issue(f"text {exc.reason}")])
    first_line = next((line for line in canonical.split("\n") if line.strip()), "")
    obj = {
        "external_id": external_id.strip() or generated_id(canonical),
        "title": title.strip() or first_line[:MAX_TITLE],
        "text": canonical,
        "url": url,
    }
    try:
        record = parse_record(obj, limits=limits or upload_limits())
    except ValueError as exc:
        raise InvalidImport([Issue(str(exc))])
    return import_articles(project=project, records=[record], user=user)


def import_articles(
    *,
    project: Project,
    records: Sequence[ArticleRecord],
    user=None,
    assign: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Insert the records (from :mod:`annotate.article_parsing`) in one transaction.

    External ids the project already has are skipped and listed, so running an import
    twice is harmless. New articles are bulk-inserted (their sha256 computed here, since
    bulk inserts skip ``Article.save``), recorded as created by `user`, and, with `assign`,
    given to ``project.overlap`` editors, `user` first when they are one of its editors.
    `progress` is called with the number of articles written as they are sent. The number
    of queries does not grow with the number of records (up to the statement parameter
    limit: 25,000 articles per statement on SQLite as usually built).
    """
    check_unique_ids(records)
    try:
        with transaction.atomic():
            # One import per project at a time (PostgreSQL), so two uploads of the same ids
            # cannot race past the skip check and editor loads are counted consistently.
            Project.objects.select_for_update().filter(pk=project.pk).exists()
            result = _insert(project, records, user, progress)
            if assign and result.article_ids:
                result.assigned = assign_articles(project, result.article_ids, first=user, new=True)
            if project.ml_backend_url and result.article_ids:
                # After the commit, outside the lock: the backend's answer (or its failure)
                # never undoes or holds up the articles, and is told with the result.
                transaction.on_commit(lambda: _ask_backend(project, result))
    except IntegrityError:
        raise ImportConflict(
            "Another import added some of these articles at the same time; nothing was "
            "imported. Try again: articles already present will be skipped."
        )
    return result


def _ask_backend(project: Project, result: ImportResult) -> None:
    result.predictions = ask_backend(project, result.article_ids)


def check_unique_ids(records: Sequence[ArticleRecord]) -> None:
    """InvalidImport when an external id appears twice in one import."""
    ids = [record["external_id"] for record in records]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        twice = [i for i in ids if i in seen or seen.add(i)]  # type: ignore[func-returns-value]
        raise InvalidImport([Issue(f"external_id {twice[0]!r} appears twice in the batch")])


def _insert(
    project: Project,
    records: Sequence[ArticleRecord],
    user,
    progress: Callable[[int], None] | None,
) -> ImportResult:
    existing = _article_ids(project, [record["external_id"] for record in records])
    result = ImportResult(
        skipped=[record["external_id"] for record in records if record["external_id"] in existing]
    )
    fresh = [record for record in records if record["external_id"] not in existing]
    rows = [
        (
            record["external_id"],
            record["title"],
            record["text"],
            text_sha256(record["text"]),
            record["url"],
            record["published_at"],
            record["meta"],
        )
        for record in fresh
    ]
    article_ids = insert_rows(
        Article,
        ARTICLE_FIELDS,
        rows,
        same={
            "project": project.pk,
            "created_by": getattr(user, "pk", None),
            "created_at": timezone.now(),
        },
        return_ids=True,
        progress=progress,
    )
    if article_ids is None:
        new = _article_ids(project, [record["external_id"] for record in fresh])
        article_ids = [new[record["external_id"]] for record in fresh]
    result.created = len(fresh)
    result.article_ids = article_ids
    return result


def _article_ids(project: Project, external_ids: list[str]) -> dict[str, int]:
    """The ids of the project's articles with these external ids (those it has)."""
    found: dict[str, int] = {}
    size = max_params() - 1
    for start in range(0, len(external_ids), size):
        found.update(
            Article.objects.filter(
                project=project, external_id__in=external_ids[start : start + size]
            )
            # Unordered: sorting by id would walk the whole project instead of the ids.
            .order_by()
            .values_list("external_id", "pk")
        )
    return found
