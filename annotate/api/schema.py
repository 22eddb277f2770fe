"""OpenAPI post-processing: every operation documents the error bodies it can return.

The API answers every refusal in one shape (``annotate.api.errors``), so the schema says so
once, as an ``Error`` component, for the statuses each operation can produce. Clients (and
schema-driven fuzzers) can then tell a documented refusal from a broken response.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": 'Every API error: `{"detail", "errors"?}`; a stale write adds '
    "`current_version` and `changes`.",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"description": "Per field, line or index; shape depends on the request."},
        "current_version": {"type": "integer"},
        "changes": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["detail"],
}

EVERY_OPERATION = {
    "400": "Invalid input (the message says what and where).",
    "401": "No or invalid credentials.",
    "403": "Your role in the project does not allow this.",
    "404": "No such object, or not in one of your projects.",
}
WITH_BODY = {
    "409": "Conflict: the state changed since `base_version`, or it is locked.",
    "413": "The request body is over MAX_UPLOAD_BYTES.",
    "415": "Unsupported Content-Type.",
}
METHODS = {"get", "put", "post", "patch", "delete"}


def add_error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            codes = dict(EVERY_OPERATION)
            if "requestBody" in operation:
                codes.update(WITH_BODY)
            for code, description in codes.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code.startswith("4") and "content" not in response:
                    response["content"] = content
    return result
