"""The benchmark's floor view: never routed unless BENCH_FLOOR is on, and it answers what
bench/suite.py measures against (N bytes, body read, no query)."""

from __future__ import annotations

from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from annotate.bench_urls import floor


def test_floor_is_not_routed_by_default(client):
    assert client.get("/bench/floor/?bytes=10").status_code == 404


def test_floor_answers_the_asked_number_of_bytes_without_a_query(db):
    request = RequestFactory().post(
        "/bench/floor/?bytes=1000", data=b"x" * 5000, content_type="application/json"
    )
    with CaptureQueriesContext(connection) as queries:
        response = floor(request)
    assert response.status_code == 200
    assert len(response.content) == 1000
    assert len(queries) == 0


def test_floor_streams_when_asked(db):
    response = floor(RequestFactory().get("/bench/floor/?bytes=200000&stream=1"))
    assert response.streaming
    assert sum(len(chunk) for chunk in response.streaming_content) == 200000


def test_floor_refuses_a_size_that_is_not_a_whole_number(db):
    assert floor(RequestFactory().get("/bench/floor/?bytes=-1")).status_code == 400
    assert floor(RequestFactory().get(f"/bench/floor/?bytes={1 << 40}")).status_code == 400
