"""A small fixed-window counter on Django's cache, for login attempts."""

from __future__ import annotations

import hashlib

from django.core.cache import cache

LOGIN_ATTEMPTS = 10
LOGIN_WINDOW_SECONDS = 300


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
