"""Reading the near-duplicate index (``ingest.dedup``): articles to index, stories, chrome, reset.

The write path (chrome counts, signatures, bands, pairs, story merges) is in
:mod:`db.dedup_index`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Row, Table, delete, func, select, text
from sqlalchemy.orm import Session

from db.models import (
    Article,
    DedupBand,
    DedupHostBlock,
    DedupLink,
    DedupPair,
    DedupSignature,
    DedupStory,
    Source,
)
from db.raw import Raw

T = TypeVar("T")
CHUNK = 5000
"""Bound parameters per IN list: below SQLite's limit (32766) and cheap to plan on PostgreSQL."""

BANDS = cast(Table, DedupBand.__table__)
SIGNATURES = cast(Table, DedupSignature.__table__)
PAIRS = cast(Table, DedupPair.__table__)
STORIES = cast(Table, DedupStory.__table__)
BLOCKS = cast(Table, DedupHostBlock.__table__)
LINKS = cast(Table, DedupLink.__table__)


@dataclass(frozen=True, slots=True)
class ArticleText:
    """What the detector reads of an article."""

    id: int
    url: str
    title: str | None
    body: str
    published_at: datetime | None
    fetched_at: datetime
    content_hash: str
    source_id: int | None
    provenance: dict[str, Any]


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- articles -------------------------------------------------------------------

_ARTICLE_SQL = "SELECT id, url, title, body, published_at, fetched_at, content_hash, source_id, provenance FROM articles"


def _article_text(r: Sequence[Any]) -> ArticleText:
    fetched = _utc(r[5])
    assert fetched is not None
    return ArticleText(r[0], r[1], r[2], r[3], _utc(r[4]), fetched, r[6], r[7], dict(_loads(r[8]) or {}))


def articles(session: Session, ids: Sequence[int]) -> list[ArticleText]:
    """Articles by id, in id order."""
    raw = Raw(session)
    out: list[ArticleText] = []
    for chunk in _chunks(sorted(set(ids))):
        where, params = raw.any_of("id", chunk)
        out.extend(_article_text(r) for r in raw.rows(f"{_ARTICLE_SQL} WHERE {where} ORDER BY id", params))
    return out


def article_batch(session: Session, after_id: int, limit: int) -> list[ArticleText]:
    """The next ``limit`` articles after ``after_id`` not indexed yet (keyset pagination, for rebuilds)."""
    rows = Raw(session).rows(
        f"{_ARTICLE_SQL} a WHERE a.id > ? AND NOT EXISTS (SELECT 1 FROM dedup_signatures s WHERE s.article_id = a.id) "
        "ORDER BY a.id LIMIT ?",
        [after_id, limit],
    )
    return [_article_text(r) for r in rows]


def newest_article_id(session: Session) -> int:
    """The highest article id (0 when there are none)."""
    return int(session.connection().execute(select(func.coalesce(func.max(Article.id), 0))).scalar_one())


def indexed_after(session: Session, after_id: int, limit: int) -> list[int]:
    """The next ``limit`` indexed article ids after ``after_id`` (keyset pagination)."""
    stmt = (select(DedupSignature.article_id).where(DedupSignature.article_id > after_id)
            .order_by(DedupSignature.article_id).limit(limit))
    return list(session.connection().execute(stmt).scalars())


def article_count(session: Session) -> int:
    return int(session.connection().scalar(select(func.count()).select_from(Article)) or 0)



# --- host chrome ----------------------------------------------------------------


def chrome_blocks(session: Session, host_key: int, min_seen: int, min_span: int) -> list[str]:
    """Texts of the blocks that count as chrome for one host, most frequent first."""
    stmt = (
        select(BLOCKS.c.text)
        .where(
            BLOCKS.c.host_key == host_key,
            BLOCKS.c.seen >= min_seen,
            BLOCKS.c.last_day - BLOCKS.c.first_day >= min_span,
        )
        .order_by(BLOCKS.c.seen.desc())
    )
    return list(session.scalars(stmt))


def reset(session: Session) -> None:
    """Empty the whole index (before a rebuild); TRUNCATE on PostgreSQL, where DELETE is slow."""
    tables = (PAIRS, STORIES, BANDS, LINKS, SIGNATURES, BLOCKS)
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text(f"TRUNCATE {', '.join(t.name for t in tables)}"))
        return
    for table in tables:
        session.connection().execute(delete(table))


# --- reading ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoryFilter:
    since: datetime | None = None
    source: str | None = None
    limit: int = 100


def stories(session: Session, flt: StoryFilter) -> list[Row[Any]]:
    """Stories with a member published (or fetched) since ``since`` / from ``source``, newest first."""
    published = func.coalesce(Article.published_at, Article.fetched_at)
    members = select(DedupSignature.story_id).join(Article, Article.id == DedupSignature.article_id)
    members = members.where(DedupSignature.story_id.is_not(None))
    if flt.since is not None:
        members = members.where(published >= flt.since)
    if flt.source is not None:
        members = members.join(Source, Source.id == Article.source_id).where(Source.name == flt.source)
    stmt = (
        select(DedupStory.id, DedupStory.earliest_article_id, DedupStory.size, DedupStory.updated_at)
        .where(DedupStory.id.in_(members.scalar_subquery()))
        .order_by(DedupStory.updated_at.desc(), DedupStory.id.desc())
        .limit(flt.limit)
    )
    return list(session.connection().execute(stmt))


def members_of(session: Session, story_ids_: Sequence[int]) -> list[Row[Any]]:
    """(story id, article id, url, source name, title, published, fetched) of the stories' members."""
    out: list[Row[Any]] = []
    for chunk in _chunks(sorted(set(story_ids_))):
        stmt = (
            select(
                DedupSignature.story_id, Article.id, Article.url, Source.name, Article.title,
                Article.published_at, Article.fetched_at,
            )
            .join(Article, Article.id == DedupSignature.article_id)
            .outerjoin(Source, Source.id == Article.source_id)
            .where(DedupSignature.story_id.in_(chunk))
        )
        out.extend(session.connection().execute(stmt))
    return out




def pairs_among(session: Session, ids: Sequence[int]) -> list[Row[Any]]:
    """Pairs whose first article is one of ``ids`` (a story's members give all its pairs)."""
    out: list[Row[Any]] = []
    for chunk in _chunks(sorted(set(ids))):
        out.extend(session.connection().execute(select(PAIRS).where(PAIRS.c.a_id.in_(chunk))))
    return out
