"""One error body for the whole API: {"detail": "...", "errors": ...}."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..services.annotations import AnnotationError, StaleVersion


def exception_handler(exc, context):
    if isinstance(exc, AnnotationError):
        body: dict[str, object] = {"detail": exc.detail}
        if exc.errors is not None:
            body["errors"] = exc.errors
        if isinstance(exc, StaleVersion):
            body["current_version"] = exc.current_version
            body["changes"] = exc.changes
        return Response(body, status=exc.status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        response.data = {"detail": str(data["detail"])}
    elif isinstance(data, (dict, list)):
        response.data = {"detail": _first_message(data) or "Invalid input.", "errors": data}
    if response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        response.data["detail"] = str(exc.detail) if hasattr(exc, "detail") else "Not allowed."
    return response


def _first_message(data) -> str | None:
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        for item in data:
            found = _first_message(item)
            if found:
                return found
    if isinstance(data, dict):
        for key, value in data.items():
            found = _first_message(value)
            if found:
                return found if key in ("detail", "non_field_errors") else f"{key}: {found}"
    return None


@csrf_exempt
def not_found(request: HttpRequest, **kwargs) -> JsonResponse:
    """Unknown URLs under /api/ answer in the API's error shape (a POST too: it changes
    nothing, so no CSRF check, whose refusal would be an HTML page)."""
    return JsonResponse(
        {"detail": "There is no such API endpoint; see /api/docs/."},
        status=status.HTTP_404_NOT_FOUND,
    )
