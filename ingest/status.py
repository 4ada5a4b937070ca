"""What ``ingest sources list/show`` and ``ingest status`` report: config joined with database state."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db import daemon_queries as dq
from db import queries
from db.errors import NotFound
from db.models import Source
from db.types import utcnow
from ingest.config import Config
from ingest.control import liveness
from ingest.health import source_drift
from ingest.render import iso
from ingest.services import open_database


def _schedule_fields(session: Session, row: Source | None) -> dict[str, Any]:
    """Adaptive interval, lease and extraction drift of a source row (or defaults)."""
    if row is None:
        return {"interval_seconds": None, "lease_owner": None, "drift": False, "drift_reasons": []}
    drift = source_drift(session, row.id)
    lease = row.lease_owner if row.lease_expires_at and row.lease_expires_at > utcnow() else None
    return {
        "interval_seconds": None if row.interval_seconds is None else round(row.interval_seconds),
        "lease_owner": lease,
        "drift": drift.flagged,
        "drift_reasons": drift.reasons,
    }


def source_overview(config: Config) -> list[dict[str, Any]]:
    database = open_database(config)
    try:
        with database.sessions() as session:
            counts = queries.source_article_counts(session)
            rows = []
            for src in config.sources:
                try:
                    row = queries.get_source(session, src.name)
                except NotFound:
                    row = None
                rows.append(
                    {
                        "name": src.name,
                        "schedule": src.schedule,
                        "enabled": src.enabled,
                        "healthy": True if row is None else row.healthy,
                        "articles": 0 if row is None else counts.get(row.id, 0),
                        "last_run_at": None if row is None else iso(row.last_run_at),
                        "next_run_at": None if row is None else iso(row.next_run_at),
                        "consecutive_failures": 0 if row is None else row.consecutive_failures,
                        **_schedule_fields(session, row),
                    }
                )
            return rows
    finally:
        database.close()


def source_detail(config: Config, name: str) -> dict[str, Any]:
    src = config.source(name)
    database = open_database(config)
    try:
        with database.sessions() as session:
            detail: dict[str, Any] = {
                "name": src.name,
                "feeds": src.feeds,
                "sitemaps": src.sitemaps,
                "start_urls": src.start_urls,
                "schedule": src.schedule,
                "articles": 0,
                "healthy": True,
                "outcomes": {},
                "runs": [],
                "errors": [],
            }
            try:
                row = queries.get_source(session, name)
            except NotFound:
                return detail
            detail["articles"] = queries.source_article_counts(session).get(row.id, 0)
            detail["healthy"] = row.healthy
            detail.update(_schedule_fields(session, row))
            detail["outcomes"] = queries.outcome_counts(session, row.id)
            detail["runs"] = [
                {"id": r.id, "trigger": r.trigger, "status": r.status, "started_at": iso(r.started_at),
                 "finished_at": iso(r.finished_at), "counts": r.counts, "error": r.error}
                for r in queries.recent_runs(session, row.id)
            ]
            detail["errors"] = [
                {"url": a.url, "outcome": a.outcome, "error": a.error, "at": iso(a.started_at)}
                for a in queries.recent_errors(session, row.id)
            ]
            return detail
    finally:
        database.close()


def daemon_status(config: Config) -> dict[str, Any]:
    """What each daemon is doing, last and next run per source, recent errors."""
    database = open_database(config)
    try:
        with database.sessions() as session:
            live_since = utcnow() - liveness(config)
            daemons = [
                {
                    "worker": w.worker,
                    "state": w.state if w.state != "running" or w.heartbeat_at >= live_since else "silent",
                    "started_at": iso(w.started_at),
                    "heartbeat_at": iso(w.heartbeat_at),
                    "crawling": list(w.in_flight or []),
                    "sources": len(w.sources or []),
                    "last_error": w.last_error,
                }
                for w in dq.recent_workers(session)
            ]
            runs = [
                {"source": name, "run": r.id, "status": r.status, "worker": r.worker,
                 "at": iso(r.finished_at or r.started_at), "error": r.error}
                for r, name in dq.recent_failed_runs(session)
            ]
            fetches = [
                {"source": name, "url": a.url, "outcome": a.outcome, "error": a.error, "at": iso(a.started_at)}
                for a, name in dq.recent_fetch_errors(session)
            ]
            pending = dq.pending_count(session)
    finally:
        database.close()
    return {
        "daemons": daemons,
        "sources": source_overview(config),
        "pending_requests": pending,
        "failed_runs": runs,
        "fetch_errors": fetches,
    }
