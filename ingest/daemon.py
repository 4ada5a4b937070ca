"""``ingest run``: the scheduling daemon.

APScheduler 3 (AsyncIOScheduler) holds one job per enabled source, from its
``schedule`` (an interval such as ``15m`` or a five-field cron expression),
with jitter, ``coalesce``, ``max_instances=1`` and a misfire grace time.

The database, not the scheduler, is the source of truth for *when* a source
is due (``sources.next_run_at``, adapted by :mod:`ingest.adaptive`) and *who*
crawls it (a lease with expiry, renewed by the heartbeat).  A job that fires
claims the source with one conditional UPDATE — lease free and source due —
so several daemons on one PostgreSQL crawl each source once per interval
between them, and a SIGKILLed daemon's sources are taken over when its
lease expires.  Each crawl is :func:`~ingest.pipeline.crawl_source`, the same
as ``ingest fetch``; articles are unique by URL, so nothing is stored twice.

A control loop sends heartbeats, renews leases, picks up manual fetch
requests and reload requests (:mod:`ingest.control`), and reaps dead
daemons.  Database errors anywhere are logged and retried with backoff; the
daemon only exits on SIGINT/SIGTERM: stop taking work, give in-flight crawls
``shutdown_grace_seconds``, cancel the rest (their runs end ``aborted``, no
article is half-written: one transaction each), release leases, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import random
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from db import daemon_queries as dq
from db import repository as repo
from db.errors import DatabaseUnavailable, MigrationError
from db.session import normalize_url, transaction
from db.types import utcnow
from ingest import adaptive, health
from ingest.config import Config, SourceConfig, is_cron, load_config
from ingest.control import liveness
from ingest.errors import ConfigError, DaemonError
from ingest.logs import logfmt, use_json_lines
from ingest.metrics import Metrics
from ingest.pipeline import CrawlContext, RunSummary, crawl_source
from ingest.runner import live_context
from ingest.services import open_database

log = logging.getLogger("ingest.daemon")

DUE_SLACK = timedelta(seconds=1)
"""A job firing this early still counts its source as due (clock skew, timer slop)."""
DB_BACKOFF_MAX = 60.0
PRUNE_AFTER = timedelta(days=7)


def make_trigger(
    source: SourceConfig, jitter: float, interval: float | None = None
) -> CronTrigger | IntervalTrigger:
    """The APScheduler trigger of a source; ``interval`` overrides an interval schedule."""
    if is_cron(source.schedule):
        return CronTrigger.from_crontab(source.schedule, timezone=UTC)
    seconds = interval or adaptive.bounds_base(source)
    return IntervalTrigger(seconds=seconds, jitter=min(jitter, seconds / 4) or None, timezone=UTC)


def sqlite_lock(config: Config) -> IO[str] | None:
    """Refuse a second daemon on the same SQLite file (PostgreSQL daemons share work instead)."""
    url = make_url(normalize_url(config.database.url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    lock_path = Path(url.database).expanduser().with_suffix(".daemon.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
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
    handle.write(f"{os.getpid()} {datetime.now(UTC).isoformat()}\n")
    handle.flush()
    return handle


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one claim-and-crawl went: ``crawled`` (with a summary), or why not."""

    outcome: str
    summary: RunSummary | None = None


class _Backoff:
    """Backoff for database errors: wait about as long as the outage has lasted (1s..60s).

    Logged once when an outage starts and once when it ends, not per retry.
    """

    def __init__(self, metrics: Metrics) -> None:
        self.since: float | None = None
        self.metrics = metrics

    def failed(self, exc: BaseException, where: str) -> float:
        now = time.monotonic()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        if self.since is None:
            self.since = now
            log.warning("database unavailable (%s: %s); retrying with backoff", where, reason)
            self.metrics.db_up.set(0)
        else:
            log.debug("database still unavailable (%s: %s)", where, reason)
        return min(DB_BACKOFF_MAX, max(1.0, now - self.since))

    def ok(self) -> None:
        if self.since is not None:
            log.warning("database is back after %.0fs", time.monotonic() - self.since)
            self.since = None
            self.metrics.db_up.set(1)


