"""Read-side queries shared by the CLI and (later) the HTTP API.

Listing uses keyset pagination on ``(published_at, id)`` — never OFFSET — so
page N costs the same as page 1 on a large archive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from db.errors import NotFound
from db.models import Article, FetchAttempt, Run, Source


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    source: str | None = None
    language: str | None = None
    author: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after the last row of a page: its published date (or None) and id."""

    published_at: datetime | None
    id: int


def _filtered(stmt: Select[Any], flt: ArticleFilter) -> Select[Any]:
    if flt.source:
        stmt = stmt.join(Source, Source.id == Article.source_id).where(Source.name == flt.source)
    if flt.language:
        stmt = stmt.where(Article.language == flt.language)
    if flt.since:
        stmt = stmt.where(Article.published_at >= flt.since)
    if flt.until:
        stmt = stmt.where(Article.published_at < flt.until)
    if flt.author:
        from sqlalchemy import String, cast

        stmt = stmt.where(cast(Article.authors, String).ilike(f"%{flt.author}%"))
    if flt.text:
        for word in flt.text.split():
            pattern = f"%{word}%"
            stmt = stmt.where(or_(Article.title.ilike(pattern), Article.body.ilike(pattern)))
    return stmt


def list_articles(
    session: Session, flt: ArticleFilter, *, limit: int = 20, after: Cursor | None = None
) -> tuple[list[Article], Cursor | None]:
    """Newest first (undated articles last), one page, and the cursor of the next page."""
    published = func.coalesce(Article.published_at, Article.fetched_at)
    stmt = _filtered(select(Article), flt)
    if after is not None and after.published_at is not None:
        stmt = stmt.where(
            or_(published < after.published_at, and_(published == after.published_at, Article.id < after.id))
        )
    stmt = stmt.order_by(published.desc(), Article.id.desc()).limit(limit + 1)
    rows: list[Article] = list(session.scalars(stmt))
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        nxt = Cursor(last.published_at or last.fetched_at, last.id)
    return rows, nxt


def get_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound(f"no article with id {article_id}")
    return article


def source_names(session: Session) -> dict[int, str]:
    return {sid: name for sid, name in session.execute(select(Source.id, Source.name))}


def get_source(session: Session, name: str) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        raise NotFound(f"source {name!r} has never been crawled")
    return source


def source_article_counts(session: Session) -> dict[int, int]:
    stmt = select(Article.source_id, func.count()).group_by(Article.source_id)
    return {sid: n for sid, n in session.execute(stmt) if sid is not None}


def recent_runs(session: Session, source_id: int, limit: int = 10) -> Sequence[Run]:
    stmt = select(Run).where(Run.source_id == source_id).order_by(Run.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def outcome_counts(session: Session, source_id: int, since: datetime | None = None) -> dict[str, int]:
    stmt = select(FetchAttempt.outcome, func.count()).where(FetchAttempt.source_id == source_id)
    if since is not None:
        stmt = stmt.where(FetchAttempt.started_at >= since)
    return {outcome: n for outcome, n in session.execute(stmt.group_by(FetchAttempt.outcome))}


def recent_errors(session: Session, source_id: int, limit: int = 5) -> Sequence[FetchAttempt]:
    stmt = (
        select(FetchAttempt)
        .where(FetchAttempt.source_id == source_id, FetchAttempt.error.is_not(None))
        .order_by(FetchAttempt.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
