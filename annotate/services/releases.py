"""Dataset releases: freezing the final gold, and rebuilding its bytes later.

A release is created in one pass over the final gold (chunked, constant memory): each
article's manifest entry is written from the database, and the exported record is then built
*from the manifest entry*, exactly as a later download builds it. So the sha256 computed at
creation is the sha256 of every download, and a test can hold us to it.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from ..exports import ExportRecord, ExportRelation, ExportSpan, render
from ..exports.facts import fact_changes
from ..exports.jsonl import dumps, line
from ..models import RELEASE_NAME_RE, Annotation, Article, Label, Project, Release
from .exporting import (
    CHUNK_SIZE,
    Target,
    fact_columns,
    label_keys,
    label_ranks,
    relations_at_versions,
    spans_at_versions,
    submitted_editors,
    timestamp,
    version_authors,
)


class ReleaseError(Exception):
    """A release that cannot be made or rebuilt; `status` is the HTTP status."""

    status = 400

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class ReleaseBroken(ReleaseError):
    """The data a release was made from is gone (an article was deleted)."""

    status = 409


@dataclass(frozen=True)
class Entry:
    """One manifest entry; see :class:`annotate.models.Release`."""

    article: int
    version: int
    id: str
    title: str
    url: str
    sha256: str
    spans_sha256: str
    adjudicator: str | None
    annotators: list[str]
    # Releases with facts (format version 2) only:
    published_at: str | None = None
    facts_sha256: str | None = None  # attributes and relations, to tell a change of facts

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def spans_digest(spans: Sequence[ExportSpan]) -> str:
    """A digest of the span set, whatever order the spans are listed in (releases made
    before spans were listed in label order compare equal to later ones)."""
    return hashlib.sha256(
        dumps(sorted([s["start"], s["end"], s["label"]] for s in spans)).encode()
    ).hexdigest()


def facts_digest(spans: Sequence[ExportSpan], relations: Sequence[ExportRelation]) -> str:
    """A digest of the spans' attributes and the relations, whatever order they are in."""
    ends = [(s["start"], s["end"], s["label"]) for s in spans]
    return hashlib.sha256(
        dumps(
            [
                sorted(
                    [*end, s.get("attributes") or {}] for end, s in zip(ends, spans, strict=True)
                ),
                sorted([*ends[r["from"]], *ends[r["to"]], r["type"]] for r in relations),
            ],
        ).encode()
    ).hexdigest()


def record_from(
    entry: dict[str, Any],
    text: str,
    spans: list[ExportSpan],
    relations: list[ExportRelation] | None = None,
) -> ExportRecord:
    """The export record of one manifest entry: the one place a release record is built.
    `relations` is None for releases made before facts (their records have none)."""
    record: ExportRecord = {
        "id": entry["id"],
        "article": entry["article"],
        "title": entry["title"],
        "url": entry["url"],
        "text": text,
        "spans": spans,
        "source": "gold",
        "version": entry["version"],
        "adjudicator": entry["adjudicator"],
        "annotators": list(entry["annotators"]),
        "final": True,
    }
    if relations is not None:
        record["relations"] = relations
        record["published_at"] = entry.get("published_at")
    return record


def check_name(project: Project, name: object) -> str:
    if not isinstance(name, str) or not re.fullmatch(RELEASE_NAME_RE, name):
        raise ReleaseError(
            "A release name is 1 to 64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (e.g. v1, 2024-06, gold-1.2)."
        )
    if Release.objects.filter(project=project, name=name).exists():
        raise ReleaseError(f"This project already has a release named {name!r}.")
    return name


