"""Crawl benchmark: discover, fetch, extract and store a local news site end to end.

    python bench/crawl_bench.py [--articles 5000] [--hosts 20] [--delay-ms 50] [--db sqlite,postgresql]

A synthetic site (``bench/crawlsite``) of ``--articles`` article pages on
``--hosts`` hosts (one 127.0.0.1 port each, every request delayed
``--delay-ms``) runs in its own process.  Hosts offer a mix of entry points:
RSS, Atom, JSON Feed, a sitemap index (one plain, one Google News child) and a
robots.txt ``Sitemap:`` line.  The crawl is the real one — ``ingest.runner.
run_crawls`` with the configured politeness — into a fresh SQLite file and a
fresh PostgreSQL database (``$INGEST_TEST_DATABASE_URL`` or ``--pg-url``).

Printed per database: stored articles per second, peak RSS, CPU per article
of the crawler, its extraction workers, the site server and the PostgreSQL
backends, the phases of the run, per-host peak concurrency and finishing
times, and three ceilings (politeness budget, CPU of the whole machine, the
one store writer): the lowest is the limit.  Then a second run over the
unchanged site and how many requests it made.  ``--extract-workers`` defaults
to one per core (the config's default is 1).
Each database is measured in a forked child so the peak RSS is that run's own.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlsite.server import SiteProcess, SiteSpec, discovery_kind
from machine import MachineWatch

from ingest import eventloop
from ingest.config import Config, SourceConfig, config_from_dict
from ingest.errors import ConfigError


@dataclass
class RunResult:
    seconds: float
    cpu_seconds: float
    counts: Counter[str]
    site: list[dict[str, Any]]
    fetcher_requests: int
    worker_cpu_seconds: float = 0.0  # extraction worker processes
    machine_busy: float = 0.0  # CPU seconds used by everything on the machine during the run
    machine_cores: int = 1
    site_cpu_seconds: float = 0.0  # the benchmark site's server process
    db_cpu_seconds: float = 0.0  # PostgreSQL backends serving this run (0 for SQLite: in-process)
    started: float = 0.0  # time.monotonic() at the start (the site's clock too)
    writer_busy: float = 0.0  # seconds the store writer spent writing batches


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _descendants_cpu(root: int) -> float:
    """CPU seconds of ``root``'s live descendant processes (the extraction workers), Linux only."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else []:
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _TICK
    total = 0.0
    for pid in cpu:
        p = parents.get(pid)
        while p is not None and p != root and p > 1:
            p = parents.get(p)
        if p == root:
            total += cpu[pid]
    return total


def _process_cpu(pid: int) -> float:
    """CPU seconds of one process so far (Linux; 0 elsewhere or when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine so far (from /proc/stat; 0 elsewhere)."""
    try:
        parts = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(x) for x in parts]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / _TICK


def _entry_points(base: str, kind: str) -> dict[str, Any]:
    """The source's config keys; uses ``sitemaps``/``robots_sitemaps`` when SourceConfig has them."""
    fields = SourceConfig.model_fields
    if kind == "rss":
        return {"feeds": [f"{base}/feed.xml"]}
    if kind == "atom":
        return {"feeds": [f"{base}/atom.xml"]}
    if kind == "json":
        return {"feeds": [f"{base}/feed.json"]}
    if kind == "sitemap-index":
        key = "sitemaps" if "sitemaps" in fields else "feeds"
        return {key: [f"{base}/sitemap.xml"]}
    if "robots_sitemaps" in fields:
        return {"robots_sitemaps": True, "start_urls": [], "sitemaps": []}
    key = "sitemaps" if "sitemaps" in fields else "feeds"
    return {key: [f"{base}/news-sitemap.xml"]}


def build_config(db_url: str, ports: list[int], args: argparse.Namespace, per_host: int) -> Config:
    sources = []
    for host, port in enumerate(ports):
        base = f"http://127.0.0.1:{port}"
        sources.append({"name": f"host{host:02d}", **_entry_points(base, discovery_kind(host))})
    data = {
        "database": {"url": db_url},
        "fetch": {
            "user_agent": "news-ingest-bench/1.0",
            "concurrency": args.concurrency,
            "per_host_concurrency": args.per_host_concurrency,
            "per_host_delay": 0,
            "max_articles_per_run": per_host + 10,
            "retries": 1,
            **({} if args.extract_workers is None else {"extract_workers": args.extract_workers}),
        },
        "sources": sources,
    }
    try:
        return config_from_dict(data, origin="bench")
    except ConfigError:  # a robots-only source is not valid yet: name its sitemap as a feed
        for src, port in zip(sources, ports, strict=True):
            if src.pop("robots_sitemaps", None):
                src.pop("start_urls", None)
                src["feeds"] = [f"http://127.0.0.1:{port}/news-sitemap.xml"]
                src.pop("sitemaps", None)
        return config_from_dict(data, origin="bench")


