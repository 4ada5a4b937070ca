"""``POST /sources/{name}/fetch``: ask for a crawl now.

With the daemon's control module (``ingest.control.request_fetch``) the
request is queued in the database for whichever daemon serves the source;
without it the crawl runs in the API process as a background task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ingest import eventloop
from ingest.config import Config

log = logging.getLogger("ingest.api")


@dataclass(frozen=True, slots=True)
class FetchTriggered:
    source: str
    status: str
    request_id: int | None
    daemon_running: bool | None


def _control_request_fetch() -> Callable[..., Any] | None:
    try:
        from ingest.control import request_fetch
    except ImportError:
        return None
    return request_fetch


def trigger_fetch(
    config: Config, name: str, sessions: sessionmaker[Session]
) -> tuple[FetchTriggered, Callable[[], None] | None]:
    """Queue (or start) a crawl of ``name``; returns what happened and a task to run afterwards.

    Raises :class:`~ingest.errors.ConfigError` for a source not in the config.
    """
    source = config.source(name)
    request_fetch = _control_request_fetch()
    if request_fetch is not None:
        queued = request_fetch(config, name, requested_by="api", sessions=sessions)
        return FetchTriggered(name, "queued", queued.request_id, queued.daemon_running), None

    def crawl() -> None:
        from ingest.runner import run_crawls

        try:
            eventloop.run(config, run_crawls(config, [source], []))
        except Exception:
            log.exception("background crawl of %s failed", name)

    return FetchTriggered(name, "started", None, None), crawl
