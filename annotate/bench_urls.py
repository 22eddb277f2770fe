"""The benchmark's floor: a bare Django view on the same stack, routed only when the
setting ``BENCH_FLOOR`` is on (env ``BENCH_FLOOR=1``, which ``bench/suite.py`` sets for the
server it starts). Production never routes it.

``/bench/floor/?bytes=N`` answers N bytes to any method, after reading the request body,
with no database query; ``&stream=1`` streams them in 64 KiB chunks (the export's floor);
``&query=1`` runs one trivial query first (``SELECT 1``).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

CHUNK = 64 * 1024
MAX_BYTES = 256 * 1024 * 1024


def _chunks(size: int) -> Iterator[bytes]:
    block = b"x" * CHUNK
    while size > 0:
        yield block[: min(CHUNK, size)]
        size -= CHUNK


@csrf_exempt
def floor(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    raw = request.GET.get("bytes", "0")
    if not raw.isdigit() or int(raw) > MAX_BYTES:
        return HttpResponseBadRequest("bytes must be a whole number up to 256 MiB")
    size = int(raw)
    request.body  # noqa: B018 -- read the upload, as the measured views do
    if request.GET.get("query") == "1":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    if request.GET.get("stream") == "1":
        return StreamingHttpResponse(_chunks(size), content_type="application/octet-stream")
    return HttpResponse(b"x" * size, content_type="application/octet-stream")


urlpatterns = [path("bench/floor/", floor, name="bench-floor")]
