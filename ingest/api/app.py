"""The FastAPI application: JSON API, web page, metrics and JSON errors, over one database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

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


def create_app(
    config: Config, database: Database | None = None, *, settings: ApiSettings | None = None
) -> FastAPI:
    """An app over ``database`` (opened, and migrated if behind, from ``config`` when not given).

    A database passed in stays the caller's to close; one opened here is closed on shutdown.
    """
    owned = database is None
    db = database if database is not None else open_database(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            db.close()

    app = FastAPI(
        title="news-ingest", version=_version(), description=DESCRIPTION, lifespan=lifespan,
    )
    app.state.config = config
    app.state.api = settings or api_settings(config)
    app.state.database = db
    # Reads need no transaction: autocommit saves the BEGIN/ROLLBACK round trips of each request.
    read_engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
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