def create_release(
    *,
    project: Project,
    name: str,
    user,
    note: str = "",
    agreement: dict | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> Release:
    """Freeze the gold of every final article of the project as release `name`.

    `progress`, if given, is called with (articles read, articles in all) after each chunk."""
    name = check_name(project, name)
    if not isinstance(note, str) or len(note) > 2000:
        raise ReleaseError("The note must be text of at most 2000 characters.")
    keys = label_keys(project)
    # Reading needs no transaction: the (article, gold version) pairs come from one query
    # and every span is then read as of its version, so the snapshot is exact even while
    # reviewers keep working. Only the insert below takes a write lock, briefly.
    targets = [
        Target(article_id, annotation_id, version)
        for article_id, annotation_id, version in Annotation.objects.gold()
        .filter(article__project=project, final=True, version__gt=0)
        .order_by("article_id")
        .values_list("article_id", "id", "version")
    ]
    if not targets:
        raise ReleaseError(
            "There is no final gold to release yet: adjudicate some articles and mark "
            "their gold final first."
        )
    manifest: list[dict[str, Any]] = []
    digest = hashlib.sha256()
    labels: Counter[str] = Counter()
    spans_total = 0
    for start in range(0, len(targets), chunk_size):
        for entry, record in _fresh_chunk(targets[start : start + chunk_size], keys):
            manifest.append(entry)
            digest.update(line(record).encode("utf-8"))
            labels.update(s["label"] for s in record["spans"])
            spans_total += len(record["spans"])
        if progress is not None:
            progress(len(manifest), len(targets))
    project_keys = Label.objects.filter(project=project).order_by("order", "key")
    label_counts = {key: labels.get(key, 0) for key in project_keys.values_list("key", flat=True)}
    label_counts.update({k: v for k, v in sorted(labels.items()) if k not in label_counts})
    try:
        with transaction.atomic():
            # One release at a time per project, so "the previous release" is well defined.
            Project.objects.select_for_update().filter(pk=project.pk).exists()
            previous = (
                Release.objects.filter(project=project).order_by("-created_at", "-id").first()
            )
            release = Release(
                project=project,
                name=name,
                note=note,
                created_by=user,
                sha256=digest.hexdigest(),
                article_count=len(manifest),
                span_count=spans_total,
                label_counts=label_counts,
                label_keys={str(k): v for k, v in keys.items()},
                label_order=list(keys.values()),
                format_version=Release.FORMAT_VERSION,
                agreement=agreement,
                manifest=manifest,
                changes=changes_between(previous, manifest),
            )
            if previous is not None and previous.format_version >= 2:
                # Only the changed articles are read again, at both releases' versions.
                facts = described_fact_changes(previous, release, release.changes["changed"])
                release.changes["facts"] = facts
            release.save(force_insert=True)
            return release
    except IntegrityError:
        raise ReleaseError(f"This project already has a release named {name!r}.") from None


def _fresh_chunk(
    chunk: list[Target], keys: dict[int, str]
) -> Iterator[tuple[dict[str, Any], ExportRecord]]:
    articles = {
        a["id"]: a
        for a in Article.objects.filter(id__in=[t.article_id for t in chunk]).values(
            "id", "external_id", "title", "url", "text", "sha256", "published_at"
        )
    }
    texts = {a: articles[a]["text"] for a in articles}
    spans = spans_at_versions(chunk, keys, texts, ranks=label_ranks(keys.values()))
    relations = relations_at_versions(chunk, keys, spans)
    authors = version_authors(chunk)
    editors = submitted_editors(texts)
    for target in chunk:
        article = articles[target.article_id]
        these = spans.get(target.annotation_id, [])
        linked = relations.get(target.annotation_id, [])
        entry = Entry(
            article=target.article_id,
            version=target.version,
            id=article["external_id"],
            title=article["title"],
            url=article["url"],
            sha256=article["sha256"],
            spans_sha256=spans_digest(these),
            adjudicator=authors.get((target.annotation_id, target.version)),
            annotators=editors.get(target.article_id, []),
            published_at=timestamp(article["published_at"]),
            facts_sha256=facts_digest(these, linked),
        ).as_json()
        yield entry, record_from(entry, article["text"], these, linked)


def changes_between(previous: Release | None, manifest: list[dict[str, Any]]) -> dict[str, Any]:
    """What changed since `previous`: external ids of articles added, removed, and changed
    (other spans, or other text)."""
    if previous is None:
        return {
            "previous": None,
            "added": [e["id"] for e in manifest],
            "removed": [],
            "changed": [],
        }
    before = {e["article"]: e for e in previous.manifest}
    now = {e["article"]: e for e in manifest}
    return {
        "previous": previous.name,
        "added": [e["id"] for a, e in now.items() if a not in before],
        "removed": [e["id"] for a, e in before.items() if a not in now],
        "changed": [
            e["id"]
            for a, e in now.items()
            if a in before
            and (
                e["spans_sha256"] != before[a]["spans_sha256"]
                or e["sha256"] != before[a]["sha256"]
                or _facts_changed(before[a], e)
            )
        ],
    }


def _facts_changed(before: dict[str, Any], now: dict[str, Any]) -> bool:
    """Attributes or relations changed; unknown (False) against a release made before facts."""
    old, new = before.get("facts_sha256"), now.get("facts_sha256")
    return old is not None and new is not None and old != new


def check_intact(release: Release) -> None:
    """Raise ReleaseBroken if an article of the release was deleted or its text changed,
    before a download starts streaming (a stream cannot turn into an error halfway)."""
    expected = {e["article"]: e["sha256"] for e in release.manifest}
    ids = list(expected)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        found = dict(Article.objects.filter(id__in=chunk).values_list("id", "sha256"))
        for article_id in chunk:
            if found.get(article_id) != expected[article_id]:
                raise ReleaseBroken(
                    f"Release {release.name!r} can no longer be rebuilt: article "
                    f"{article_id} was deleted or its text changed."
                )


def release_records(release: Release, *, chunk_size: int = CHUNK_SIZE) -> Iterator[ExportRecord]:
    """The records of the release, rebuilt from its manifest, in constant memory."""
    manifest = release.manifest
    for start in range(0, len(manifest), chunk_size):
        yield from _entry_records(release, manifest[start : start + chunk_size])


def _entry_records(release: Release, entries: list[dict[str, Any]]) -> Iterator[ExportRecord]:
    """The records of some manifest entries of `release`, in a fixed number of queries."""
    keys = {int(k): v for k, v in release.label_keys.items()}
    # Releases made before facts (format version 1) listed tied spans by label key and had
    # no attributes or relations: rebuilt the same way, their downloads stay byte-identical.
    facts = release.format_version >= 2
    ranks = label_ranks(release.label_order) if facts else None
    gold = dict(
        Annotation.objects.gold()
        .filter(article_id__in=[e["article"] for e in entries])
        .values_list("article_id", "id")
    )
    texts = dict(
        Article.objects.filter(id__in=[e["article"] for e in entries]).values_list("id", "text")
    )
    targets = [Target(e["article"], gold[e["article"]], e["version"]) for e in entries]
    spans = spans_at_versions(targets, keys, texts, ranks=ranks, facts=facts)
    relations = relations_at_versions(targets, keys, spans) if facts else {}
    for entry, target in zip(entries, targets, strict=True):
        yield record_from(
            entry,
            texts[entry["article"]],
            spans.get(target.annotation_id, []),
            relations.get(target.annotation_id, []) if facts else None,
        )


def described_fact_changes(
    previous: Release, release: Release, changed: list[str]
) -> dict[str, list[str]]:
    """For each article of `changed` (external ids) whose facts changed between the two
    releases, the changes in words (see :func:`annotate.exports.facts.fact_changes`)."""
    before = {e["id"]: e for e in previous.manifest}
    now = {e["id"]: e for e in release.manifest}
    ids = [i for i in changed if _facts_changed(before[i], now[i])]
    if not ids:
        return {}
    old = {r["id"]: r for r in _entry_records(previous, [before[i] for i in ids])}
    new = {r["id"]: r for r in _entry_records(release, [now[i] for i in ids])}
    return {i: lines for i in ids if (lines := fact_changes(old[i], new[i]))}


def generated_at(release: Release) -> str:
    return release.created_at.isoformat().replace("+00:00", "Z")


def render_release(
    release: Release, format: str, *, docstart: str = "conll2003"
) -> Iterator[bytes]:
    """The release in `format`, byte-identical on every call."""
    return render(
        format,
        release_records(release),
        namespace=release.project.slug,
        label=f"release {release.name}",
        generated=generated_at(release),
        docstart=docstart,
        columns=fact_columns(release.project) if format.startswith("facts") else None,
    )


def project_agreement(project: Project) -> dict[str, Any]:
    """The project's agreement reports as they stand, stored with a release:
    ``{"token": report, "char": report}`` in the API's report shape."""
    from .agreement import project_report

    return {unit: project_report(project, unit=unit) for unit in ("token", "char")}
