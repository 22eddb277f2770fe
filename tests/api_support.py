"""Helpers for the API tests: a token client per user, and JSON shortcuts."""

from __future__ import annotations

import json

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def api(user=None) -> APIClient:
    """A client that sends `user`'s API token (no credentials when `user` is None)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def body(response) -> bytes:
    """The whole body of a plain or streamed response."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def lines(response) -> list[dict]:
    return [json.loads(line) for line in body(response).decode().splitlines() if line]


def assert_error(response, status: int) -> dict:
    """The response has `status` and the one error shape, {"detail": str, "errors"?}."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    data = response.json()
    assert isinstance(data.get("detail"), str) and data["detail"], data
    assert set(data) <= {"detail", "errors", "current_version", "changes"}, data
    return data
