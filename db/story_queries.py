"""Near-duplicates on the read side: an article's duplicates and the stories they form.

Reads the tables the near-duplicate index writes (``dedup_pairs``,
``dedup_signatures``, ``dedup_stories``); never writes them.  Stories are
listed most recently grown first (``updated_at``, then id), with a keyset
cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, tuple_, union_all
from sqlalchemy.orm import Session, joinedload, load_only

from db import cursors
from db.errors import NotFound
from db.models import Article, DedupPair, DedupSignature, DedupStory

MAX_STORIES_PAGE = 100


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Another article that is a verified near-duplicate of the one asked about."""

    article: Article
    rule: str
    jaccard: float
    containment: float
    """Share of the asked-about article's text found in the other one."""


@dataclass(frozen=True, slots=True)
class Story:
    """A cluster of near-duplicates: its members oldest first (the first is the original)."""

    id: int
    size: int
    updated_at: datetime
    members: list[Article]


def has_duplicates_clause() -> ColumnElement[bool]:
    """``EXISTS`` a verified pair naming the article, as one correlated ``UNION ALL``.

    Two index probes per article (``uq_dedup_pairs_a_id_b_id`` and ``ix_dedup_pairs_b_id``).
    Written as ``EXISTS (… a_id = id UNION ALL … b_id = id)`` on purpose: PostgreSQL turns
    ``EXISTS (a) OR EXISTS (b)`` into two *hashed* subplans that read every pair before the
    first row (tens of ms), while a listing only probes the few hundred rows it walks.
    """
    by_a = select(DedupPair.a_id).where(DedupPair.a_id == Article.id).correlate(Article)
    by_b = select(DedupPair.b_id).where(DedupPair.b_id == Article.id).correlate(Article)
    return union_all(by_a, by_b).exists()


def duplicates_of(session: Session, article_id: int) -> list[Duplicate]:
    """The verified near-duplicates of one article, most similar first."""
    pairs = list(
        session.scalars(
            select(DedupPair).where(or_(DedupPair.a_id == article_id, DedupPair.b_id == article_id))
        )
    )
    others = {p.b_id if p.a_id == article_id else p.a_id for p in pairs}
    articles = {
        a.id: a
        for a in session.scalars(
            select(Article).options(joinedload(Article.source)).where(Article.id.in_(others))
        )
    }
    found = []
    for pair in pairs:
        mine_first = pair.a_id == article_id
        other = articles.get(pair.b_id if mine_first else pair.a_id)
        if other is not None:
            containment = pair.containment_ab if mine_first else pair.containment_ba
            found.append(Duplicate(other, pair.rule, pair.jaccard, containment))
    found.sort(key=lambda d: (-d.jaccard, d.article.id))
    return found


def story_id_of(session: Session, article_id: int) -> int | None:
    """The story an article belongs to, when it has at least one duplicate."""
    stmt = (
        select(DedupStory.id)
        .join(DedupSignature, DedupSignature.story_id == DedupStory.id)
        .where(DedupSignature.article_id == article_id, DedupStory.size > 1)
    )
    return session.scalar(stmt)


def _members(session: Session, story_ids: list[int]) -> dict[int, list[Article]]:
    if not story_ids:
        return {}
    stmt = (
        select(DedupSignature.story_id, Article)
        .join(Article, Article.id == DedupSignature.article_id)
        .options(joinedload(Article.source), load_only(
            Article.id, Article.source_id, Article.url, Article.title, Article.authors,
            Article.published_at, Article.fetched_at, Article.language, Article.word_count,
            Article.body,
        ))
        .where(DedupSignature.story_id.in_(story_ids))
        .order_by(Article.published_at, Article.id)
    )
    members: dict[int, list[Article]] = {}
    for story_id, article in session.execute(stmt):
        if story_id is not None:
            members.setdefault(story_id, []).append(article)
    return members


def _story(row: DedupStory, members: list[Article]) -> Story:
    return Story(row.id, row.size, row.updated_at, members)


def list_stories(
    session: Session, *, limit: int = 20, after: str | None = None
) -> tuple[list[Story], str | None]:
    """Stories with two or more members, most recently grown first; one page and the next cursor."""
    limit = max(1, min(limit, MAX_STORIES_PAGE))
    stmt = select(DedupStory).where(DedupStory.size > 1)
    if after:
        position = cursors.decode_list(after)
        if position.published_at is None:
            raise cursors.InvalidCursor("not a story cursor")
        stmt = stmt.where(
            tuple_(DedupStory.updated_at, DedupStory.id) < tuple_(position.published_at, position.id)
        )
    stmt = stmt.order_by(DedupStory.updated_at.desc(), DedupStory.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = cursors.encode_list(cursors.ListCursor(rows[-1].updated_at, rows[-1].id))
    members = _members(session, [r.id for r in rows])
    return [_story(r, members.get(r.id, [])) for r in rows], nxt


def get_story(session: Session, story_id: int) -> Story:
    """One story with its members; :class:`NotFound` if there is no such story."""
    row = session.get(DedupStory, story_id)
    if row is None or row.size < 2:
        raise NotFound(f"no story with id {story_id}")
    return _story(row, _members(session, [story_id]).get(story_id, []))
