"""Nothing one app server needs from another is kept on its own disk or in its own memory:
with two servers behind a load balancer, each request may land on either.

- login throttle counters: rows (annotate.models.ThrottleCounter), see tests/test_throttle.py;
- sessions: the database session backend; flash messages: the cookie, then the session;
- the cache: each process's own memory unless CACHE_URL names Redis, and nothing needs it;
- rendered guidelines: a column written on change (tests/test_guidelines.py);
- uploads: read within the one request that sends them, never parked between requests;
- releases: rebuilt from their manifest rows on every download, no file is written.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from annotate import throttle
from annotate.models import ThrottleCounter

from .factories import PASSWORD, make_user

ANNOTATE = Path(__file__).resolve().parent.parent / "annotate"

# Writing or parking files: what a second server would not see.
LOCAL_FILE_CALLS = {
    "default_storage",
    "FileSystemStorage",
    "NamedTemporaryFile",
    "TemporaryDirectory",
    "mkstemp",
    "mkdtemp",
    "write_text",
    "write_bytes",
}


def _names_called(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.add(node.name.rsplit(".", 1)[-1])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "open":
            modes = [a.value for a in node.args[1:2] if isinstance(a, ast.Constant)]
            modes += [k.value.value for k in node.keywords if k.arg == "mode"]
            if any(set(str(m)) & set("wax+") for m in modes):
                found.add("open for writing")
    return found


def test_no_request_code_keeps_files_on_the_server():
    """Management commands may write where the operator asks (an export to a path)."""
    offenders = {}
    for path in ANNOTATE.rglob("*.py"):
        if "migrations" in path.parts or "management" in path.parts:
            continue
        called = _names_called(ast.parse(path.read_text(encoding="utf-8")))
        bad = called & (LOCAL_FILE_CALLS | {"open for writing"})
        if bad:
            offenders[str(path.relative_to(ANNOTATE))] = sorted(bad)
    assert offenders == {}


def test_sessions_and_messages_live_where_every_server_reads_them():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert settings.MESSAGE_STORAGE == "django.contrib.messages.storage.fallback.FallbackStorage"


def test_uploads_are_read_in_memory_within_their_request():
    """An upload never goes to a temporary file that a later request would look for."""
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE >= settings.MAX_UPLOAD_BYTES


@pytest.mark.django_db
def test_the_throttle_holds_when_the_cache_is_another_servers():
    """A second server has its own memory cache: the count must not be in it."""
    user = make_user("wanderer")
    for i in range(throttle.LOGIN_ATTEMPTS):
        Client().post(
            "/login/", {"username": user.username, "password": "nope"}, REMOTE_ADDR=f"10.5.0.{i}"
        )
        cache.clear()  # the next request lands on a server that has seen none of these
    client = Client()
    client.post(
        "/login/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.6.0.1"
    )
    assert "_auth_user_id" not in client.session
    assert ThrottleCounter.objects.exists()
