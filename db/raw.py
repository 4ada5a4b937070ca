"""The session's own DBAPI connection, for the statements run for every new article.

SQLAlchemy costs ~0.25 ms a statement in Python (10x a SQLite lookup); the
near-duplicate index runs a handful of plain statements per stored batch,
written once for both databases.  Same connection, same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session


class Raw:
    """Plain SQL with ``?`` placeholders on the session's connection (``%s`` on PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        conn = session.connection()
        self.pg = conn.dialect.name == "postgresql"
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None, "the session's connection is open"
        self.dbapi: Any = dbapi
        self.cursor = conn.connection.cursor()

    def sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self.cursor.execute(self.sql(sql), tuple(params))
        return list(self.cursor.fetchall())

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self.sql(sql), tuple(params))

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(self.sql(sql), [tuple(r) for r in rows])

    def prepared(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """PostgreSQL: run ``sql`` (``%s`` placeholders) as a prepared statement from its first
        run (psycopg waits for the fifth); its rows, or none."""
        cursor: Any = self.cursor
        cursor.execute(sql, params, prepare=True)
        return list(cursor.fetchall()) if cursor.description else []

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column`` IN values: one array parameter on PostgreSQL, a list of ``?`` on SQLite."""
        if self.pg:
            return f"{column} = ANY(?)", [list(values)]
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    def json(self, value: Any) -> Any:
        if self.pg:
            from psycopg.types.json import Json

            return Json(value)
        return json.dumps(value)
