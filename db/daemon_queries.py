"""SQL of the daemon: leases with a due check, heartbeats, the request queue, health samples.

Every claim is one conditional ``UPDATE`` whose ``rowcount`` says who won, so
it is atomic on SQLite and PostgreSQL alike and several daemons need no
coordinator beyond the database.  Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.models import Article, FetchAttempt, Run, Source
from db.models_daemon import DaemonWorker, ExtractionSample, FetchRequest
from db.types import utcnow

RUNNING = "running"
ERROR_OUTCOMES = (
    "blocked",
    "too_large",
    "timeout",
    "http_error",
    "bad_content_type",
    "parse_error",
    "redirect_loop",
    "network_error",
)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


# --- source leases and schedule ----------------------------------------------


def claim_source(
    session: Session, source_id: int, owner: str, lease_seconds: float, *, due_by: datetime | None
) -> bool:
    """Lease a source if it is free (or expired, or ours) and, unless ``due_by`` is None, due.

    Due means ``next_run_at`` is unset or not after ``due_by``: the shared
    schedule lives in the database, so several daemons crawl a source once
    per interval between them, not once each.
    """
    now = utcnow()
    conditions = [
        Source.id == source_id,
        or_(
            Source.lease_expires_at.is_(None),
            Source.lease_expires_at < now,
            Source.lease_owner == owner,
        ),
    ]
    if due_by is not None:
        conditions.append(or_(Source.next_run_at.is_(None), Source.next_run_at <= due_by))
    result = session.execute(
        update(Source)
        .where(*conditions)
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def renew_leases(session: Session, owner: str, source_ids: Sequence[int], seconds: float) -> int:
    """Extend this daemon's leases on sources it is still crawling; returns how many held."""
    if not source_ids:
        return 0
    result = session.execute(
        update(Source)
        .where(Source.id.in_(list(source_ids)), Source.lease_owner == owner)
        .values(lease_expires_at=utcnow() + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def finish_claim(
    session: Session,
    source_id: int,
    owner: str,
    *,
    interval: float | None,
    next_run_at: datetime | None,
    healthy: bool,
) -> None:
    """Store the next schedule of a crawled source and release its lease."""
    session.execute(
        update(Source)
        .where(Source.id == source_id)
        .values(interval_seconds=interval, next_run_at=next_run_at, healthy=healthy)
        .execution_options(synchronize_session=False)
    )
    release_lease(session, source_id, owner)


def release_lease(session: Session, source_id: int, owner: str) -> None:
    session.execute(
        update(Source)
        .where(Source.id == source_id, Source.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


def release_all_leases(session: Session, owner: str) -> None:
    session.execute(
        update(Source)
        .where(Source.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True, slots=True)
class ScheduleState:
    lease_owner: str | None
    lease_expires_at: datetime | None
    next_run_at: datetime | None
    interval_seconds: float | None
    consecutive_failures: int


def schedule_state(session: Session, source_id: int) -> ScheduleState | None:
    """Lease, due time, interval and failure count of a source."""
    row = session.execute(
        select(
            Source.lease_owner,
            Source.lease_expires_at,
            Source.next_run_at,
            Source.interval_seconds,
            Source.consecutive_failures,
        ).where(Source.id == source_id)
    ).first()
    return None if row is None else ScheduleState(row[0], row[1], row[2], row[3], int(row[4] or 0))


def due_count(session: Session, names: Sequence[str], now: datetime) -> int:
    """How many of ``names`` are due and not leased: the scheduling backlog."""
    if not names:
        return 0
    stmt = select(func.count()).where(
        Source.name.in_(list(names)),
        or_(Source.next_run_at.is_(None), Source.next_run_at <= now),
        or_(Source.lease_expires_at.is_(None), Source.lease_expires_at < now),
    )
    return int(session.scalar(stmt) or 0)


# --- workers -------------------------------------------------------------------


def _upsert(session: Session, model: type[Any], key: str, values: Mapping[str, Any], update_keys: Sequence[str]) -> None:
    insert_fn = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert_fn(model).values(**values)
    session.execute(
        stmt.on_conflict_do_update(index_elements=[key], set_={k: values[k] for k in update_keys})
    )


def register_worker(session: Session, worker: str, host: str, pid: int, sources: Sequence[str]) -> None:
    now = utcnow()
    values = {
        "worker": worker,
        "host": host,
        "pid": pid,
        "state": RUNNING,
        "started_at": now,
        "heartbeat_at": now,
        "sources": list(sources),
        "in_flight": [],
        "reload_requested_at": None,
        "reloaded_at": now,
        "last_error": None,
    }
    _upsert(session, DaemonWorker, "worker", values, [k for k in values if k != "worker"])


def heartbeat(
    session: Session, worker: str, *, sources: Sequence[str], in_flight: Sequence[str], state: str = RUNNING
) -> DaemonWorker | None:
    """Refresh this daemon's row; returns it (to read the reload flag)."""
    session.execute(
        update(DaemonWorker)
        .where(DaemonWorker.worker == worker)
        .values(heartbeat_at=utcnow(), sources=list(sources), in_flight=sorted(in_flight), state=state)
        .execution_options(synchronize_session=False)
    )
    return session.get(DaemonWorker, worker, populate_existing=True)


def set_worker_error(session: Session, worker: str, error: str | None) -> None:
    session.execute(
        update(DaemonWorker).where(DaemonWorker.worker == worker).values(last_error=error)
    )


def mark_reloaded(session: Session, worker: str, when: datetime) -> None:
    session.execute(update(DaemonWorker).where(DaemonWorker.worker == worker).values(reloaded_at=when))


def stop_worker(session: Session, worker: str) -> None:
    session.execute(
        update(DaemonWorker)
        .where(DaemonWorker.worker == worker)
        .values(state="stopped", in_flight=[], heartbeat_at=utcnow())
    )


def live_workers(session: Session, since: datetime) -> list[DaemonWorker]:
    """Daemons that are running and sent a heartbeat after ``since``."""
    stmt = select(DaemonWorker).where(DaemonWorker.state == RUNNING, DaemonWorker.heartbeat_at >= since)
    return list(session.scalars(stmt.order_by(DaemonWorker.started_at)))


def recent_workers(session: Session, limit: int = 20) -> list[DaemonWorker]:
    stmt = select(DaemonWorker).order_by(DaemonWorker.heartbeat_at.desc()).limit(limit)
    return list(session.scalars(stmt))


def request_reload(session: Session, since: datetime) -> int:
    """Ask every live daemon to re-read its config; returns how many were asked."""
    result = session.execute(
        update(DaemonWorker)
        .where(DaemonWorker.state == RUNNING, DaemonWorker.heartbeat_at >= since)
        .values(reload_requested_at=utcnow())
    )
    return _rowcount(result)


def reap_dead_workers(session: Session, before: datetime) -> list[str]:
    """Mark daemons silent since ``before`` dead; abort their runs; requeue their requests."""
    dead = list(
        session.scalars(
            select(DaemonWorker.worker).where(
                DaemonWorker.state == RUNNING, DaemonWorker.heartbeat_at < before
            )
        )
    )
    if not dead:
        return []
    session.execute(
        update(DaemonWorker).where(DaemonWorker.worker.in_(dead)).values(state="dead", in_flight=[])
    )
    session.execute(
        update(Run)
        .where(Run.worker.in_(dead), Run.status == RUNNING)
        .values(status="aborted", error="daemon died", finished_at=utcnow())
    )
    session.execute(
        update(FetchRequest)
        .where(FetchRequest.claimed_by.in_(dead), FetchRequest.status == "claimed")
        .values(status="pending", claimed_by=None, claimed_at=None)
    )
    return dead


def prune_workers(session: Session, before: datetime) -> None:
    session.execute(
        delete(DaemonWorker).where(DaemonWorker.state != RUNNING, DaemonWorker.heartbeat_at < before)
    )


# --- manual fetch requests ------------------------------------------------------


def add_request(session: Session, source: str, requested_by: str | None) -> int:
    row = FetchRequest(source=source, requested_by=requested_by, status="pending")
    session.add(row)
    session.flush()
    return row.id


def pending_requests(session: Session, sources: Sequence[str], limit: int = 20) -> list[tuple[int, str]]:
    stmt = (
        select(FetchRequest.id, FetchRequest.source)
        .where(FetchRequest.status == "pending", FetchRequest.source.in_(list(sources)))
        .order_by(FetchRequest.id)
        .limit(limit)
    )
    return [(int(i), str(s)) for i, s in session.execute(stmt)]


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(FetchRequest.status == "pending")) or 0)


def claim_request(session: Session, request_id: int, worker: str) -> bool:
    result = session.execute(
        update(FetchRequest)
        .where(FetchRequest.id == request_id, FetchRequest.status == "pending")
        .values(status="claimed", claimed_by=worker, claimed_at=utcnow())
    )
    return _rowcount(result) == 1


def unclaim_request(session: Session, request_id: int) -> None:
    session.execute(
        update(FetchRequest)
        .where(FetchRequest.id == request_id)
        .values(status="pending", claimed_by=None, claimed_at=None)
    )


def finish_request(
    session: Session, request_id: int, status: str, run_id: int | None, error: str | None
) -> None:
    session.execute(
        update(FetchRequest)
        .where(FetchRequest.id == request_id)
        .values(status=status, run_id=run_id, error=error, finished_at=utcnow())
    )


def get_request(session: Session, request_id: int) -> FetchRequest | None:
    return session.get(FetchRequest, request_id, populate_existing=True)


def get_run(session: Session, run_id: int) -> Run | None:
    return session.get(Run, run_id)


# --- extraction health and metrics ---------------------------------------------


def article_facts(
    session: Session, ids: Sequence[int]
) -> list[tuple[int, datetime | None, list[str], str]]:
    """``(word_count, published_at, authors, body)`` of the given articles."""
    if not ids:
        return []
    stmt = select(Article.word_count, Article.published_at, Article.authors, Article.body).where(
        Article.id.in_(list(ids))
    )
    return [(int(w or 0), p, list(a or []), b or "") for w, p, a, b in session.execute(stmt)]


def add_sample(session: Session, source_id: int, run_id: int | None, values: Mapping[str, Any]) -> None:
    session.add(ExtractionSample(source_id=source_id, run_id=run_id, taken_at=utcnow(), **values))


def recent_samples(session: Session, source_id: int, limit: int) -> list[ExtractionSample]:
    """The source's last ``limit`` samples, oldest first."""
    stmt = (
        select(ExtractionSample)
        .where(ExtractionSample.source_id == source_id)
        .order_by(ExtractionSample.taken_at.desc(), ExtractionSample.id.desc())
        .limit(limit)
    )
    return list(reversed(list(session.scalars(stmt))))


def prune_samples(session: Session, source_id: int, keep: int) -> None:
    """Keep the newest ``keep`` samples of a source, so the table stays bounded."""
    cutoff = session.scalar(
        select(ExtractionSample.id)
        .where(ExtractionSample.source_id == source_id)
        .order_by(ExtractionSample.id.desc())
        .offset(keep)
        .limit(1)
    )
    if cutoff is not None:
        session.execute(
            delete(ExtractionSample).where(
                ExtractionSample.source_id == source_id, ExtractionSample.id <= cutoff
            )
        )


def run_attempts(session: Session, run_id: int) -> list[tuple[str, str, float | None]]:
    """``(kind, outcome, elapsed_ms)`` of every request a run made."""
    stmt = select(FetchAttempt.kind, FetchAttempt.outcome, FetchAttempt.elapsed_ms).where(
        FetchAttempt.run_id == run_id
    )
    return [(str(k), str(o), e) for k, o, e in session.execute(stmt)]


def recent_failed_runs(session: Session, limit: int = 10) -> list[tuple[Run, str | None]]:
    stmt = (
        select(Run, Source.name)
        .outerjoin(Source, Source.id == Run.source_id)
        .where(Run.status.in_(["failed", "aborted"]))
        .order_by(Run.id.desc())
        .limit(limit)
    )
    return [(r, n) for r, n in session.execute(stmt)]


def recent_fetch_errors(session: Session, limit: int = 10) -> list[tuple[FetchAttempt, str | None]]:
    stmt = (
        select(FetchAttempt, Source.name)
        .outerjoin(Source, Source.id == FetchAttempt.source_id)
        .where(FetchAttempt.outcome.in_(ERROR_OUTCOMES))
        .order_by(FetchAttempt.id.desc())
        .limit(limit)
    )
    return [(a, n) for a, n in session.execute(stmt)]
