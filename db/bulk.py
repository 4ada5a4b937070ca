"""PostgreSQL: many rows into one table in one round trip, with a statement text that never changes.

SQLAlchemy sends a list of rows to PostgreSQL as ``INSERT … VALUES (…), (…), …``
pages: a new statement text for every batch size, which psycopg parses again
for its placeholders each time (it caches only short statements).  In a
crawl's store writer that parsing was a quarter of the writer's time.  Here the
rows go through psycopg's ``executemany`` of one fixed single-row statement
(pipelined: one round trip, parsed once, about 20 us of client CPU a row).
SQLite does not need this: its SQLAlchemy path is already a C loop.
Rows nothing is read back from (fetch attempts) go through ``COPY`` instead
(:func:`copy_rows`): about 6 us of client CPU a row instead of 15-20.

Values get the columns' own bind processing (a naive datetime is refused as
everywhere else), JSON columns are serialized as SQLAlchemy's JSON type does,
and the Python-side defaults of left-out columns are filled in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: Sequence[str] = (),
    skip_conflicts_on: Sequence[str] = (),
) -> list[tuple[Any, ...] | None]:
    """Insert ``rows`` (all with the same keys) in the session's transaction (PostgreSQL only).

    With ``returning``: one entry per row, in order, holding the returned columns, or
    ``None`` for a row left out by ``ON CONFLICT (skip_conflicts_on) DO NOTHING``.
    Without: an empty list.
    """
    if not rows:
        return []
    conn = session.connection()
    full = _with_defaults(table, rows)
    keys = tuple(full[0])
    sql, processors = _statement(table, keys, tuple(returning), tuple(skip_conflicts_on), conn.dialect)
    params = _bound(full, keys, processors)
    cursor: Any = conn.connection.cursor()
    try:
        if not returning:
            cursor.executemany(sql, params)
            return []
        cursor.executemany(sql, params, returning=True)
        out: list[tuple[Any, ...] | None] = []
        while True:  # one result per row
            found = cursor.fetchone()
            out.append(None if found is None else tuple(found))
            if not cursor.nextset():
                return out
    finally:
        cursor.close()


def copy_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) with ``COPY … FROM STDIN`` (PostgreSQL only).

    For rows nothing is read back from and that cannot conflict: no statement per row.
    """
    if not rows:
        return
    conn = session.connection()
    full = _with_defaults(table, rows)
    keys = tuple(full[0])
    processors = _processors(table, keys, conn.dialect)
    cursor: Any = conn.connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({', '.join(keys)}) FROM STDIN") as copy:
            for row in _bound(full, keys, processors):
                copy.write_row(row)
    finally:
        cursor.close()


@lru_cache(maxsize=64)
def _processors(table: Table, keys: tuple[str, ...], dialect: Dialect) -> list[Any]:
    """Each column's value processor (``None``: as it is); JSON serialized as SQLAlchemy does
    (None is JSON null)."""
    return [json.dumps if isinstance(table.c[k].type, JSON) else table.c[k].type.bind_processor(dialect)
            for k in keys]


@lru_cache(maxsize=64)
def _statement(
    table: Table, keys: tuple[str, ...], returning: tuple[str, ...], conflict: tuple[str, ...], dialect: Dialect
) -> tuple[str, list[Any]]:
    """The statement for these columns, and each column's value processor (``None``: as it is)."""
    marks = ["%s::json" if isinstance(table.c[key].type, JSON) else "%s" for key in keys]
    sql = f"INSERT INTO {table.name} ({', '.join(keys)}) VALUES ({', '.join(marks)})"
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    return sql, _processors(table, keys, dialect)


def _bound(rows: Sequence[Mapping[str, Any]], keys: tuple[str, ...], processors: list[Any]) -> list[tuple[Any, ...]]:
    """Each row's values in ``keys`` order, through their columns' processors."""
    return [tuple(r[k] if p is None else p(r[k]) for k, p in zip(keys, processors, strict=True)) for r in rows]


def _with_defaults(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows with the Python-side defaults of the columns they leave out, as SQLAlchemy fills them."""
    given = set(rows[0])
    missing = [c for c in table.columns if c.name not in given and c.default is not None and not c.primary_key]
    if not missing:
        return list(rows)
    out: list[Mapping[str, Any]] = []
    for row in rows:
        filled = dict(row)
        for column in missing:
            default: Any = column.default
            filled[column.name] = default.arg(None) if default.is_callable else default.arg
        out.append(filled)
    return out
