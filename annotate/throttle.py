"""A small fixed-window counter on Django's cache, for login attempts."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

LOGIN_ATTEMPTS = 10
LOGIN_WINDOW_SECONDS = 300


def client_address(request: HttpRequest) -> str:
    """The client's address. Behind `NUM_PROXIES` trusted reverse proxies it is the
    X-Forwarded-For entry the outermost trusted proxy saw; entries further left are
    client-supplied and could be forged, so they are never used."""
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.NUM_PROXIES <= 0:
        return remote
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [p for p in forwarded if p]
    if len(forwarded) < settings.NUM_PROXIES:
        return remote
    return forwarded[-settings.NUM_PROXIES]


def _key(scope: str, ident: str) -> str:
    return f"throttle:{scope}:" + hashlib.sha256(ident.encode()).hexdigest()


def is_blocked(scope: str, ident: str, limit: int = LOGIN_ATTEMPTS) -> bool:
    return cache.get(_key(scope, ident), 0) >= limit


def record_failure(scope: str, ident: str, window: int = LOGIN_WINDOW_SECONDS) -> None:
    key = _key(scope, ident)
    if cache.add(key, 1, window):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, window)


def reset(scope: str, ident: str) -> None:
    cache.delete(_key(scope, ident))