class Daemon:
    def __init__(self, config: Config, ctx: CrawlContext, metrics: Metrics | None = None) -> None:
        self.config = config
        self.ctx = ctx
        self.metrics = metrics or Metrics()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stopping = asyncio.Event()
        self.on_reload: list[Callable[[Config], None]] = []
        """Called with the new config after a reload (e.g. the embedded API's)."""
        self.slots = asyncio.Semaphore(config.daemon.max_concurrent_sources)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.queued: set[str] = set()
        self.crawling: dict[str, int] = {}
        self.source_ids: dict[str, int] = {}
        self.schedules: dict[str, str] = {}
        self.backoff = _Backoff(self.metrics)
        self.reload_wanted = False

    # --- configuration and jobs --------------------------------------------

    @property
    def worker(self) -> str:
        return self.ctx.worker

    def source_names(self) -> list[str]:
        return [s.name for s in self.config.sources if s.enabled]

    def _source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.config.sources if s.name == name and s.enabled), None)

    def sync_jobs(self) -> None:
        """Make the jobs match the enabled sources: add new, reschedule changed, drop removed."""
        wanted = {s.name: s for s in self.config.sources if s.enabled}
        for name in list(self.schedules):
            if name not in wanted:
                self.scheduler.remove_job(name)
                del self.schedules[name]
        fresh = [s for n, s in wanted.items() if self.schedules.get(n) != s.schedule]
        random.shuffle(fresh)  # daemons started together begin with different sources
        now = utcnow()
        for index, source in enumerate(fresh):
            self.scheduler.add_job(
                self.crawl_job,
                make_trigger(source, self.config.daemon.jitter_seconds),
                args=[source.name],
                id=source.name,
                name=f"crawl {source.name}",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=self.config.daemon.misfire_grace_seconds,
                next_run_time=now + timedelta(seconds=0.2 * index),
                replace_existing=True,
            )
            self.schedules[source.name] = source.schedule

    def reload(self) -> None:
        """Re-read the config file (SIGHUP or ``ingest sources reload``) and resync the jobs.

        Sources and the ``[daemon]`` bounds take effect at once; ``[fetch]`` and
        ``[database]`` changes need a restart (the HTTP client and pool are built once).
        """
        try:
            new = load_config(self.config.path)
        except ConfigError as exc:
            log.error("reload failed, keeping the running config: %s", exc)
            return
        if new.database.url != self.config.database.url:
            log.warning("reload: a database change needs a restart; keeping the old database")
            new = new.model_copy(update={"database": self.config.database})
        before = dict(self.schedules)
        self.config = new
        self.ctx.config = new
        for listener in self.on_reload:
            listener(new)
        self.sync_jobs()
        added = sorted(set(self.schedules) - set(before))
        removed = sorted(set(before) - set(self.schedules))
        log.info("reloaded config: %d sources, added=%s removed=%s", len(self.schedules), added, removed)

    def _set_next(self, name: str, when: datetime, interval: float | None) -> None:
        """Move this daemon's job to the shared schedule stored in the database."""
        job = self.scheduler.get_job(name)
        source = self._source(name)
        if job is None or source is None or self.stopping.is_set():
            return
        trigger = job.trigger
        if (
            interval
            and isinstance(trigger, IntervalTrigger)
            and abs(trigger.interval.total_seconds() - interval) > 0.5
        ):
            job.reschedule(make_trigger(source, self.config.daemon.jitter_seconds, interval))
        jitter = random.uniform(0, min(self.config.daemon.jitter_seconds, (interval or 60) / 10))
        job.modify(next_run_time=max(when, utcnow()) + timedelta(seconds=jitter))

    # --- crawling ----------------------------------------------------------------

    async def crawl_job(self, name: str) -> None:
        """The scheduled job.  Never raises: APScheduler would log a traceback."""
        with contextlib.suppress(asyncio.CancelledError):
            await self.attempt(name, forced=False, trigger="schedule")

    async def attempt(self, name: str, *, forced: bool, trigger: str) -> Attempt:
        """Claim ``name`` (due or ``forced``) and crawl it, unless stopping or busy."""
        if self.stopping.is_set():
            return Attempt("stopping")
        source = self._source(name)
        if source is None:
            return Attempt("unknown")
        if name in self.queued:
            return Attempt("busy")
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        self.queued.add(name)
        try:
            async with self.slots:
                if self.stopping.is_set():
                    return Attempt("stopping")
                return await self._claim_and_crawl(source, forced=forced, trigger=trigger)
        except SQLAlchemyError as exc:
            delay = self.backoff.failed(exc, f"source {name}")
            self._set_next(name, utcnow() + timedelta(seconds=delay), None)
            return Attempt("db_error")
        finally:
            self.queued.discard(name)
            if task is not None:
                self.tasks.discard(task)

    def _source_id(self, name: str) -> int:
        if name not in self.source_ids:
            with transaction(self.ctx.sessions) as session:
                self.source_ids[name] = repo.get_or_create_source(session, name).id
        return self.source_ids[name]

    async def _claim_and_crawl(self, source: SourceConfig, *, forced: bool, trigger: str) -> Attempt:
        name = source.name
        source_id = self._source_id(name)
        lease = float(self.config.daemon.lease_seconds)
        with transaction(self.ctx.sessions) as session:
            due_by = None if forced else utcnow() + DUE_SLACK
            claimed = dq.claim_source(session, source_id, self.worker, lease, due_by=due_by)
            state = dq.schedule_state(session, source_id)
        self.backoff.ok()
        if not claimed:
            return self._not_claimed(name, state)
        self.crawling[name] = source_id
        self.metrics.in_flight.set(len(self.crawling))
        summary: RunSummary | None = None
        try:
            summary = await crawl_source(self.ctx, source, trigger=trigger)
        finally:
            self.crawling.pop(name, None)
            self.metrics.in_flight.set(len(self.crawling))
            self._after_run(source, source_id, summary)
        return Attempt("crawled", summary)

    def _not_claimed(self, name: str, state: dq.ScheduleState | None) -> Attempt:
        now = utcnow()
        if state is None:
            return Attempt("unknown")
        owner, expires = state.lease_owner, state.lease_expires_at
        next_run, interval = state.next_run_at, state.interval_seconds
        if owner and owner != self.worker and expires is not None and expires > now:
            log.debug("source=%s leased by %s until %s", name, owner, expires)
            # if the holder dies, take over once its lease expires
            job = self.scheduler.get_job(name)
            if job is not None and job.next_run_time is not None and job.next_run_time > expires:
                self._set_next(name, expires + timedelta(seconds=1), None)
            return Attempt("leased")
        if next_run is not None:
            self._set_next(name, next_run, interval)
        return Attempt("not_due")

    def _after_run(self, source: SourceConfig, source_id: int, summary: RunSummary | None) -> None:
        """Plan the next run, record extraction health, release the lease, log one line."""
        status = "aborted" if summary is None else summary.status
        counts = {} if summary is None else dict(summary.counts)
        job = self.scheduler.get_job(source.name)
        cron_next = job.next_run_time if job is not None and isinstance(job.trigger, CronTrigger) else None
        bounds = adaptive.bounds(self.config.daemon, source)
        drift = None
        with transaction(self.ctx.sessions) as session:
            state = dq.schedule_state(session, source_id)
            failures = 0 if state is None else state.consecutive_failures
            plan = adaptive.plan(
                bounds,
                current=None if state is None else state.interval_seconds,
                status=status,
                stored=counts.get("stored", 0),
                failures=failures,
                now=utcnow(),
                scheduled_next=cron_next,
            )
            dq.finish_claim(
                session, source_id, self.worker,
                interval=plan.interval, next_run_at=plan.next_run_at, healthy=plan.healthy,
            )
            attempts: list[tuple[str, str, float | None]] = []
            if summary is not None:
                drift = health.record_run(session, source_id, summary.run_id, counts, summary.stored_ids)
                attempts = dq.run_attempts(session, summary.run_id)
        self.metrics.observe_run(source.name, status, counts, attempts)
        self.metrics.observe_source(source.name, healthy=plan.healthy, interval=plan.interval, drift=drift)
        self._set_next(source.name, plan.next_run_at, plan.interval)
        fields: dict[str, Any] = {
            "event": "run",
            "source": source.name,
            "run": None if summary is None else summary.run_id,
            "status": status,
            "seconds": None if summary is None else round(summary.seconds, 2),
            **{k: v for k, v in sorted(counts.items()) if v},
            "failures": failures,
            "healthy": plan.healthy,
            "interval": round(plan.interval),
            "next": plan.next_run_at.isoformat(timespec="seconds"),
        }
        if drift is not None and drift.flagged:
            fields["drift"] = "; ".join(drift.reasons)
        if summary is not None and summary.error:
            fields["error"] = summary.error
        level = logging.INFO if status == "ok" else logging.WARNING
        log.log(level, "%s", logfmt(fields), extra={"fields": fields})

    # --- control loop: heartbeat, leases, requests, reloads -----------------------

    async def control_loop(self) -> None:
        """Heartbeat and poll until stopping; database errors back off, never escape."""
        daemon = self.config.daemon
        last_beat = float("-inf")
        while not self.stopping.is_set():
            delay = daemon.poll_seconds
            try:
                if time.monotonic() - last_beat >= daemon.heartbeat_seconds:
                    self._beat()
                    last_beat = time.monotonic()
                self._poll_requests()
                self.backoff.ok()
            except SQLAlchemyError as exc:
                delay = self.backoff.failed(exc, "control loop")
            if self.reload_wanted:
                self.reload_wanted = False
                self.reload()
                last_beat = float("-inf")  # publish the new source list now, not a heartbeat later
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=delay)

    def _beat(self) -> None:
        daemon = self.config.daemon
        now = utcnow()
        with transaction(self.ctx.sessions) as session:
            row = dq.heartbeat(session, self.worker, sources=self.source_names(), in_flight=list(self.crawling))
            if row is None:  # pruned while we could not reach the database
                dq.register_worker(session, self.worker, socket.gethostname(), os.getpid(), self.source_names())
            held = dq.renew_leases(session, self.worker, list(self.crawling.values()), daemon.lease_seconds)
            if held < len(self.crawling):
                log.warning("lost %d lease(s) while crawling", len(self.crawling) - held)
            if row is not None and row.reload_requested_at is not None and (
                row.reloaded_at is None or row.reload_requested_at > row.reloaded_at
            ):
                self.reload_wanted = True
                dq.mark_reloaded(session, self.worker, now)
            for dead in dq.reap_dead_workers(session, now - liveness(self.config)):
                log.warning("daemon %s stopped sending heartbeats; its runs are marked aborted", dead)
            dq.prune_workers(session, now - PRUNE_AFTER)
            self.metrics.queue.labels("requests").set(dq.pending_count(session))
            self.metrics.queue.labels("due").set(dq.due_count(session, self.source_names(), now))

    def _poll_requests(self) -> None:
        """Claim pending manual requests for sources this daemon is not already crawling."""
        claimed: dict[str, list[int]] = {}
        with transaction(self.ctx.sessions) as session:
            for request_id, name in dq.pending_requests(session, self.source_names()):
                if name in self.queued and name not in claimed:
                    continue
                if dq.claim_request(session, request_id, self.worker):
                    claimed.setdefault(name, []).append(request_id)
        for name, ids in claimed.items():
            log.info("source=%s manual fetch requested (request %s)", name, ids)
            task = asyncio.get_running_loop().create_task(self._serve_request(name, ids))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _serve_request(self, name: str, ids: list[int]) -> None:
        try:
            result = await self.attempt(name, forced=True, trigger="request")
        except asyncio.CancelledError:
            result = Attempt("stopping")
        try:
            with transaction(self.ctx.sessions) as session:
                for request_id in ids:
                    if result.summary is not None:
                        s = result.summary
                        status = "done" if s.status == "ok" else "failed"
                        dq.finish_request(session, request_id, status, s.run_id, s.error)
                    elif result.outcome == "unknown":
                        dq.finish_request(session, request_id, "failed", None, "source not configured")
                    else:  # leased elsewhere, busy here, stopping or db error: try again later
                        dq.unclaim_request(session, request_id)
        except SQLAlchemyError as exc:
            self.backoff.failed(exc, f"request for {name}")

    # --- lifecycle -----------------------------------------------------------------

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        with transaction(self.ctx.sessions) as session:
            dq.register_worker(session, self.worker, socket.gethostname(), os.getpid(), self.source_names())
        self.sync_jobs()
        self.scheduler.start()
        control = loop.create_task(self.control_loop())
        log.info("daemon %s started with %d sources", self.worker, len(self.schedules))
        try:
            await self.stopping.wait()
            log.info("stopping: no new crawls; %d in flight", len(self.crawling))
            self.scheduler.pause()
            await self._drain(self.config.daemon.shutdown_grace_seconds)
            await control
        finally:
            self.scheduler.shutdown(wait=False)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            self._release()

    def _on_sighup(self) -> None:
        log.info("SIGHUP: reloading config")
        self.reload()

    async def _drain(self, grace: float) -> None:
        """Let in-flight crawls finish for ``grace`` seconds, then cancel them."""
        if not self.tasks:
            return
        _, pending = await asyncio.wait(set(self.tasks), timeout=grace)
        if pending:
            log.warning("grace period over: abandoning %d crawl(s)", len(pending))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=10)

    def _release(self) -> None:
        try:
            with transaction(self.ctx.sessions) as session:
                dq.release_all_leases(session, self.worker)
                dq.stop_worker(session, self.worker)
        except SQLAlchemyError as exc:
            log.warning("could not release leases (they expire by themselves): %s", exc)


