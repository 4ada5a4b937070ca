"""PostgreSQL stopped and started under a running daemon: it logs, backs off, and carries on.

This stops the machine's PostgreSQL cluster, which would break any other
test running against it at that moment, so it runs only when
``INGEST_TEST_PG_RESTART=1`` (``.ci/run`` sets it).  ``INGEST_TEST_PG_CTL``
may name another control command (``stop``/``start`` are appended); the
default is the local Debian cluster.  The cluster is always started again.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemonproc import Store, daemon, wait_for, write_config
from newsfarm import NewsFarm
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.session import normalize_url

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

if os.environ.get("INGEST_TEST_PG_RESTART") != "1":
    pytest.skip(
        "restarts the local PostgreSQL cluster; set INGEST_TEST_PG_RESTART=1 to run",
        allow_module_level=True,
    )


def pg_ctl(action: str) -> None:
    custom = os.environ.get("INGEST_TEST_PG_CTL")
    if custom:
        command = [*shlex.split(custom), action]
    else:
        version = sorted(os.listdir("/etc/postgresql"))[0]
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    subprocess.run(command, check=True, timeout=120, capture_output=True)


@pytest.fixture
def restart_pg_url() -> Iterator[str]:
    """Like ``pg_url``, but with fresh admin connections (a restart kills pooled ones)."""
    admin = normalize_url(os.environ.get("INGEST_TEST_DATABASE_URL", ""))
    if not admin:
        pytest.skip("PostgreSQL tests need INGEST_TEST_DATABASE_URL")
    name = f"ingest_t_{uuid.uuid4().hex[:12]}"

    def execute(sql: str) -> None:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(sql))
        finally:
            engine.dispose()

    execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def farm() -> Iterator[NewsFarm]:
    with NewsFarm(sources=3, articles=30, delay=0.1, schedule="2s") as running:
        yield running


def test_daemon_survives_a_postgresql_restart(
    tmp_path: Path, restart_pg_url: str, farm: NewsFarm
) -> None:
    pg_url = restart_pg_url
    config = write_config(tmp_path / "ingest.toml", farm.sources(), fetch={"per_host_concurrency": 1})
    store = Store(pg_url)
    with daemon(config, pg_url, tmp_path / "daemon.log") as proc:
        assert wait_for(lambda: store.article_count() >= 5), proc.log()
        try:
            pg_ctl("stop")
            assert wait_for(lambda: "database unavailable" in proc.log(), limit=60), proc.log()
            time.sleep(2)  # let the daemon retry against a dead server a few times
            assert proc.proc.poll() is None, proc.log()
        finally:
            pg_ctl("start")
        assert wait_for(lambda: "database is back" in proc.log(), limit=120), proc.log()
        assert wait_for(lambda: store.article_count() == farm.total(), limit=180), proc.log()
        assert proc.proc.poll() is None
        proc.signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, proc.log()
    assert sorted(store.article_urls()) == sorted(farm.urls())
    # crawls cut off by the outage end as failed runs (the pipeline logs those with a
    # traceback); the daemon's own loops never crash
    assert "raised an exception" not in proc.log()
    store.close()
