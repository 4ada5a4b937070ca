"""SQLAlchemy 2.0 models: the schema of the article database.

Every datetime column is :class:`~db.types.UTCDateTime`.  The schema itself is
owned by the Alembic migrations in ``alembic/``; a test checks that these
models and ``upgrade head`` agree on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

URL_LENGTH = 2048


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    """A news source declared in the config, with the state the crawler keeps for it."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    healthy: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_seconds: Mapped[float | None] = mapped_column(Float)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    articles: Mapped[list[Article]] = relationship(back_populates="source")


class Run(Base):
    """One crawl of one source (or of a single URL), with its outcome counts."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), index=True
    )
    trigger: Mapped[str] = mapped_column(String(20))
    worker: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class FetchAttempt(Base):
    """Every request the crawler made, and how it ended (an outcome from a fixed taxonomy)."""

    __tablename__ = "fetch_attempts"
    __table_args__ = (Index("ix_fetch_attempts_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(32), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    elapsed_ms: Mapped[float | None] = mapped_column(Float)
    bytes_received: Mapped[int | None] = mapped_column(Integer)
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )


class RawPage(Base):
    """The compressed HTML an article was extracted from, kept for re-extraction."""

    __tablename__ = "raw_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_type: Mapped[str | None] = mapped_column(String(200))
    compression: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Article(Base):
    """One normalized article; ``url`` is its canonical URL and is unique."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_source_published", "source_id", "published_at"),
        Index("ix_articles_published_id", "published_at", "id"),
        Index("ix_articles_content_hash_source", "content_hash", "source_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(String(URL_LENGTH), unique=True)
    fetched_url: Mapped[str | None] = mapped_column(String(URL_LENGTH), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    language: Mapped[str | None] = mapped_column(String(16))
    site_name: Mapped[str | None] = mapped_column(Text)
    lead_image: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    word_count: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str | None] = mapped_column(String(100))
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    raw_page_id: Mapped[int | None] = mapped_column(
        ForeignKey("raw_pages.id", ondelete="SET NULL")
    )

    source: Mapped[Source | None] = relationship(back_populates="articles")
    raw_page: Mapped[RawPage | None] = relationship()


class HttpCacheEntry(Base):
    """Validators of a feed or sitemap, so an unchanged one costs a 304."""

    __tablename__ = "http_cache"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_LENGTH), unique=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- near-duplicate detection (ingest.dedup) ----------------------------------


class DedupSignature(Base):
    """An article's near-duplicate signature and the story it belongs to.

    ``minhash`` is the packed one-permutation MinHash (4 bytes per bin);
    ``chrome`` the block keys left out as host chrome when it was signed, so a
    later exact check rebuilds the very same shingles from the body.
    """

    __tablename__ = "dedup_signatures"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    day: Mapped[int] = mapped_column(Integer)
    scheme: Mapped[str] = mapped_column(String(40))
    host_key: Mapped[int] = mapped_column(BigInteger)
    shingle_count: Mapped[int] = mapped_column(Integer)
    minhash: Mapped[bytes] = mapped_column(LargeBinary)
    chrome: Mapped[list[int]] = mapped_column(JSON, default=list)
    wires: Mapped[list[str]] = mapped_column(JSON, default=list)
    story_id: Mapped[int | None] = mapped_column(Integer, index=True)


class DedupBand(Base):
    """One LSH band bucket of one article: the sublinear candidate index.

    The primary key (key, day, article_id) is the only index: a lookup reads
    the keys of a new article restricted to the date window.  No foreign key,
    so the row stays 16 bytes (SQLite stores it WITHOUT ROWID).
    """

    __tablename__ = "dedup_bands"
    __table_args__ = ({"sqlite_with_rowid": False},)

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class DedupPair(Base):
    """A verified near-duplicate pair (``a_id < b_id``) with its scores and the rule that fired."""

    __tablename__ = "dedup_pairs"
    __table_args__ = (
        UniqueConstraint("a_id", "b_id", name="uq_dedup_pairs_a_id_b_id"),
        Index("ix_dedup_pairs_b_id", "b_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    a_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    b_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    containment_ab: Mapped[float] = mapped_column(Float)
    containment_ba: Mapped[float] = mapped_column(Float)
    jaccard: Mapped[float] = mapped_column(Float)
    title_similarity: Mapped[float | None] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DedupStory(Base):
    """A cluster of near-duplicates.  Its id is its smallest member article id, so it is
    stable as the story grows (a merge keeps the older id) and a rebuild gives it back."""

    __tablename__ = "dedup_stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    earliest_article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    size: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DedupHostBlock(Base):
    """How many articles of one host carried a block (line): recurring ones are chrome."""

    __tablename__ = "dedup_host_blocks"

    host_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    host: Mapped[str] = mapped_column(String(255))
    seen: Mapped[int] = mapped_column(Integer)
    first_day: Mapped[int] = mapped_column(Integer)
    last_day: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class DedupLink(Base):
    """A URL an article declares as its original (cross-domain canonical, ``isBasedOn``)."""

    __tablename__ = "dedup_links"

    url_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(String(16))
