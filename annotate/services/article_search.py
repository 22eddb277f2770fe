"""Full-text search over a project's articles, on the index of migration 0011_search.

Editors search the articles assigned to them (their queue); reviewers and managers every
article of the project. Results come best first (PostgreSQL ``ts_rank_cd``; SQLite FTS5
``bm25``, the title weighing twice the text), with a snippet of the text around the hits,
made by the database (``ts_headline``; FTS5 ``snippet()``) for the rows of one page only.

Ranking reads every hit's index entry, so its cost grows with the number of hits: a query
with more than :data:`RANK_LIMIT` hits (a word in most articles) lists them newest first
instead, which the index answers without reading them all; and hits are counted, and paged,
up to :data:`MAX_HITS` (``SearchResults.capped`` says there are more).
The query is parsed and quoted by :mod:`annotate.fulltext`, so no input is ever read as
the engine's own syntax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import overload

from django.db import connection

from .. import fulltext
from ..fulltext import HIT_END, HIT_START, Query
from ..models import Article, Assignment, Project, Role

# Every SQL string below is built from these names only; every value is a bound parameter.
ARTICLES = Article._meta.db_table
ASSIGNMENTS = Assignment._meta.db_table
FTS = "annotate_article_fts"  # migration 0011_search
SNIPPET_TOKENS = 32
RANK_LIMIT = 2_000
MAX_HITS = 10_000
# PostgreSQL: an editor's queue up to this long may drive the search (a list of ids).
QUEUE_LIMIT = 20_000
# ts_headline drops whatever its parser takes for an HTML tag: the text's < and > go in as
# these private-use characters and come back afterwards, so the snippet shows the text as is.
TAG_CHARS = "<>"
TAG_STAND_INS = "\ue002\ue003"
# ts_headline: about as long as the FTS5 snippet, in up to two fragments.
HEADLINE_OPTIONS = (
    f"StartSel={HIT_START}, StopSel={HIT_END}, MaxWords=32, MinWords=12, ShortWord=0, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)


@dataclass(frozen=True)
class SearchHit:
    id: int
    external_id: str
    title: str
    snippet: str  # HTML: the text escaped, the hits in <mark>


def _scope(project: Project, user, role: str) -> tuple[str, list[object]]:
    """The WHERE clause (over ``a``, the article table) of the articles the user may find."""
    sql = "a.project_id = %s"
    params: list[object] = [project.pk]
    if role == Role.EDITOR:
        assigned = f"SELECT article_id FROM {ASSIGNMENTS} WHERE editor_id = %s"  # noqa: S608
        sql += f" AND a.id IN ({assigned})"
        params.append(user.pk)
    return sql, params


class SearchResults(Sequence[SearchHit]):
    """The hits of one search, read lazily: ``len()`` counts them, a slice reads one page
    (so Django's Paginator and DRF's pagination can page through it)."""

    def __init__(self, *, project: Project, user, role: str, query: Query) -> None:
        self.query = query
        self.project_id = project.pk
        self.editor_id = user.pk if role == Role.EDITOR else None
        self.scope, self.scope_params = _scope(project, user, role)
        self.postgres = connection.vendor == "postgresql"

    def _matches(self) -> tuple[str, list[object]]:
        """FROM and WHERE of the hits (the article table is ``a``), with their parameters."""
        if self.postgres and self._by_queue:
            # The editor's queue, article by article (by primary key): a common word names
            # most of the project's articles, and checking each of them against the queue
            # reads them all.
            sql = (
                f"FROM {ARTICLES} a, websearch_to_tsquery('simple', %s) q "
                "WHERE a.id = ANY(%s) AND a.search_vector @@ q AND a.project_id = %s"
            )
            return sql, [fulltext.websearch(self.query), self._queue, self.project_id]
        if self.postgres:
            sql = (
                f"FROM {ARTICLES} a, websearch_to_tsquery('simple', %s) q "
                f"WHERE a.search_vector @@ q AND {self.scope}"
            )
            return sql, [fulltext.websearch(self.query), *self.scope_params]
        sql = (
            f"FROM {FTS} f JOIN {ARTICLES} a ON a.id = f.rowid "
            f"WHERE {FTS} MATCH %s AND {self.scope}"
        )
        return sql, [fulltext.fts5_match(self.query), *self.scope_params]

    def _queue_matches(self) -> tuple[str, list[object]]:
        """FROM and WHERE of an editor's hits on SQLite, looked up article by article of their
        queue: cheaper to count than joining every article a common word is in (a join reads
        each article row the index names; the queue is a list of ids)."""
        queue = (
            f"SELECT s.article_id FROM {ASSIGNMENTS} s JOIN {ARTICLES} a ON a.id = s.article_id "  # noqa: S608
            "WHERE s.editor_id = %s AND a.project_id = %s"
        )
        sql = f"FROM {FTS} f WHERE {FTS} MATCH %s AND f.rowid IN ({queue})"  # noqa: S608
        return sql, [fulltext.fts5_match(self.query), self.editor_id, self.project_id]

    @cached_property
    def _hits(self) -> int:
        """The number of hits, up to MAX_HITS + 1 (counting further is time nobody needs)."""
        by_queue = self._by_queue and not self.postgres
        matches, params = self._queue_matches() if by_queue else self._matches()
        sql = f"SELECT count(*) FROM (SELECT 1 {matches} LIMIT %s) hits"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, MAX_HITS + 1])
            return cursor.fetchone()[0]

    @cached_property
    def _queue(self) -> list[int]:
        """The ids of the editor's articles in this project, up to QUEUE_LIMIT + 1 (past it,
        PostgreSQL lets the index drive the search)."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.article_id FROM {ASSIGNMENTS} s JOIN {ARTICLES} a "  # noqa: S608
                "ON a.id = s.article_id WHERE s.editor_id = %s AND a.project_id = %s LIMIT %s",
                [self.editor_id, self.project_id, QUEUE_LIMIT + 1],
            )
            return [row[0] for row in cursor.fetchall()]

    @cached_property
    def _by_queue(self) -> bool:
        """Whether to look up an editor's hits article by article of their queue: when the
        queue is shorter than the list of articles (of any project, on SQLite) the query
        matches."""
        if self.editor_id is None:
            return False
        if self.postgres:
            queued = len(self._queue)
            if queued > QUEUE_LIMIT:
                return False
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT count(*) FROM (SELECT 1 FROM {ARTICLES} a, "  # noqa: S608
                    "websearch_to_tsquery('simple', %s) q WHERE a.search_vector @@ q "
                    "AND a.project_id = %s LIMIT %s) hits",
                    [fulltext.websearch(self.query), self.project_id, queued + 1],
                )
                return cursor.fetchone()[0] > queued
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {ASSIGNMENTS} WHERE editor_id = %s",  # noqa: S608
                [self.editor_id],
            )
            queued = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {FTS} WHERE {FTS} MATCH %s LIMIT %s)",  # noqa: S608
                [fulltext.fts5_match(self.query), queued + 1],
            )
            return cursor.fetchone()[0] > queued

    @property
    def _count(self) -> int:
        return min(self._hits, MAX_HITS)

    @property
    def capped(self) -> bool:
        """More than MAX_HITS hits: only the first MAX_HITS are counted and paged."""
        return self._hits > MAX_HITS

    @property
    def ranked(self) -> bool:
        """Best first; otherwise (more than RANK_LIMIT hits) newest first."""
        return self._hits <= RANK_LIMIT

    def __len__(self) -> int:
        return self._count

    def count(self) -> int:  # type: ignore[override]  # Paginator asks for count() first
        return self._count

    @overload
    def __getitem__(self, index: int) -> SearchHit: ...
    @overload
    def __getitem__(self, index: slice) -> list[SearchHit]: ...
    def __getitem__(self, index):
        if isinstance(index, int):
            found = self._page(index, 1) if index >= 0 else []
            if not found:
                raise IndexError(index)
            return found[0]
        start, stop, step = index.indices(self._count)
        if step != 1:
            raise ValueError("Search results are read one page at a time.")
        return self._page(start, max(0, stop - start))

    def _page(self, offset: int, limit: int) -> list[SearchHit]:
        if limit == 0:
            return []
        ids = self._ranked_ids(offset, limit)
        if not ids:
            return []
        rows = {row[0]: row for row in self._rows(ids)}
        return [
            SearchHit(
                id=pk,
                external_id=rows[pk][1],
                title=rows[pk][2],
                snippet=fulltext.mark_snippet(_untag(rows[pk][3] or "")),
            )
            for pk in ids
            if pk in rows
        ]

    def _ranked_ids(self, offset: int, limit: int) -> list[int]:
        matches, params = self._matches()
        if not self.ranked:
            # The index's own order (FTS5 walks its rowids backwards): no hit read past the page.
            order = "a.id DESC" if self.postgres else "f.rowid DESC"
        elif self.postgres:
            order = "ts_rank_cd(a.search_vector, q) DESC, a.id"
        else:
            order = f"bm25({FTS}, 2.0, 1.0), a.id"
        sql = f"SELECT a.id {matches} ORDER BY {order} LIMIT %s OFFSET %s"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit, offset])
            return [row[0] for row in cursor.fetchall()]

    def _rows(self, ids: list[int]) -> list[tuple]:
        """id, external id, title and snippet of the page's articles (only these: making a
        snippet reads the whole text)."""
        marks = ", ".join(["%s"] * len(ids))
        if self.postgres:
            sql = (
                "SELECT a.id, a.external_id, a.title, "  # noqa: S608 - model names, bound values
                "ts_headline('simple', translate(a.text, %s, %s), q, %s) "
                f"FROM {ARTICLES} a, websearch_to_tsquery('simple', %s) q "
                f"WHERE a.id IN ({marks})"
            )
            params = [TAG_CHARS, TAG_STAND_INS, HEADLINE_OPTIONS, fulltext.websearch(self.query)]
            params += ids
        else:
            sql = (
                f"SELECT a.id, a.external_id, a.title, "  # noqa: S608 - as above
                f"snippet({FTS}, 1, %s, %s, '…', {SNIPPET_TOKENS}) "
                f"FROM {FTS} f JOIN {ARTICLES} a ON a.id = f.rowid "
                f"WHERE {FTS} MATCH %s AND f.rowid IN ({marks})"
            )
            params = [HIT_START, HIT_END, fulltext.fts5_match(self.query), *ids]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def _untag(snippet: str) -> str:
    return snippet.translate(str.maketrans(TAG_STAND_INS, TAG_CHARS))


def search_articles(*, project: Project, user, role: str, text: str) -> SearchResults:
    """The articles of `project` that `user` (with `role` there) may see and that match the
    query `text`; :class:`annotate.fulltext.QueryError` when it has nothing to look for."""
    return SearchResults(project=project, user=user, role=role, query=fulltext.parse(text))