def _site_stats(port: int, reset: bool = False) -> list[dict[str, Any]]:
    import json

    path = "/__reset" if reset else "/__stats"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
        data: list[dict[str, Any]] = json.loads(resp.read())
    return data


def _db_backends(ctx: Any) -> list[int]:
    """PIDs of the PostgreSQL backends of this run's connections (none for SQLite)."""
    from sqlalchemy import text

    with ctx.sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            return []
        rows = session.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
        return [int(pid) for pid in rows.scalars()]


async def _crawl(config: Config) -> tuple[Counter[str], int, float, float, float]:
    from ingest.pipeline import crawl_source
    from ingest.runner import live_context

    counts: Counter[str] = Counter()
    async with live_context(config, worker="bench") as ctx:
        summaries = await asyncio.gather(*(crawl_source(ctx, s) for s in config.sources))
        for s in summaries:
            counts.update(s.counts)
            if s.status != "ok":
                counts[f"run_{s.status}"] += 1
        workers_cpu = _descendants_cpu(os.getpid())  # before the pool stops with the context
        db_cpu = sum(_process_cpu(pid) for pid in _db_backends(ctx))  # backends opened by this run
        writer_busy = ctx.writer.busy_seconds if ctx.writer is not None else 0.0
        return counts, ctx.fetcher.stats["requests"], workers_cpu, db_cpu, writer_busy


def _one_run(config: Config, port: int, site_pid: int) -> RunResult:
    _site_stats(port, reset=True)
    workers_before = _descendants_cpu(os.getpid())
    busy, site_cpu = _machine_busy(), _process_cpu(site_pid)
    started = time.monotonic()
    wall, cpu = time.perf_counter(), time.process_time()
    # the loop `ingest fetch` and `ingest run` use (uvloop where installed)
    counts, requests, workers_cpu, db_cpu, writer_busy = eventloop.run(config, _crawl(config))
    result = RunResult(
        time.perf_counter() - wall, time.process_time() - cpu, counts, _site_stats(port), requests,
        worker_cpu_seconds=max(0.0, workers_cpu - workers_before),
        machine_busy=_machine_busy() - busy, machine_cores=os.cpu_count() or 1,
        site_cpu_seconds=_process_cpu(site_pid) - site_cpu, db_cpu_seconds=db_cpu, started=started,
        writer_busy=writer_busy,
    )
    return result


def _measure(
    db_url: str, ports: list[int], site_pid: int, args: argparse.Namespace, per_host: int, out: Any
) -> None:
    """Child process: migrate, crawl twice, send both results back."""
    from ingest import runner
    from ingest.services import open_database

    if not args.dedup:  # measure crawling alone, without the near-duplicate indexing hook
        runner.article_hooks = lambda config, database: []  # type: ignore[assignment]
    config = build_config(db_url, ports, args, per_host)
    open_database(config).close()  # migrations are not part of the crawl
    first = _one_run(config, ports[0], site_pid)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    second = _one_run(config, ports[0], site_pid)
    out.send((first, second, peak_mb))


