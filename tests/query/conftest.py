"""Fixtures of the query tests: the seeded archive on SQLite and PostgreSQL.

``arch`` is fresh per test (for tests that write); ``shared_arch`` is built
once per module and backend, for the many read-only tests (migrating a fresh
PostgreSQL database per test would dominate the run time).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.session import normalize_url

from .seed import Archive, archive

PG_ENV = "INGEST_TEST_DATABASE_URL"


@pytest.fixture
def arch(db_url: str) -> Iterator[Archive]:
    """The test archive (tests/query/seed.py) on each database, fresh for this test."""
    with archive(db_url) as built:
        yield built


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_arch(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """The test archive, shared by a module's read-only tests, on each database."""
    if request.param == "sqlite":
        with archive(f"sqlite:///{tmp_path_factory.mktemp('q') / 'ingest.db'}") as built:
            yield built
        return
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"ingest_q_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL at {PG_ENV} is not reachable: {exc}")
    url = make_url(normalize_url(admin_url)).set(database=name).render_as_string(hide_password=False)
    try:
        with archive(url) as built:
            yield built
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_archive(tmp_path: Path) -> Iterator[Archive]:
    with archive(f"sqlite:///{tmp_path / 'ingest.db'}") as built:
        yield built
