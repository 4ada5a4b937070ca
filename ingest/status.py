"""What ``ingest sources list/show`` report: config joined with database state."""

from __future__ import annotations

from typing import Any

from db import queries
from db.errors import NotFound
from ingest.config import Config
from ingest.render import iso
from ingest.services import open_database


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
