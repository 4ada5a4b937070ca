"""Tables the daemon keeps beyond ``sources``.

* ``daemon_workers`` — one row per daemon process: its heartbeat (so others
  and ``ingest fetch --now`` know it is alive), what it is crawling, and a
  reload flag any CLI can raise (works across machines, unlike a signal).
* ``fetch_requests`` — manual "crawl this source now" requests, a queue in
  the database so the CLI and the HTTP API need no channel to the daemon.
* ``extraction_samples`` — per-run extraction health of a source, the history
  drift detection compares against.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base
from db.types import UTCDateTime, utcnow


class DaemonWorker(Base):
    """A daemon process, keyed by ``host:pid``."""

    __tablename__ = "daemon_workers"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    in_flight: Mapped[list[str]] = mapped_column(JSON, default=list)
    reload_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class FetchRequest(Base):
    """A manual crawl request: ``pending`` -> ``claimed`` -> ``done`` | ``failed``."""

    __tablename__ = "fetch_requests"
    __table_args__ = (Index("ix_fetch_requests_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)


class ExtractionSample(Base):
    """Extraction health of one run of one source (article-level shares and means)."""

    __tablename__ = "extraction_samples"
    __table_args__ = (Index("ix_extraction_samples_source_taken", "source_id", "taken_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    articles: Mapped[int] = mapped_column(Integer, default=0)
    mean_words: Mapped[float] = mapped_column(Float, default=0.0)
    missing_date: Mapped[float] = mapped_column(Float, default=0.0)
    missing_author: Mapped[float] = mapped_column(Float, default=0.0)
    chrome_share: Mapped[float] = mapped_column(Float, default=0.0)
    rejected_share: Mapped[float] = mapped_column(Float, default=0.0)
