"""GET /api/projects/<slug>/search/?q=...: full-text search over the project's articles."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from ..fulltext import MAX_QUERY_CHARS, QueryError
from ..services.article_search import MAX_HITS, RANK_LIMIT, search_articles
from .pagination import Pagination, check_params
from .permissions import IN_PROJECT


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    title = serializers.CharField()
    snippet = serializers.CharField(
        help_text="The passage of the text around the hits, as HTML: the text escaped, each "
        "hit in <mark>…</mark>, omitted text as “…”."
    )


class SearchPagination(Pagination):
    page_size = 20
    max_page_size = 100


DESCRIPTION = f"""Full-text search over the title and text of the project's articles: for
an editor, the articles assigned to them; for reviewers and managers, every article. Best
matches first, paginated.

`q` is read like a web search (at most {MAX_QUERY_CHARS} characters): every word must occur;
`"a phrase"` as written; `-word` or `-"a phrase"` must not occur; `or` accepts either side.
Matching ignores case but not accents; words are not stemmed (the news is in many languages).
Anything else (`AND`, `NEAR(…)`, `*`, stray quotes) is plain text. A query with nothing to
look for (no letter or digit outside excluded words) is a 400.

Ranking costs time per hit: with more than {RANK_LIMIT:,} hits, they come newest first
instead. Hits are counted and paged up to {MAX_HITS:,}: a `count` of {MAX_HITS:,} means "at
least"."""


class ArticleSearch(GenericAPIView):
    permission_classes = IN_PROJECT
    serializer_class = SearchHitSerializer
    pagination_class = SearchPagination

    @extend_schema(
        operation_id="search_articles",
        summary="Search the project's articles",
        description=DESCRIPTION,
        parameters=[
            OpenApiParameter("q", str, required=True, description="What to look for."),
        ],
        responses=SearchHitSerializer(many=True),  # paginated: count, next, previous, results
    )
    def get(self, request: Request, slug: str) -> Response:
        check_params(request, {"q"})
        if "q" not in request.query_params:
            raise ValidationError({"q": ["Say what to look for."]})
        try:
            results = search_articles(
                project=self.project,
                user=request.user,
                role=self.role,
                text=request.query_params["q"],
            )
        except QueryError as error:
            raise ValidationError({"q": [str(error)]}) from None
        page = self.paginate_queryset(results)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
