"""``ingest run``: the scheduling daemon.

APScheduler 3 (AsyncIOScheduler) holds one job per enabled source, from its
``schedule`` (an interval such as ``15m`` or a five-field cron expression),
with jitter, ``coalesce``, ``max_instances=1`` and a misfire grace time.  Each
job takes the source's lease row before crawling, so several daemons sharing a
PostgreSQL database never crawl one source at once, and calls the same
:func:`~ingest.pipeline.crawl_source` as ``ingest fetch``.  SIGINT/SIGTERM stop
new work, give in-flight crawls a grace period, release leases and exit 0.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from db import repository as repo
from db.session import normalize_url, transaction
from ingest.config import Config, SourceConfig, is_cron, parse_interval
from ingest.errors import DaemonError
from ingest.pipeline import CrawlContext, crawl_source
from ingest.render import counts_text
from ingest.runner import live_context

log = logging.getLogger("ingest.daemon")


def make_trigger(source: SourceConfig, jitter: float) -> CronTrigger | IntervalTrigger:
    if is_cron(source.schedule):
        return CronTrigger.from_crontab(source.schedule, timezone=UTC)
    seconds = parse_interval(source.schedule)
    return IntervalTrigger(seconds=seconds, jitter=min(jitter, seconds / 4) or None, timezone=UTC)


def sqlite_lock(config: Config) -> IO[str] | None:
    """Refuse a second daemon on the same SQLite file (PostgreSQL daemons share work instead)."""
    url = make_url(normalize_url(config.database.url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    lock_path = Path(url.database).expanduser().with_suffix(".daemon.lock")
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise DaemonError(
            f"another daemon is already running on {url.database} "
            "(SQLite allows one; use PostgreSQL to run several)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{datetime.now(UTC).isoformat()}\n")
    handle.flush()
    return handle


class Daemon:
    def __init__(self, config: Config, ctx: CrawlContext) -> None:
        self.config = config
        self.ctx = ctx
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.in_flight: set[asyncio.Task[Any]] = set()
        self.stopping = asyncio.Event()

    def schedule_all(self) -> None:
        now = datetime.now(UTC)
        for index, source in enumerate(s for s in self.config.sources if s.enabled):
            self.scheduler.add_job(
                self.crawl_job,
                make_trigger(source, self.config.daemon.jitter_seconds),
                args=[source.name],
                id=source.name,
                name=f"crawl {source.name}",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=self.config.daemon.misfire_grace_seconds,
                next_run_time=now + timedelta(seconds=index * 0.5),
                replace_existing=True,
            )

    async def crawl_job(self, name: str) -> None:
        if self.stopping.is_set():
            return
        task = asyncio.current_task()
        if task is not None:
            self.in_flight.add(task)
        try:
            await self._crawl_with_lease(name)
        except SQLAlchemyError as exc:
            log.error("source=%s database error, will retry at next run: %s", name, exc)
        finally:
            if task is not None:
                self.in_flight.discard(task)

    async def _crawl_with_lease(self, name: str) -> None:
        source = self.config.source(name)
        lease = float(self.config.daemon.lease_seconds)
        with transaction(self.ctx.sessions) as session:
            source_id = repo.get_or_create_source(session, name).id
            if not repo.acquire_lease(session, source_id, self.ctx.worker, lease):
                log.info("source=%s skipped: leased by another daemon", name)
                return
        try:
            summary = await crawl_source(self.ctx, source, trigger="schedule")
            log.info(
                "source=%s run=%s status=%s seconds=%.1f %s",
                name, summary.run_id, summary.status, summary.seconds, counts_text(summary.counts),
            )
        finally:
            job = self.scheduler.get_job(name)
            with transaction(self.ctx.sessions) as session:
                repo.release_lease(session, source_id, self.ctx.worker)
                repo.set_next_run(session, source_id, job.next_run_time if job else None)

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        self.schedule_all()
        self.scheduler.start()
        log.info("daemon %s started with %d sources", self.ctx.worker, len(self.scheduler.get_jobs()))
        await self.stopping.wait()
        log.info("stopping: no new crawls; %d in flight", len(self.in_flight))
        self.scheduler.shutdown(wait=False)
        await self._drain(self.config.daemon.shutdown_grace_seconds)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    async def _drain(self, grace: float) -> None:
        if not self.in_flight:
            return
        _, pending = await asyncio.wait(set(self.in_flight), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)


async def run_daemon(config: Config) -> int:
    """Run until SIGINT/SIGTERM; returns the exit code (0 on a clean stop)."""
    lock = sqlite_lock(config)
    try:
        async with live_context(config) as ctx:
            await Daemon(config, ctx).serve()
    finally:
        if lock is not None:
            lock.close()
    log.info("daemon stopped")
    return 0
