"""Parsing untrusted scalars: the one place where a value from a request or an upload becomes
an int, a bool, a datetime, a string or a JSON value the databases can store. Pure: no Django.

Every parser refuses with :class:`InputError`, whose message says what was wrong and what is
expected, and every bound is what both databases hold: SQLite stores 64-bit signed
integers; PostgreSQL ``integer`` columns (``PositiveIntegerField``, ``IntegerField``) hold
32 bits and ``bigint`` (ids) 64; ``timestamp with time zone`` read back through psycopg, and
Python's datetime, hold years 1 to 9999 only; text and ``jsonb`` refuse NUL characters; and
neither driver can encode a lone UTF-16 surrogate.

Decided explicitly, because ``int()`` and ``str.isdigit()`` disagree with a form's intent:
an integer is written in ASCII digits with at most a leading ``-``. ``"²"`` (``isdigit()``
but not ``int()``-able), ``"١٢"`` (Arabic-Indic digits ``int()`` takes), ``"+1"``,
``" 1"``, ``"1_000"``, ``"1e3"`` and ``"1.0"`` are refused, as are booleans and floats.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

INT32_MAX = 2**31 - 1  # PostgreSQL integer: PositiveIntegerField, IntegerField
INT64_MAX = 2**63 - 1  # PostgreSQL bigint and SQLite INTEGER: ids (BigAutoField)
INT64_MIN = -(2**63)
MAX_DIGITS = 20  # more digits than any 64-bit value has: refused before int() reads them
MAX_JSON_DEPTH = 32

_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
_SURROGATE = re.compile("[\ud800-\udfff]")
TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"0", "false", "off", "no", ""})


class InputError(ValueError):
    """A value that cannot be used; the message is for the person who sent it."""


# --- integers -----------------------------------------------------------------------------


def parse_int(value: object, *, name: str, low: int = 0, high: int = INT32_MAX) -> int:
    """A whole number from JSON (an int) or a form (ASCII digits), within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(f"{name} must be a whole number, not {_kind(value)}.")
    if isinstance(value, str):
        if len(value) > MAX_DIGITS or not _INTEGER.fullmatch(value):
            raise InputError(f"{name} must be a whole number in digits 0-9, not {_show(value)}.")
        value = int(value)
    if not low <= value <= high:
        raise InputError(f"{name} must be from {low} to {high}, not {_show_int(value)}.")
    return value


def parse_optional_int(
    value: object, *, name: str, low: int = 0, high: int = INT32_MAX
) -> int | None:
    """As :func:`parse_int`; None and the empty string (a form field left blank) are None."""
    if value is None or value == "":
        return None
    return parse_int(value, name=name, low=low, high=high)


def parse_id(value: object, *, name: str) -> int:
    """A row id (a ``bigint`` primary key): 1 to 2**63 - 1."""
    return parse_int(value, name=name, low=1, high=INT64_MAX)


def parse_version(value: object, *, name: str = "base_version") -> int:
    """A version number (a PostgreSQL ``integer`` column): 0 to 2**31 - 1."""
    return parse_int(value, name=name, low=0, high=INT32_MAX)


def parse_offset(value: object, *, name: str) -> int:
    """A character offset into an article (``integer`` columns): 0 to 2**31 - 1."""
    return parse_int(value, name=name, low=0, high=INT32_MAX)


def parse_ids(values: object, *, name: str, limit: int) -> list[int]:
    """Row ids, from a JSON array or from form/query values, each split on commas; at most
    `limit`, duplicates dropped (first occurrence kept)."""
    if isinstance(values, (str, int)) and not isinstance(values, bool):
        values = [values]
    if not isinstance(values, (list, tuple)):
        raise InputError(f"{name} must be a list of ids, not {_kind(values)}.")
    items: list[object] = []
    for value in values:
        if isinstance(value, str):
            items.extend(part.strip() for part in value.split(",") if part.strip())
        else:
            items.append(value)
    if len(items) > limit:
        raise InputError(f"{name}: at most {limit} ids, not {len(items)}.")
    return list(dict.fromkeys(parse_id(item, name=name) for item in items))


