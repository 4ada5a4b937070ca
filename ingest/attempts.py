"""The record of one fetch attempt, built in memory and written in batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from db.types import utcnow
from ingest.errors import FetchError
from ingest.fetching import FetchedPage
from ingest.outcomes import Outcome


@dataclass(slots=True)
class AttemptRecord:
    url: str
    kind: str
    outcome: Outcome
    final_url: str | None = None
    status_code: int | None = None
    error: str | None = None
    elapsed_ms: float | None = None
    bytes_received: int | None = None
    article_id: int | None = None
    started_at: datetime = field(default_factory=utcnow)

    @classmethod
    def from_page(cls, page: FetchedPage, kind: str, outcome: Outcome, **extra: object) -> AttemptRecord:
        record = cls(
            url=page.url,
            kind=kind,
            outcome=outcome,
            final_url=page.final_url,
            status_code=page.status_code,
            elapsed_ms=page.elapsed_ms,
            bytes_received=len(page.content),
        )
        for key, value in extra.items():
            setattr(record, key, value)
        return record

    @classmethod
    def from_error(cls, exc: FetchError, kind: str) -> AttemptRecord:
        return cls(
            url=exc.url, kind=kind, outcome=exc.outcome, status_code=exc.status_code, error=str(exc)
        )
