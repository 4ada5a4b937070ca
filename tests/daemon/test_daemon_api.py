"""``ingest run --api``: one process crawls on schedule and serves what it stored."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from daemonproc import Store, cli_env, daemon, free_port, wait_for, write_config
from newsfarm import NewsFarm


@pytest.fixture
def farm() -> Iterator[NewsFarm]:
    with NewsFarm(sources=1, articles=4, schedule="1h") as running:
        yield running



def _with_api(config: Path, port: int) -> Path:
    config.write_text(config.read_text() + f'[api]\nhost = "127.0.0.1"\nport = {port}\n', encoding="utf-8")
    return config


def _articles(base: str) -> list[str]:
    try:
        response = httpx.get(f"{base}/articles", params={"limit": 50}, timeout=5)
    except httpx.HTTPError:
        return []
    return [a["url"] for a in response.json()["items"]] if response.status_code == 200 else []


def _source_names(base: str) -> list[str]:
    return [s["name"] for s in httpx.get(f"{base}/sources", timeout=5).json()]


def test_the_daemon_serves_the_api_and_stops_it_on_sigterm(tmp_path: Path, db_url: str, farm: NewsFarm) -> None:
    port = free_port()
    path = tmp_path / "ingest.toml"
    config = _with_api(write_config(path, farm.sources(), daemon={"log_json": True}), port)
    base = f"http://127.0.0.1:{port}"
    store = Store(db_url)
    with daemon(config, db_url, tmp_path / "daemon.log", ["--api"]) as proc:
        # the articles the daemon's first crawl stores are served by the same process
        assert wait_for(lambda: sorted(_articles(base)) == sorted(farm.urls()), limit=60), proc.log()
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        assert _source_names(base) == [s["name"] for s in farm.sources()]
        # a reload reaches the API too: it lists the source the daemon now has
        late = {"name": "late", "feeds": ["http://127.0.0.1:9/feed.xml"], "schedule": "1h", "enabled": False}
        _with_api(write_config(path, [*farm.sources(), late], daemon={"log_json": True}), port)
        proc.signal(signal.SIGHUP)
        assert wait_for(lambda: "late" in _source_names(base), limit=30), proc.log()
        proc.signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, proc.log()
    log = proc.log()
    assert "daemon stopped" in log and "Traceback" not in log
    # every line is JSON: the daemon's, alembic's (logged while the daemon is imported) and uvicorn's
    plain = [line for line in log.splitlines() if line.strip() and not line.startswith("{")]
    assert not plain, plain
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert any(line.get("msg") == f"API listening on http://127.0.0.1:{port}/" for line in lines)
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    with pytest.raises(httpx.ConnectError):  # the socket went with the process
        httpx.get(f"{base}/healthz", timeout=2)
    assert store.article_count() == farm.total()
    store.close()


def test_a_port_in_use_stops_the_daemon_before_it_crawls(tmp_path: Path, farm: NewsFarm) -> None:
    db_url = f"sqlite:///{tmp_path / 'ingest.db'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = int(taken.getsockname()[1])
        config = _with_api(write_config(tmp_path / "ingest.toml", farm.sources()), port)
        done = subprocess.run(
            [sys.executable, "-m", "ingest", "--config", str(config), "run", "--api"],
            capture_output=True, text=True, env=cli_env(db_url), timeout=60, check=False,
        )
    assert done.returncode != 0
    assert f"api: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert Store(db_url).article_count() == 0
