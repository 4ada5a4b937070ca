"""Wiring: turn a :class:`~ingest.config.Config` into a ready database and crawl context."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db import migrate, schema
from db.session import check_connection, make_engine, session_factory
from ingest.config import Config


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()


def open_database(config: Config, *, upgrade: bool = True) -> Database:
    """Connect (raising ``DatabaseUnavailable`` with a one-line reason) and migrate if behind.

    The embedded SQLite default is created and migrated on first use, so a
    newcomer needs no setup.
    """
    engine = make_engine(config.database.url, echo=config.database.echo)
    check_connection(engine)
    if upgrade:
        migrate.ensure_current(engine)
    assert schema.metadata is not None  # every model module is imported before first use
    return Database(engine, session_factory(engine))


def worker_name() -> str:
    """An id for this process in runs and leases: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"
