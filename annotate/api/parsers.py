"""Request body parsers: size-capped JSON, and raw bodies for article uploads.

Every parser refuses a body over ``MAX_UPLOAD_BYTES`` with 413 before reading it (DRF reads
the request stream directly, so Django's own cap on ``request.body`` does not apply).
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

from ..inputs import json_problem

NDJSON = "application/x-ndjson"
MAX_BODY_DEPTH = 64


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def check_size(parser_context: dict | None) -> None:
    request = (parser_context or {}).get("request")
    if request is None:
        return
    meta = request.META
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = settings.MAX_UPLOAD_BYTES
    if length > limit:
        raise RequestTooLarge(
            f"The request body is {length} bytes; the limit is {limit} (MAX_UPLOAD_BYTES). "
            "Send fewer articles per request."
        )


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the size cap, no NaN/Infinity, nothing the databases cannot
    store (``inputs.json_problem``), and a 400 (not a 500) for nesting too deep to parse."""

    def parse(self, stream, media_type=None, parser_context=None):
        check_size(parser_context)
        encoding = parsers.get_encoding(parser_context or {})
        try:
            reader = codecs.getreader(encoding)(stream)
            data = json.load(reader, parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply")
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}")
        # Once, for every field of every endpoint: no string the databases refuse (NUL,
        # lone surrogates) and no number they cannot hold reaches a serializer.
        problem = json_problem(data, max_depth=MAX_BODY_DEPTH)
        if problem:
            raise ParseError(f"The request body {problem}.")
        return data


class RawBody(bytes):
    """An unparsed body and the media type it came as; the view hands it to the importer,
    which reports errors by line or index."""

    media_type: str


class _RawParser(parsers.BaseParser):
    def parse(self, stream, media_type=None, parser_context=None):
        check_size(parser_context)
        data = stream.read() if stream is not None else b""
        body = RawBody(data)
        body.media_type = self.media_type
        return body


class RawJSONParser(_RawParser):
    media_type = "application/json"


class NDJSONParser(_RawParser):
    """JSON Lines (``application/x-ndjson``; ``application/jsonl`` is accepted too)."""

    media_type = NDJSON


class JSONLinesParser(_RawParser):
    media_type = "application/jsonl"
