"""``ingest run`` as a real process: scheduled crawls, clean stop on signals, one daemon per SQLite file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from db.models import Article
from ingest.demo.site import DemoSite


@pytest.fixture
def site() -> Iterator[DemoSite]:
    with DemoSite() as running:
        yield running


def write_config(tmp_path: Path, site: DemoSite) -> Path:
    lines = ["[fetch]", "per_host_delay = 0", "[daemon]", "jitter_seconds = 0", "shutdown_grace_seconds = 5"]
    for src in site.sources():
        lines.append("[[sources]]")
        for key, value in src.items():
            if value is not None:
                lines.append(f"{key} = {json.dumps(value)}")
    path = tmp_path / "ingest.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_daemon(config: Path, db: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    env["INGEST_DATABASE_URL"] = f"sqlite:///{db}"
    return subprocess.Popen(
        [sys.executable, "-m", "ingest", "-v", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def stored_count(db: Path) -> int:
    if not db.exists():
        return 0
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT name FROM sqlite_master WHERE name='articles'")).first():
                return 0
            return int(conn.execute(select(func.count()).select_from(Article)).scalar_one())
    finally:
        engine.dispose()


def wait_for(predicate: object, limit: float = 60.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_daemon_crawls_then_stops_cleanly(tmp_path: Path, site: DemoSite, sig: signal.Signals) -> None:
    config = write_config(tmp_path, site)
    db = tmp_path / "daemon.db"
    proc = start_daemon(config, db)
    try:
        assert wait_for(lambda: stored_count(db) == site.article_count()), "daemon did not store the site"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "daemon stopped" in err
    assert "Traceback" not in err
    assert stored_count(db) == site.article_count()


def test_second_daemon_on_same_sqlite_is_refused(tmp_path: Path, site: DemoSite) -> None:
    config = write_config(tmp_path, site)
    db = tmp_path / "daemon.db"
    first = start_daemon(config, db)
    try:
        assert wait_for(lambda: stored_count(db) > 0)
        second = start_daemon(config, db)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert err.strip().splitlines()[-1].startswith("error: another daemon is already running")
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert first.returncode == 0
