"""Adaptive recrawl: when a source should be crawled next, and whether it is healthy.

Like Media Cloud's rss-fetcher and Miniflux, a source that keeps yielding
nothing new is polled less often and a busy one more often, within bounds
set relative to its configured schedule (``min_interval_factor`` ..
``max_interval_factor``), so a source configured at ``15m`` never goes
faster than the operator allowed.  Failures back off exponentially; past
``failure_limit`` consecutive failures the source is unhealthy and probed
only every ``max_backoff_seconds`` instead of being hammered.  Pure
functions: the daemon stores the result in ``sources``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ingest.config import DaemonConfig, SourceConfig, is_cron, parse_interval

SPEED_UP = 0.75
"""Interval factor after a run that stored new articles."""
SLOW_DOWN = 1.5
"""Interval factor after a successful run that stored nothing."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """The limits one source's interval moves within (seconds)."""

    base: float
    low: float
    high: float
    max_backoff: float
    failure_limit: int
    adaptive: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """What to store after a run: the interval to use and when the source is next due."""

    interval: float
    next_run_at: datetime
    healthy: bool


def bounds_base(source: SourceConfig) -> float:
    """The configured interval of a source in seconds (cron schedules: one hour, nominally)."""
    return 3600.0 if is_cron(source.schedule) else float(parse_interval(source.schedule))


def bounds(daemon: DaemonConfig, source: SourceConfig) -> Bounds:
    """Bounds from the config; a cron schedule is explicit timing and is not adapted."""
    cron = is_cron(source.schedule)
    base = bounds_base(source)
    return Bounds(
        base=base,
        low=base * daemon.min_interval_factor,
        high=base * daemon.max_interval_factor,
        max_backoff=max(daemon.max_backoff_seconds, base),
        failure_limit=daemon.failure_limit,
        adaptive=daemon.adaptive and not cron,
    )


def next_interval(current: float | None, b: Bounds, *, stored: int) -> float:
    """The interval after a successful run: shorter when it stored articles, longer if not."""
    interval = b.base if current is None or current <= 0 else current
    if not b.adaptive:
        return b.base
    interval *= SPEED_UP if stored > 0 else SLOW_DOWN
    return min(b.high, max(b.low, interval))


def failure_delay(interval: float, b: Bounds, failures: int) -> float:
    """Exponential backoff after ``failures`` consecutive failures (at least one interval)."""
    if failures >= b.failure_limit:
        return b.max_backoff
    return min(b.max_backoff, max(interval, b.base) * 2.0 ** min(failures, 20))


def plan(
    b: Bounds,
    *,
    current: float | None,
    status: str,
    stored: int,
    failures: int,
    now: datetime,
    scheduled_next: datetime | None = None,
) -> Plan:
    """Turn a finished run into the source's next interval, due time and health.

    ``status`` is the run's (``ok``, ``failed`` or ``aborted``); an aborted run
    (shutdown) is due again at once so the next daemon resumes it.
    ``scheduled_next`` is a cron trigger's next fire time, if any.
    """
    if status == "aborted":
        return Plan(current or b.base, now, failures < b.failure_limit)
    if status == "ok":
        interval = next_interval(current, b, stored=stored)
        due = now + timedelta(seconds=interval)
        if scheduled_next is not None and not b.adaptive:
            due = scheduled_next
        return Plan(interval, due, True)
    interval = current or b.base
    due = now + timedelta(seconds=failure_delay(interval, b, failures))
    if scheduled_next is not None:
        due = max(due, scheduled_next)
    return Plan(interval, due, failures < b.failure_limit)
