"""Two daemons on one PostgreSQL split the sources; one is SIGKILLed and the other takes over."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemonproc import Store, daemon, wait_for, write_config
from newsfarm import NewsFarm

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def farm() -> Iterator[NewsFarm]:
    # slow pages so crawls overlap and a kill lands mid-run
    with NewsFarm(sources=8, articles=12, delay=0.15, schedule="3s") as running:
        yield running


def test_two_daemons_split_work_and_survive_a_sigkill(tmp_path: Path, pg_url: str, farm: NewsFarm) -> None:
    config = write_config(
        tmp_path / "ingest.toml",
        farm.sources(),
        daemon={"max_concurrent_sources": 2, "lease_seconds": 10},
        fetch={"per_host_concurrency": 1},
    )
    store = Store(pg_url)
    with (
        daemon(config, pg_url, tmp_path / "a.log") as a,
        daemon(config, pg_url, tmp_path / "b.log") as b,
    ):

        def a_mid_run() -> bool:
            """Both daemons stored articles and A is crawling a source right now."""
            by = store.stored_by_worker()
            running = [r for r in store.runs() if r.worker == a.worker and r.status == "running"]
            return by.get(a.worker, 0) > 0 and by.get(b.worker, 0) > 0 and bool(running)

        assert wait_for(a_mid_run), a.log() + b.log()
        a.kill()  # SIGKILL: no cleanup, its leases stay until they expire
        killed = {r.name for r in store.runs() if r.worker == a.worker and r.status == "running"}
        assert killed

        assert wait_for(lambda: store.article_count() == farm.total(), limit=180), b.log()
        # B finished what A was crawling, after A's lease expired
        assert wait_for(
            lambda: killed
            <= {r.name for r in store.runs() if r.worker == b.worker and r.status == "ok"}
        )
        # B noticed A's silence and closed A's orphaned runs
        assert wait_for(
            lambda: all(r.status != "running" for r in store.runs() if r.worker == a.worker)
        ), b.log()
        b.signal(signal.SIGTERM)
        assert b.wait() == 0
    urls = store.article_urls()
    assert sorted(urls) == sorted(farm.urls())  # every article, each exactly once
    stored_by = store.stored_by_worker()
    assert stored_by.get(a.worker, 0) > 0 and stored_by.get(b.worker, 0) > 0, stored_by
    assert sum(stored_by.values()) == farm.total()  # both did work, nothing stored twice
    assert "killed" not in b.log() and "Traceback" not in b.log()
    assert all(s.lease_owner is None for s in store.sources())
    store.close()
