"""A running daemon on SQLite: manual triggers, reload, status, metrics, unhealthy sources."""

from __future__ import annotations

import json
import re
import signal
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemonproc import Store, daemon, run_cli, wait_for, write_config
from newsfarm import NewsFarm


@pytest.fixture
def farm() -> Iterator[NewsFarm]:
    with NewsFarm(sources=3, articles=6, schedule="1h") as running:
        yield running


def test_fetch_now_without_a_daemon_crawls_in_process(tmp_path: Path, farm: NewsFarm) -> None:
    db_url = f"sqlite:///{tmp_path / 'i.db'}"
    config = write_config(tmp_path / "ingest.toml", farm.sources())
    result = run_cli(db_url, "--config", str(config), "fetch", "farm00", "--now", "--json")
    assert result.returncode == 0, result.stderr
    [summary] = json.loads(result.stdout)
    assert summary["counts"]["stored"] == farm.articles
    assert "asked the running daemon" not in result.stderr


def test_manual_trigger_reload_status_and_metrics(tmp_path: Path, farm: NewsFarm) -> None:
    db_url = f"sqlite:///{tmp_path / 'i.db'}"
    first, rest = farm.sources()[:2], farm.sources()[2:]
    config = write_config(tmp_path / "ingest.toml", first, daemon={"metrics_port": 0})
    store = Store(db_url)
    with daemon(config, db_url, tmp_path / "daemon.log") as proc:
        assert wait_for(lambda: store.article_count() == 2 * farm.articles), proc.log()

        # a manual trigger goes through the running daemon (schedule is 1h: nothing is due)
        result = run_cli(db_url, "--config", str(config), "fetch", "farm00", "--now", "--json")
        assert result.returncode == 0, result.stderr
        assert "asked the running daemon to crawl farm00" in result.stderr
        [summary] = json.loads(result.stdout)
        assert summary["status"] == "ok"
        request_runs = [r for r in store.runs() if r.trigger == "request"]
        assert [(r.name, r.worker) for r in request_runs] == [("farm00", proc.worker)]

        # a source added to the config is picked up on `ingest sources reload`
        write_config(config, first + rest, daemon={"metrics_port": 0})
        reload = run_cli(db_url, "--config", str(config), "sources", "reload")
        assert "asked 1 running daemon" in reload.stdout, reload.stderr
        assert wait_for(lambda: store.article_count() == farm.total()), proc.log()

        status = run_cli(db_url, "--config", str(config), "status", "--json")
        info = json.loads(status.stdout)
        [me] = [d for d in info["daemons"] if d["worker"] == proc.worker]
        assert me["state"] == "running" and me["sources"] == 3
        assert {s["name"] for s in info["sources"]} == set(farm.names)
        assert all(s["next_run_at"] for s in info["sources"])

        port = int(re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", proc.log()).group(1))  # type: ignore[union-attr]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            metrics = resp.read().decode()
        assert f'ingest_articles_stored_total{{source="farm02"}} {float(farm.articles)}' in metrics
        assert "ingest_fetch_latency_seconds_bucket" in metrics
        assert 'ingest_queue_depth{queue="requests"}' in metrics

        # SIGHUP re-reads the file too: drop a source again
        write_config(config, first, daemon={"metrics_port": 0})
        proc.signal(signal.SIGHUP)
        assert wait_for(lambda: "removed=['farm02']" in proc.log()), proc.log()

        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    log = proc.log()
    assert "reloaded config: 3 sources" in log
    assert re.search(r"event=run source=farm00 run=\d+ status=ok .*stored=6", log), log
    assert "Traceback" not in log
    store.close()


def test_repeated_failures_back_off_and_mark_the_source_unhealthy(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    sources: list[dict[str, object]] = [
        {"name": "gone", "feeds": [f"http://127.0.0.1:{dead}/feed.xml"], "schedule": "1s"}
    ]
    db_url = f"sqlite:///{tmp_path / 'i.db'}"
    config = write_config(
        tmp_path / "ingest.toml", sources, daemon={"failure_limit": 2, "max_backoff_seconds": 3600}
    )

    store = Store(db_url)
    with daemon(config, db_url, tmp_path / "daemon.log") as proc:
        assert wait_for(lambda: any(not s.healthy for s in store.sources()), limit=60), proc.log()
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    listed = run_cli(db_url, "--config", str(config), "sources", "list", "--json")
    [row] = json.loads(listed.stdout)
    assert row["healthy"] is False and row["consecutive_failures"] == 2
    table = run_cli(db_url, "--config", str(config), "sources", "list")
    assert "UNHEALTHY" in table.stdout
    # the unhealthy source is probed again only after max_backoff_seconds, not hammered
    assert len([r for r in store.runs() if r.name == "gone"]) == 2
    store.close()
