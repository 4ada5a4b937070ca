"""The FastAPI application: JSON API, web page, metrics and JSON errors, over one database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, event

from db import queries
from db.session import session_factory
from ingest.api import errors, pages, routes
from ingest.api.metrics import ApiMetrics, MetricsMiddleware
from ingest.api.settings import ApiSettings, api_settings
from ingest.config import Config, load_config
from ingest.services import Database, open_database


def _version() -> str:
    try:
        return version("news-ingest")
    except PackageNotFoundError:
        return "0"


DESCRIPTION = """Query the news archive: full-text search with filters and keyset pagination,
articles with their near-duplicates and field provenance, stories, source health.
Write endpoints need `Authorization: Bearer <api.token>`; without a configured token
they are disabled. Errors are `{"error": {"status", "message"}}`."""


def read_engine_for(engine: Engine) -> Engine:
    """The engine API reads use: autocommit, and on PostgreSQL its own pool without pre-ping.

    Reads need no transaction, so autocommit saves the BEGIN/ROLLBACK round trips of each
    request; ``pool_pre_ping`` would add a ``SELECT 1`` round trip to every checkout.  A
    connection the server dropped instead fails one request (a 503), is discarded with the
    rest of the pool (SQLAlchemy invalidates the pool on a disconnect), and the next request
    reconnects.  SQLite has no pre-ping and keeps the shared engine (and its pragmas).
    """
    if engine.dialect.name != "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    timeout = queries.SEARCH_TIMEOUT_MS
    read = create_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        pool_size=10,
        max_overflow=10,
        pool_recycle=1800,
        # Every API read is bounded (searches then skip their two SET round trips).  Custom
        # plans only: psycopg prepares a statement after 5 runs, and PostgreSQL's generic plan
        # for a search (tsquery and filters unknown) picks a GIN bitmap over every match of
        # the word, 100x slower than walking the filter's index; lists plan in ~0.1 ms.
        connect_args={
            "connect_timeout": 10,
            "options": f"-c statement_timeout={timeout} -c plan_cache_mode=force_custom_plan",
        },
    )

    @event.listens_for(read, "connect")
    def _mark(_dbapi: Any, record: Any) -> None:
        record.info[queries.STATEMENT_TIMEOUT_INFO] = timeout

    return read


def create_app(
    config: Config, database: Database | None = None, *, settings: ApiSettings | None = None
) -> FastAPI:
    """An app over ``database`` (opened, and migrated if behind, from ``config`` when not given).

    A database passed in stays the caller's to close; one opened here is closed on shutdown.
    """
    owned = database is None
    db = database if database is not None else open_database(config)

    read_engine = read_engine_for(db.engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if read_engine.pool is not db.engine.pool:
            read_engine.dispose()
        if owned:
            db.close()

    app = FastAPI(
        title="news-ingest", version=_version(), description=DESCRIPTION, lifespan=lifespan,
    )
    app.state.config = config
    app.state.api = settings or api_settings(config)
    app.state.database = db
    app.state.read_engine = read_engine
    app.state.read_sessions = session_factory(read_engine)

    def count() -> int:
        with db.sessions() as session:
            return queries.count_articles(session)

    app.state.metrics = ApiMetrics(count)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(pages.router)
    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes: config from ``$INGEST_CONFIG`` and env."""
    return create_app(load_config())
