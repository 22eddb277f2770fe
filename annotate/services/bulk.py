"""Inserting many rows at once, for bulk imports.

``QuerySet.bulk_create`` spends most of a 1,000-article import building model instances and
passing every value through its field. Here values go to the database driver as given, except
those of fields that need converting (dates, JSON), which go through the field as
``bulk_create`` would send them. PostgreSQL gets one ``COPY``; other databases one multi-row
``INSERT`` per batch of as many rows as the driver's parameter limit allows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from itertools import chain

from django.db import connection
from django.db.models import Field, Model

# Fields whose values the drivers take as they are (str, int, None), as bulk_create would
# send them.
PLAIN = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "OneToOneField",
        "PositiveIntegerField",
        "SlugField",
        "TextField",
    }
)
PROGRESS_EVERY = 500


def max_params() -> int:
    """How many parameters one statement may have (SQLite's is set when it is compiled)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65_535


def insert_rows(
    model: type[Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    same: Mapping[str, object] | None = None,
    return_ids: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[int] | None:
    """Insert `rows`, each a value per name in `fields`, with the values of `same` in every
    row. With `return_ids` on PostgreSQL, the new rows' primary keys in the order of `rows`;
    otherwise None: look them up by a unique key (on SQLite that query costs less than
    ``RETURNING`` on a multi-row insert of long texts).

    No ``save()``, no signals, no ``auto_now_add``: give every value. Values of text,
    integer and foreign key fields (as ids) must be of the type the column stores.
    `progress`, if given, is called with the number of rows sent so far in each step.
    """
    if not rows:
        return [] if return_ids and connection.vendor == "postgresql" else None
    meta = model._meta
    same = same or {}
    columns = [meta.get_field(name) for name in fields]
    constants = [meta.get_field(name) for name in same]
    extra = tuple(
        value if value is None or _is_plain(field) else field.get_db_prep_save(value, connection)
        for field, value in zip(constants, same.values(), strict=True)
    )
    # (position, field) of the values that go through their field
    convert = [(n, field) for n, field in enumerate(columns) if not _is_plain(field)]
    prepared: list[tuple] = []
    empties: dict[tuple[int, type], object] = {}
    for row in rows:
        if convert:
            row = list(row)
            for n, field in convert:
                value = row[n]
                if value is None:
                    continue
                if not value and isinstance(value, (dict, list)):
                    # Most rows' JSON is empty (an article's meta, a span's attributes):
                    # converted once, not once per row.
                    key = (n, type(value))
                    if key not in empties:
                        empties[key] = field.get_db_prep_save(value, connection)
                    row[n] = empties[key]
                else:
                    row[n] = field.get_db_prep_save(value, connection)
        prepared.append((*row, *extra))
    names = [field.column for field in (*columns, *constants)]
    if connection.vendor == "postgresql":
        return _copy(model, names, prepared, return_ids, progress)
    _insert(model, names, prepared, progress)
    return None


def _is_plain(field: Field) -> bool:
    return field.get_internal_type() in PLAIN


def _copy(
    model: type[Model],
    names: list[str],
    rows: list[tuple],
    return_ids: bool,
    progress: Callable[[int], None] | None,
) -> list[int] | None:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    ids: list[int] | None = None
    with connection.cursor() as cursor:
        if return_ids:
            # Ids drawn from the table's own sequence, so COPY can write them with the rows.
            pk = model._meta.pk.column
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            names = [pk, *names]
            rows = [(pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)]
        sql = f"COPY {table} ({', '.join(quote(name) for name in names)}) FROM STDIN"
        # Django does not translate the errors of COPY: asked for here, so a unique
        # violation is an IntegrityError as with any other insert.
        with connection.wrap_database_errors, cursor.copy(sql) as copy:
            for start in range(0, len(rows), PROGRESS_EVERY):
                batch = rows[start : start + PROGRESS_EVERY]
                for row in batch:
                    copy.write_row(row)
                if progress is not None:
                    progress(len(batch))
    return ids


def _insert(
    model: type[Model],
    names: list[str],
    rows: list[tuple],
    progress: Callable[[int], None] | None,
) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in names)
    head = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608 - names from the model
    one = f"({', '.join(['%s'] * len(names))})"
    size = max(1, max_params() // len(names))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            cursor.execute(head + ", ".join([one] * len(batch)), list(chain.from_iterable(batch)))
            if progress is not None:
                progress(len(batch))