# --- booleans -----------------------------------------------------------------------------


def parse_bool(value: object, *, name: str) -> bool:
    """true/false from JSON; from a form: 1/0, true/false, on/off, yes/no (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise InputError(f"{name} must be true or false, not {_show(value)}.")


# --- text ---------------------------------------------------------------------------------


def text_problem(value: str) -> str | None:
    """Why neither database can store this string (None: both can)."""
    if "\x00" in value:
        return "contains a NUL character"
    if _SURROGATE.search(value):
        return "contains an unpaired surrogate (not valid Unicode)"
    return None


def parse_text(
    value: object,
    *,
    name: str,
    max_length: int | None = None,
    required: bool = False,
    strip: bool = False,
) -> str:
    """A string both databases store: no NUL, no lone surrogate, at most `max_length`
    characters (the column's length)."""
    if not isinstance(value, str):
        raise InputError(f"{name} must be text, not {_kind(value)}.")
    problem = text_problem(value)
    if problem:
        raise InputError(f"{name} {problem}.")
    if strip:
        value = value.strip()
    if required and not value:
        raise InputError(f"{name} is empty.")
    if max_length is not None and len(value) > max_length:
        raise InputError(f"{name} is longer than {max_length} characters ({len(value)}).")
    return value


# --- dates --------------------------------------------------------------------------------


def parse_datetime(value: object, *, name: str) -> datetime | None:
    """An ISO 8601 date or time, as an aware datetime in UTC; None for null or "".

    A time without a zone is taken as UTC. The instant, once in UTC, must fall in years
    1 to 9999: ``0001-01-01T00:00:00+14:00`` is in year 0 in UTC, which SQLite's adapter
    cannot write and psycopg cannot read back (PostgreSQL would store it, and every page
    showing it would then fail)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(f"{name} must be an ISO 8601 string, not {_kind(value)}.")
    if text_problem(value) or len(value) > 64:
        raise InputError(f"{name} is not an ISO 8601 date or time: {_show(value)}.")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            f"{name} is not an ISO 8601 date or time: {_show(value)} "
            "(e.g. 2024-03-01 or 2024-03-01T14:30:00Z)."
        ) from None
    return storable_datetime(moment, name=name)


def storable_datetime(moment: datetime, *, name: str) -> datetime:
    """`moment` in UTC, if both databases can store and read it back; else InputError."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InputError(
            f"{name} {moment.isoformat()} is outside the years 1 to 9999 once in UTC; "
            "the database cannot store it."
        ) from None


# --- JSON values --------------------------------------------------------------------------


def json_problem(value: object, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a JSON value cannot go into a JSON column of both databases (None: it can):
    nesting deeper than `max_depth`, a string or key with NUL (``jsonb`` refuses ``\\u0000``)
    or a lone surrogate, a number that is not finite (NaN, Infinity, 1e309 as read) or an
    integer outside 64 bits (SQLite's JSON functions turn those into inexact reals)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return f"is nested more than {max_depth} levels deep"
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return "has a key that is not a string"
                problem = text_problem(key)
                if problem:
                    return f"has a key that {problem}"
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return f"has a string that {problem}"
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                return "has an integer outside the 64-bit range"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "has a number JSON cannot hold (NaN or infinite)"
        else:
            return f"holds {_kind(item)}, which is not JSON"
    return None


def check_json(value: object, *, name: str, max_depth: int = MAX_JSON_DEPTH) -> object:
    """`value` if :func:`json_problem` finds nothing; InputError naming it otherwise."""
    problem = json_problem(value, max_depth=max_depth)
    if problem:
        raise InputError(f"{name} {problem}.")
    return value


# --- messages -----------------------------------------------------------------------------


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: object) -> str:
    """A short, printable quote of what was sent."""
    if not isinstance(value, str):
        return _kind(value)
    shown = value if len(value) <= 24 else value[:23] + "…"
    return ascii(shown) if not shown.isprintable() or _SURROGATE.search(shown) else repr(shown)


def _show_int(value: int) -> str:
    digits = str(value) if abs(value) < 10**24 else f"a number of {len(str(abs(value)))} digits"
    return digits
