"""Running ``ingest run`` as a real process in tests, and reading what it stored."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select

from db.models import Article, FetchAttempt, Run, Source
from db.session import normalize_url

FAST_DAEMON = {
    "jitter_seconds": 0,
    "shutdown_grace_seconds": 5,
    "heartbeat_seconds": 1,
    "poll_seconds": 0.5,
    "lease_seconds": 10,
}
FAST_FETCH = {"per_host_delay": 0, "retries": 0, "obey_robots": False, "http2": False}


def write_config(
    path: Path,
    sources: list[dict[str, object]],
    *,
    daemon: Mapping[str, object] | None = None,
    fetch: Mapping[str, object] | None = None,
) -> Path:
    lines: list[str] = ["[fetch]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in {**FAST_FETCH, **(fetch or {})}.items()]
    lines.append("[daemon]")
    lines += [f"{k} = {json.dumps(v)}" for k, v in {**FAST_DAEMON, **(daemon or {})}.items()]
    for src in sources:
        lines.append("[[sources]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in src.items() if v is not None]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli_env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    env["INGEST_DATABASE_URL"] = db_url
    return env


class DaemonProcess:
    """``ingest -v --config CONFIG run`` with its log in a file (a pipe could fill and block it)."""

    def __init__(self, config: Path, db_url: str, log: Path, args: Sequence[str] = ()) -> None:
        self.log_path = log
        self._log = log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ingest", "-v", "--config", str(config), "run", *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
            env=cli_env(db_url),
        )

    @property
    def worker(self) -> str:
        return f"{socket.gethostname()}:{self.proc.pid}"

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._log.close()


@contextmanager
def daemon(config: Path, db_url: str, log: Path, args: Sequence[str] = ()) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(config, db_url, log, args)
    try:
        yield proc
    finally:
        proc.kill()


def run_cli(db_url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        capture_output=True,
        text=True,
        env=cli_env(db_url),
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    """A loopback port nothing listens on (for a server the test starts, or a refused connection)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], bool], limit: float = 90.0, step: float = 0.2) -> bool:
    """Poll ``predicate`` (a condition, not a timing assertion) until true or ``limit`` passes."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class Store:
    """Read-only look at the test database (tables may not exist yet)."""

    def __init__(self, db_url: str) -> None:
        self.engine: Engine = create_engine(normalize_url(db_url))

    def close(self) -> None:
        self.engine.dispose()

    def _safe(self, fn: Callable[[Any], Any], default: Any) -> Any:
        try:
            with self.engine.connect() as conn:
                return fn(conn)
        except Exception:
            return default

    def article_count(self) -> int:
        return int(self._safe(lambda c: c.execute(select(func.count()).select_from(Article)).scalar_one(), 0))

    def article_urls(self) -> list[str]:
        return list(self._safe(lambda c: list(c.execute(select(Article.url)).scalars()), []))

    def runs(self) -> list[Any]:
        stmt = select(Run.id, Run.worker, Run.status, Run.counts, Run.trigger, Source.name).join(
            Source, Source.id == Run.source_id
        )
        return list(self._safe(lambda c: list(c.execute(stmt.order_by(Run.id))), []))

    def sources(self) -> list[Any]:
        return list(self._safe(lambda c: list(c.execute(select(Source))), []))

    def stored_by_worker(self) -> dict[str, int]:
        """Articles stored per daemon, from the attempts committed with each article."""
        stmt = (
            select(Run.worker, func.count())
            .join(FetchAttempt, FetchAttempt.run_id == Run.id)
            .where(FetchAttempt.outcome == "stored")
            .group_by(Run.worker)
        )
        return dict(self._safe(lambda c: {str(w): int(n) for w, n in c.execute(stmt)}, {}))
