from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils.html import format_html

from .inputs import InputError

# No inline script or style anywhere: data reaches JavaScript through json_script and
# label colours through a per-project stylesheet, so this policy can be strict.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class RefuseUnstorableInputMiddleware:
    """400 for a path, query string or form field holding a NUL character, before any view
    runs: PostgreSQL refuses NUL in every text value, lookups included, so a ``%00`` in a
    username, a release name or a note would otherwise end as a 500 wherever it reached the
    database. (Form and query values cannot hold lone surrogates: Django decodes them with
    replacement; JSON bodies are checked by the API's parser.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = _unstorable(request)
        if where is None:
            return self.get_response(request)
        detail = f"The {where} contains a NUL character, which cannot be stored."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail}, status=400)
        return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")


FORM_TYPE = "application/x-www-form-urlencoded"


def _unstorable(request: HttpRequest) -> str | None:
    """Which part of the request holds a NUL character (None: no part does)."""
    if "\x00" in request.path:
        return "address"
    if _has_nul(request.GET):
        return "query string"
    form = request.method == "POST" and request.content_type == FORM_TYPE
    if form and _has_nul(request.POST):
        return "form"
    return None


def _has_nul(data: QueryDict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in data.lists()
    )


class InputErrorMiddleware:
    """A value that ``annotate.inputs`` refused and no view handled itself: 400 with its
    message (JSON under /api/, an alert for htmx, else a page), never a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, InputError):
            return None
        message = str(exception)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=400)
        if request.headers.get("HX-Request"):
            return HttpResponseBadRequest(
                format_html('<p class="message message-error" role="alert">{}</p>', message)
            )
        return render(request, "bad_request.html", {"message": message}, status=400)
