"""Talking to running daemons through the database: manual fetches and reloads.

The database is the only channel, so this works from any machine that can
reach it (the CLI, the HTTP API) and needs no socket or pid file.  A daemon
counts as running while its heartbeat is fresher than :func:`liveness`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from db import daemon_queries as dq
from db.session import transaction
from db.types import utcnow
from ingest.config import Config
from ingest.errors import IngestError
from ingest.services import open_database, worker_name


class RequestTimeout(IngestError):
    """A manual fetch request was not finished in time (the daemon may still run it)."""


class RequestNotFound(IngestError):
    """No fetch request has this id."""


@dataclass(frozen=True, slots=True)
class FetchRequested:
    """A queued request; ``daemon_running`` says whether a live daemon serves the source."""

    request_id: int
    source: str
    daemon_running: bool


@dataclass(frozen=True, slots=True)
class RequestState:
    request_id: int
    source: str
    status: str
    run_id: int | None
    run_status: str | None
    counts: dict[str, int]
    error: str | None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


def liveness(config: Config) -> timedelta:
    """How old a heartbeat may be before its daemon counts as gone."""
    return timedelta(seconds=3 * config.daemon.heartbeat_seconds + config.daemon.poll_seconds)


@contextmanager
def _sessions(config: Config, given: sessionmaker[Session] | None) -> Iterator[sessionmaker[Session]]:
    if given is not None:
        yield given
        return
    database = open_database(config)
    try:
        yield database.sessions
    finally:
        database.close()


def daemons_serving(session: Session, config: Config, source: str) -> list[str]:
    """Live daemons whose config has ``source``."""
    since = utcnow() - liveness(config)
    return [w.worker for w in dq.live_workers(session, since) if source in (w.sources or [])]


def daemon_running(config: Config, source: str, *, sessions: sessionmaker[Session] | None = None) -> bool:
    with _sessions(config, sessions) as factory, factory() as session:
        return bool(daemons_serving(session, config, source))


def request_fetch(
    config: Config,
    name: str,
    *,
    requested_by: str | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> FetchRequested:
    """Queue "crawl ``name`` now" for a running daemon (``POST /sources/{name}/fetch``).

    Raises :class:`~ingest.errors.ConfigError` for an unknown source.  The row
    is queued even when no daemon runs; the next daemon to start picks it up.
    """
    config.source(name)
    with _sessions(config, sessions) as factory, transaction(factory) as session:
        request_id = dq.add_request(session, name, requested_by or worker_name())
        running = bool(daemons_serving(session, config, name))
    return FetchRequested(request_id, name, running)


def request_state(
    config: Config, request_id: int, *, sessions: sessionmaker[Session] | None = None
) -> RequestState:
    with _sessions(config, sessions) as factory, factory() as session:
        row = dq.get_request(session, request_id)
        if row is None:
            raise RequestNotFound(f"no fetch request {request_id}")
        run = dq.get_run(session, row.run_id) if row.run_id is not None else None
        counts: dict[str, Any] = dict(run.counts or {}) if run is not None else {}
        return RequestState(
            row.id, row.source, row.status, row.run_id,
            None if run is None else run.status, {k: int(v) for k, v in counts.items()}, row.error,
        )


def wait_for_request(
    config: Config, request_id: int, *, timeout: float, poll: float = 0.5
) -> RequestState:
    """Block until the daemon finished the request; :class:`RequestTimeout` after ``timeout``."""
    database = open_database(config)
    try:
        deadline = time.monotonic() + timeout
        while True:
            state = request_state(config, request_id, sessions=database.sessions)
            if state.finished:
                return state
            if time.monotonic() >= deadline:
                raise RequestTimeout(
                    f"request {request_id} for {state.source} is still {state.status} "
                    f"after {timeout:.0f}s; see `ingest status`"
                )
            time.sleep(poll)
    finally:
        database.close()


def request_reload(config: Config) -> int:
    """Ask every live daemon to re-read its config file; returns how many were asked."""
    with _sessions(config, None) as factory, transaction(factory) as session:
        return dq.request_reload(session, utcnow() - liveness(config))
