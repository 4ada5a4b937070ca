"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.orm import Session, sessionmaker

from db.errors import DatabaseUnavailable


def normalize_url(url: str) -> str:
    """Map plain ``postgresql://`` URLs onto the psycopg 3 driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; a SQLite file's folder is created so first use needs no setup.

    Raises :class:`DatabaseUnavailable` when the URL cannot be used at all.
    """
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"invalid database URL {url!r}: {exc}") from exc
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailable(f"cannot create folder for {database}: {exc}") from exc
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
        # Custom plans always: psycopg prepares a statement after 5 runs, and PostgreSQL's
        # generic plan for our parameterised lookups (band keys, search filters) can be
        # orders of magnitude slower than a plan made for the actual values.
        kwargs["connect_args"] = {
            "connect_timeout": 10,
            "options": "-c plan_cache_mode=force_custom_plan",
        }
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseUnavailable(f"cannot use database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def check_connection(engine: Engine) -> None:
    """Open one connection, or raise :class:`DatabaseUnavailable` with a one-line reason."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, SADatabaseError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"cannot connect to {engine.url.render_as_string(hide_password=True)}: {reason}",
            transient=engine.dialect.name != "sqlite" and _transient(exc.orig),
        ) from exc


#: SQLSTATEs of a server that will accept connections soon: cannot_connect_now
#: (starting up, shutting down, recovering), too_many_connections, admin/crash shutdown.
_TRANSIENT_SQLSTATES = {"57P03", "53300", "57P01", "57P02"}
#: libpq reports a refusal at connect time as text only ("FATAL:  ..."): these say "soon".
_TRANSIENT_FATAL = ("starting up", "shutting down", "in recovery", "too many clients", "connection slots")


def _transient(error: BaseException | None) -> bool:
    """A connection error no server answered (refused, timed out, reset), or an answer
    that says "try again soon"; a rejected login or a missing database is not."""
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _TRANSIENT_SQLSTATES or str(sqlstate).startswith("08")
    message = str(error)
    return "FATAL:" not in message or any(m in message for m in _TRANSIENT_FATAL)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session