def _fresh_database(kind: str, pg_url: str | None, tmp: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.db'}", None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from db.session import normalize_url

    if not pg_url:
        raise SystemExit("PostgreSQL needs --pg-url or $INGEST_TEST_DATABASE_URL")
    admin = create_engine(normalize_url(pg_url), isolation_level="AUTOCOMMIT")
    name = f"ingest_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = make_url(normalize_url(pg_url)).set(database=name).render_as_string(hide_password=False)
    return url, drop


def _report(kind: str, first: RunResult, second: RunResult, peak_mb: float, args: argparse.Namespace) -> None:
    stored = first.counts.get("stored", 0)
    rate = stored / first.seconds
    print(f"\n== {kind}{'' if args.dedup else ' (near-duplicate hook off)'}")
    print(f"stored {stored} articles in {first.seconds:.1f}s: {rate:.0f} stored articles/s "
          f"(target >= 300)  peak RSS {peak_mb:.0f} MB")
    print(f"outcomes: {dict(sorted(first.counts.items()))}")
    cpu = first.cpu_seconds + first.worker_cpu_seconds
    print(f"crawler CPU: {first.cpu_seconds:.1f}s main process + {first.worker_cpu_seconds:.1f}s extraction "
          f"workers over {first.seconds:.1f}s wall = {100 * cpu / first.seconds:.0f}% of one core; "
          f"{1000 * first.cpu_seconds / max(stored, 1):.1f} + {1000 * first.worker_cpu_seconds / max(stored, 1):.1f}"
          f" ms CPU per stored article")
    others = first.machine_busy - cpu - first.site_cpu_seconds - first.db_cpu_seconds
    print(f"machine: {first.machine_busy:.1f} CPU-s busy of {first.machine_cores * first.seconds:.1f} available "
          f"({100 * first.machine_busy / (first.machine_cores * first.seconds):.0f}%): site server "
          f"{first.site_cpu_seconds:.1f}, database server {first.db_cpu_seconds:.1f}, everything else "
          f"(other users) {others:.1f} CPU-s")
    bound = args.hosts * args.per_host_concurrency / max(args.delay_ms / 1000, 1e-9)
    total_cpu = first.machine_busy - max(others, 0.0)  # crawler, workers, site and database server
    cpu_ceiling = first.machine_cores * stored / max(total_cpu, 1e-9)
    writer_ceiling = stored / max(first.writer_busy, 1e-9)
    limits = {
        f"politeness budget ({args.hosts} hosts x {args.per_host_concurrency} per host / {args.delay_ms:g} ms)": bound,
        f"CPU ({1000 * total_cpu / max(stored, 1):.1f} ms per article of crawler + site + database "
        f"on {first.machine_cores} cores)": cpu_ceiling,
        f"the one store writer (busy {first.writer_busy:.1f}s of {first.seconds:.1f}s: "
        f"{1000 * first.writer_busy / max(stored, 1):.2f} ms per article)": writer_ceiling,
    }
    for name, value in sorted(limits.items(), key=lambda kv: kv[1]):
        print(f"ceiling {value:6.0f} articles/s: {name}")
    print(f"global concurrency {args.concurrency}; the lowest ceiling is the limit "
          f"(requests per article: 1, plus {len(first.site) * 2} feed/robots requests in all)")
    peaks = [h["peak_in_flight"] for h in first.site]
    served = [h for h in first.site if h["first"]]
    begin = min(h["first"] for h in served)
    ends = sorted(h["last"] - begin for h in served)
    print(f"per-host peak in-flight: max {max(peaks)} (limit {args.per_host_concurrency}); "
          f"hosts finished between {ends[0]:.1f}s and {ends[-1]:.1f}s after the first request")
    print(f"phases: {begin - first.started:.2f}s until the first request, {ends[-1]:.2f}s of requests, "
          f"{first.started + first.seconds - begin - ends[-1]:.2f}s after the last one "
          f"(extract and store the tail, finish the runs)")
    site_second: Counter[str] = Counter()
    for h in second.site:
        site_second.update(h["kinds"])
    print(f"second run: {second.fetcher_requests} requests in {second.seconds:.1f}s "
          f"({dict(sorted(site_second.items()))}), articles fetched again: "
          f"{site_second.get('article', 0)}; outcomes {dict(sorted(second.counts.items()))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--slow-host-ms", type=float, default=0.0,
                        help="extra delay on host 0, to show one slow host does not stall the rest")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--per-host-concurrency", type=int, default=4)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--no-dedup", dest="dedup", action="store_false",
                        help="skip the near-duplicate indexing hook (isolates the crawl itself)")
    parser.add_argument("--extract-workers", type=int, default=os.cpu_count() or 1,
                        help="fetch.extract_workers (default: one per core)")
    parser.add_argument("--pg-url", default=os.environ.get("INGEST_TEST_DATABASE_URL"))
    args = parser.parse_args(argv)
    per_host = max(1, args.articles // args.hosts)
    spec = SiteSpec(args.hosts, per_host, args.delay_ms / 1000, args.slow_host_ms / 1000)
    print(f"site: {per_host * args.hosts} articles on {args.hosts} hosts, "
          f"{args.delay_ms:g} ms per request; cores: {os.cpu_count()}")
    ctx = multiprocessing.get_context("fork")
    watch = MachineWatch()
    site = SiteProcess(spec)
    with site as ports, tempfile.TemporaryDirectory() as tmp:
        for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
            url, drop = _fresh_database(kind, args.pg_url, Path(tmp))
            try:
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=_measure, args=(url, ports, site.pid, args, per_host, child))
                proc.start()
                first, second, peak = parent.recv()
                proc.join()
                _report(kind, first, second, peak, args)
            finally:
                if drop is not None:
                    drop()
    print(watch.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
