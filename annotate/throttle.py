"""The password throttle: fixed-window counters in the database, shared by every worker
process and every app server.

Every way to check a password goes through :func:`checked_password` (the authentication
backend in :mod:`annotate.auth` for every ``authenticate()``, and the old-password check of
the password change form). It counts the attempt *first*, for the username and for the
client address, by one atomic upsert each (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``
on PostgreSQL and SQLite alike), and only checks the password while both counts are within
the limit. So parallel attempts, on any number of servers, can never check more passwords
than the limit: the database hands out the numbers 1, 2, 3, ... one at a time. A right
password gives its own attempt back; nothing else lowers a count before its window ends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from .models import ThrottleCounter

LOGIN_ATTEMPTS = 10
LOGIN_WINDOW_SECONDS = 300
THROTTLED_MESSAGE = "Too many failed attempts. Wait a few minutes and try again."

T = TypeVar("T")


class Throttled(PermissionDenied):
    """Too many attempts: the password was not checked."""

    def __init__(self) -> None:
        super().__init__(THROTTLED_MESSAGE)


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
    return f"{scope}:" + hashlib.sha256(ident.encode()).hexdigest()


def _table() -> str:
    return connection.ops.quote_name(ThrottleCounter._meta.db_table)


def hit(scope: str, ident: str, window: int = LOGIN_WINDOW_SECONDS) -> int:
    """Count one attempt and return the count in the current window, this one included.
    One statement, so concurrent callers always get distinct, consecutive numbers."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    q = connection.ops.quote_name
    table, key, count, expires = _table(), q("key"), q("count"), q("expires_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key}, {count}, {expires}) VALUES (%s, 1, %s) "  # noqa: S608 - names quoted, values bound
            f"ON CONFLICT ({key}) DO UPDATE SET "
            f"{count} = CASE WHEN {table}.{expires} <= %s THEN 1 ELSE {table}.{count} + 1 END, "
            f"{expires} = CASE WHEN {table}.{expires} <= %s "
            f"THEN EXCLUDED.{expires} ELSE {table}.{expires} END "
            f"RETURNING {count}",
            [_key(scope, ident), adapt(now + timedelta(seconds=window)), adapt(now), adapt(now)],
        )
        (number,) = cursor.fetchone()
    if number == 1:
        purge_expired()  # a new window began: cheap, and bounded by the windows that began
    return number


def give_back(scope: str, ident: str) -> None:
    """Undo one attempt counted by :func:`hit` (a right password does not use up the limit)."""
    ThrottleCounter.objects.filter(key=_key(scope, ident), count__gt=0).update(count=F("count") - 1)


def count(scope: str, ident: str) -> int:
    """The attempts counted in the current window."""
    row = ThrottleCounter.objects.filter(
        key=_key(scope, ident), expires_at__gt=timezone.now()
    ).first()
    return row.count if row else 0


def is_blocked(scope: str, ident: str, limit: int = LOGIN_ATTEMPTS) -> bool:
    return count(scope, ident) >= limit


def purge_expired() -> int:
    """Delete the counters whose window has ended. Best effort: two purges at once may
    deadlock on PostgreSQL, and then one gives way (the next purge deletes what it left)."""
    try:
        with transaction.atomic():
            deleted, _ = ThrottleCounter.objects.filter(expires_at__lte=timezone.now()).delete()
    except DatabaseError:
        return 0
    return deleted


def reset(scope: str, ident: str) -> None:
    ThrottleCounter.objects.filter(key=_key(scope, ident)).delete()


def scopes(request: HttpRequest | None, username: str) -> list[tuple[str, str]]:
    """What one password attempt counts against: the username (any letter case), and the
    client's address when there is a request."""
    counted = [("login-user", username.lower())]
    address = client_address(request) if request is not None else ""
    if address:
        counted.append(("login-ip", address))
    return counted


def checked_password(request: HttpRequest | None, username: str, check: Callable[[], T]) -> T:
    """``check()`` (which checks a password and returns something true if it was right),
    unless this attempt is over the limit for the username or the address: then raise
    :class:`Throttled` without calling it, and mark the request so forms can say why."""
    counted = scopes(request, username)
    numbers = [hit(scope, ident) for scope, ident in counted]
    if any(number > LOGIN_ATTEMPTS for number in numbers):
        if request is not None:
            request.password_throttled = True  # type: ignore[attr-defined]
        raise Throttled
    result = check()
    if result:
        for scope, ident in counted:
            give_back(scope, ident)
    return result
