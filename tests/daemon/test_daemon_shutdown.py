"""SIGTERM mid-crawl: exit 0 after the grace period, nothing half-written, a restart resumes."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemonproc import Store, daemon, wait_for, write_config
from newsfarm import NewsFarm
from sqlalchemy import func, select

from db.models import Article, FetchAttempt, Run
from db.models_daemon import DaemonWorker


@pytest.fixture
def farm() -> Iterator[NewsFarm]:
    with NewsFarm(sources=1, articles=30, delay=0.3, schedule="2s") as running:
        yield running


def test_sigterm_mid_crawl_exits_cleanly_and_a_restart_resumes(
    tmp_path: Path, db_url: str, farm: NewsFarm
) -> None:
    config = write_config(
        tmp_path / "ingest.toml",
        farm.sources(),
        daemon={"shutdown_grace_seconds": 1},
        fetch={"per_host_concurrency": 1},
    )
    store = Store(db_url)
    with daemon(config, db_url, tmp_path / "first.log") as first:
        assert wait_for(lambda: store.article_count() >= 3), first.log()
        first.signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0, first.log()
    log = first.log()
    assert "grace period over: abandoning 1 crawl(s)" in log
    assert "daemon stopped" in log and "Traceback" not in log
    partial = store.article_count()
    assert 3 <= partial < farm.total()

    with store.engine.connect() as conn:
        # no half-written article: each has its raw page and the attempt committed with it
        assert conn.scalar(select(func.count()).where(Article.raw_page_id.is_(None))) == 0
        stored = select(func.count()).where(FetchAttempt.outcome == "stored")
        assert conn.scalar(stored) == partial
        assert [r.status for r in conn.execute(select(Run.status))] == ["aborted"]
        assert conn.scalar(select(DaemonWorker.state)) == "stopped"
    assert all(s.lease_owner is None for s in store.sources())

    farm.delay = 0.0  # the slow pages were only there to catch the first crawl mid-run
    with daemon(config, db_url, tmp_path / "second.log") as second:
        assert wait_for(lambda: store.article_count() == farm.total(), limit=120), second.log()
        second.signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    assert sorted(store.article_urls()) == sorted(farm.urls())
    store.close()
