"""Soak benchmark: one ``ingest run`` daemon over a local news farm for thousands of articles.

Starts the farm (``tests/daemon/newsfarm.py``: one loopback host per source,
each feed revealing ``--per-crawl`` new articles per fetch), starts the
daemon as a real process on a fresh SQLite file (or ``--database URL``),
samples its resident memory from ``/proc`` while it works, and stops it with
SIGTERM once every article is stored (or after ``--max-seconds``).  Prints
peak and final memory and memory at each tenth of the articles; exits 1 if
memory kept growing with the articles processed (second half vs. first).
Loopback only, bounded, stops by itself.  Linux (reads ``/proc``).

    python bench/soak_bench.py --articles 5000
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "daemon"))

from newsfarm import NewsFarm  # noqa: E402

from db.models import Article  # noqa: E402
from db.session import normalize_url  # noqa: E402

GROWTH_LIMIT_MB = 25.0
"""Allowed RSS growth between the middle and the end of the soak (allocator noise, caches)."""


def rss_kb(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of ``pid`` in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def write_config(path: Path, farm: NewsFarm) -> None:
    lines = [
        "[fetch]", "per_host_delay = 0", "obey_robots = false", "http2 = false", "retries = 0",
        "concurrency = 16", "per_host_concurrency = 4", "max_articles_per_run = 500",
        "[daemon]", "jitter_seconds = 0", "heartbeat_seconds = 2", "poll_seconds = 1",
        "shutdown_grace_seconds = 10", "min_interval_factor = 1", "max_interval_factor = 1",
    ]
    for src in farm.sources():
        lines.append("[[sources]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in src.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def stored(engine_url: str) -> int:
    engine = create_engine(engine_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite" and not conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE name='articles'")
            ).first():
                return 0
            return int(conn.execute(select(func.count()).select_from(Article)).scalar_one())
    except Exception:
        return 0
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5000, help="articles in all (default 5000)")
    parser.add_argument("--sources", type=int, default=10)
    parser.add_argument("--per-crawl", type=int, default=50, help="new articles per feed fetch")
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()
    per_source = max(1, args.articles // args.sources)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp, NewsFarm(
        sources=args.sources, articles=per_source, per_crawl=args.per_crawl, feed_size=2 * args.per_crawl,
        schedule="1s", prefix="soak",
    ) as farm:
        total = farm.total()
        url = args.database or f"sqlite:///{Path(tmp) / 'soak.db'}"
        config = Path(tmp) / "ingest.toml"
        write_config(config, farm)
        env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
        env["INGEST_DATABASE_URL"] = url
        log = (Path(tmp) / "daemon.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "ingest", "--config", str(config), "run"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        started = time.monotonic()
        marks: list[tuple[int, float]] = []
        peak = 0
        done = 0
        try:
            while proc.poll() is None and time.monotonic() - started < args.max_seconds:
                time.sleep(0.5)
                current, peak = rss_kb(proc.pid)
                done = stored(normalize_url(url))
                while len(marks) < 10 and done >= total * (len(marks) + 1) / 10:
                    marks.append((done, current / 1024))
                if done >= total:
                    break
            final, peak = rss_kb(proc.pid) if proc.poll() is None else (0, peak)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
            log.close()
        seconds = time.monotonic() - started
    print(f"articles stored: {done}/{total} in {seconds:.0f}s ({done / seconds:.1f}/s), daemon exit {code}")
    for count, mb in marks:
        print(f"  rss after {count:>6} articles: {mb:7.1f} MiB")
    print(f"peak rss: {peak / 1024:.1f} MiB   final rss: {final / 1024:.1f} MiB")
    if len(marks) < 10:
        print("incomplete: not every article was stored in time")
        return 1
    growth = marks[-1][1] - marks[4][1]
    verdict = "flat" if growth <= GROWTH_LIMIT_MB else "GROWING"
    print(f"memory {verdict}: {growth:+.1f} MiB from {marks[4][0]} to {marks[-1][0]} articles")
    return 0 if verdict == "flat" and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