async def prepare_database(config: Config, attempts: int = 5) -> bool:
    """Migrate before starting; daemons started together race on a fresh schema, so retry.

    A database that is not up yet (started with the daemon, or restarting) is waited
    for up to ``daemon.startup_wait_seconds``, with backoff; one that waiting cannot
    fix (bad URL, missing database, rejected login) fails at once.  SIGINT/SIGTERM
    during the wait stop it: returns ``False`` (the daemon exits 0 without starting).
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    deadline = time.monotonic() + config.daemon.startup_wait_seconds
    delay = 1.0
    attempt = 0
    try:
        while not stop.is_set():
            try:
                await asyncio.to_thread(lambda: open_database(config).close())
                return not stop.is_set()
            except DatabaseUnavailable as exc:
                left = deadline - time.monotonic()
                if not exc.transient or left <= 0:
                    raise
                wait = min(delay, left)
                log.warning("%s; retrying in %.0f s (waiting up to %.0f s more)", exc, wait, left)
                delay = min(2 * delay, 10.0)
            except MigrationError:
                attempt += 1
                if attempt == attempts:
                    raise
                log.warning("schema migration raced another process; retrying (%d/%d)", attempt, attempts)
                wait = attempt
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
        log.info("stopped while waiting for the database")
        return False
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def run_daemon(config: Config, *, api: bool = False) -> int:
    """Run until SIGINT/SIGTERM; returns the exit code (0 on a clean stop).

    ``api``: also serve the HTTP API and web page (``[api]`` host and port) from
    this process, stopped after the crawls in flight.
    """
    if config.daemon.log_json:
        use_json_lines()  # ``ingest run`` did already; a caller of this function may not have
    lock = sqlite_lock(config)
    try:
        if not await prepare_database(config):
            return 0
        metrics = Metrics()
        if config.daemon.metrics_port is not None:
            metrics.serve(config.daemon.metrics_host, config.daemon.metrics_port)
        embedded = None
        if api:
            from ingest.api.embedded import EmbeddedApi

            embedded = EmbeddedApi(config)  # binds now: a port in use fails before any crawl
        try:
            async with live_context(config) as ctx:
                daemon = Daemon(config, ctx, metrics)
                if embedded is not None:
                    embedded.start(on_failure=daemon.stopping.set)
                    daemon.on_reload.append(embedded.update_config)
                await daemon.serve()
        finally:
            if embedded is not None:
                await embedded.stop()
    finally:
        if lock is not None:
            lock.close()
    log.info("daemon stopped")
    return 1 if embedded is not None and embedded.failed else 0
