from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from ..inputs import INT32_MAX, InputError, parse_optional_int


class Pagination(PageNumberPagination):
    """Page numbers and sizes read by ``annotate.inputs`` (ASCII digits only); a size over
    ``max_page_size`` is capped, anything that is not a number is a 400 naming it."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request, paginator) -> int | str:
        raw = request.query_params.get(self.page_query_param)
        if raw in self.last_page_strings:
            return raw
        return _number(raw, self.page_query_param, low=1) or 1

    def get_page_size(self, request) -> int:
        size = _number(request.query_params.get(self.page_size_query_param), "page_size", low=1)
        return self.page_size if size is None else min(size, self.max_page_size)


def _number(raw: str | None, name: str, *, low: int) -> int | None:
    try:
        return parse_optional_int(raw, name=name, low=low, high=INT32_MAX)
    except InputError as error:
        raise ValidationError({name: [str(error)]}) from None


PAGING = frozenset({"page", "page_size"})


def check_params(request: Request, allowed: set[str] | frozenset[str]) -> None:
    """Refuse query parameters we do not know (a typo must not silently return everything,
    and no ``field__lookup`` reaches the ORM)."""
    unknown = sorted(set(request.query_params) - allowed - PAGING)
    if unknown:
        raise ValidationError(
            {
                name: [f"Unknown query parameter; use {', '.join(sorted(allowed | PAGING))}."]
                for name in unknown
            }
        )
    # Checked here too, so a list that is not paginated refuses a bad page as one that is.
    paging = Pagination()
    paging.get_page_number(request, None)
    paging.get_page_size(request)
