"""Request bodies sent with ``Transfer-Encoding: chunked`` (no Content-Length): WSGI
middleware around the Django application.

Django sizes every body by CONTENT_LENGTH, so a chunked body reached the views as empty and
the API answered "Send a JSON array". A server that decodes chunked bodies says so with
``wsgi.input_terminated`` (gunicorn does): the body is then read here, up to
``MAX_UPLOAD_BYTES``, and handed on with its length. A server that does not (``wsgiref``,
behind ``runserver``) cannot give us the body: 411 asks for a Content-Length instead. Pure
WSGI, no Django import: the limit comes from the caller.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ChunkedBodies:
    def __init__(self, app: WSGIApp, *, limit: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if not is_chunked(environ):
            return self.app(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return refuse(
                environ,
                start_response,
                "411 Length Required",
                "This server cannot read a chunked request body: send it with a "
                "Content-Length header.",
            )
        limit = self.limit()
        body = environ["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return refuse(
                environ,
                start_response,
                "413 Request Entity Too Large",
                f"The request body is over {limit} bytes (MAX_UPLOAD_BYTES). "
                "Send fewer articles per request.",
            )
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def is_chunked(environ: dict[str, Any]) -> bool:
    """A body announced by Transfer-Encoding rather than Content-Length."""
    encodings = environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return not environ.get("CONTENT_LENGTH") and "chunked" in encodings


def refuse(
    environ: dict[str, Any], start_response: Callable[..., Any], status: str, detail: str
) -> list[bytes]:
    """The API's error shape under /api/, plain text elsewhere."""
    if environ.get("PATH_INFO", "").startswith("/api/"):
        body, media_type = json.dumps({"detail": detail}).encode(), "application/json"
    else:
        body, media_type = detail.encode(), "text/plain; charset=utf-8"
    start_response(
        status,
        [
            ("Content-Type", media_type),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),  # the unread body must not be taken for a next request
        ],
    )
    return [body]
