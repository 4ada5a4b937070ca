"""The read side of the archive: the one query layer the CLI, the API, the web page and exports use.

* Listing is newest first by published date, with keyset pagination (never
  OFFSET): dated articles by ``(published_at, id)`` descending, then undated
  ones by ``id`` descending.  Each phase walks an index and stops after a page.
* Search is full-text over title and body (:mod:`db.fulltext`), ranked best
  first, with highlighted snippets, paginated by ``(rank, id)``.
* Both take the same :class:`ArticleFilter`.

Cursors are opaque strings (:mod:`db.cursors`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    case,
    exists,
    func,
    literal,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, joinedload, load_only
from sqlalchemy.sql import table
from sqlalchemy.sql.elements import KeyedColumnElement

from db import cursors
from db.errors import DatabaseError, NotFound
from db.fulltext import FullText
from db.models import Article, FetchAttempt, Run, Source
from db.search_syntax import parse as parse_search
from db.types import utcnow

MAX_PAGE = 200
#: PostgreSQL cancels a search after this long (a phrase of frequent words that are
#: rarely adjacent cannot be answered from the GIN index and scans the table).
SEARCH_TIMEOUT_MS = 5000
#: Search ranks the newest this-many matches (all of them for rarer queries).
SEARCH_WINDOW = 1000

#: Columns a listing shows; the body and provenance stay unread until asked for.
LIST_COLUMNS = (
    Article.id,
    Article.source_id,
    Article.url,
    Article.title,
    Article.authors,
    Article.published_at,
    Article.fetched_at,
    Article.language,
    Article.word_count,
)


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """Filters shared by list, search and export; ``None`` means "any"."""

    source: str | None = None
    language: str | None = None
    author: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    has_duplicates: bool | None = None


class Page(NamedTuple):
    """One page of results and the cursor of the next one (``None`` on the last page)."""

    items: list[Any]
    next_cursor: str | None


class SearchTimeout(DatabaseError):
    """A search ran past :data:`SEARCH_TIMEOUT_MS` and was cancelled."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    article: Article
    score: float
    snippet: str


# --- filters ------------------------------------------------------------------


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _author_clause(dialect: str, author: str) -> ColumnElement[bool]:
    """Any element of the JSON ``authors`` list contains ``author`` (case-insensitive)."""
    if dialect == "sqlite":
        names = func.json_each(Article.authors).table_valued("value")
        doc: Any = Article.authors
    else:
        doc = case(
            (func.json_typeof(Article.authors) == "array", Article.authors),
            else_=literal("[]").cast(Article.authors.type),
        )
        names = func.json_array_elements_text(doc).table_valued("value")
    value: KeyedColumnElement[Any] = names.c.value
    return exists(
        select(literal(1)).select_from(names).where(
            value.cast(String).ilike(_like_pattern(author.lower()), escape="\\")
        )
    )


def _duplicates_clause() -> ColumnElement[bool]:
    from db import story_queries

    return story_queries.has_duplicates_clause()


def apply_filter(stmt: Select[Any], flt: ArticleFilter, dialect: str) -> Select[Any]:
    """Add the ``WHERE`` clauses of ``flt`` to a statement over ``articles``."""
    if flt.source is not None:
        source_id = select(Source.id).where(Source.name == flt.source).scalar_subquery()
        stmt = stmt.where(Article.source_id == source_id)
    if flt.language is not None:
        stmt = stmt.where(Article.language == flt.language)
    if flt.since is not None:
        stmt = stmt.where(Article.published_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(Article.published_at < flt.until)
    if flt.author:
        stmt = stmt.where(_author_clause(dialect, flt.author))
    if flt.has_duplicates is not None:
        clause = _duplicates_clause()
        stmt = stmt.where(clause if flt.has_duplicates else ~clause)
    return stmt


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _page_size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


# --- listing -----------------------------------------------------------------


def list_articles(
    session: Session, flt: ArticleFilter, *, limit: int = 20, after: str | None = None
) -> Page:
    """Newest first (undated articles last), one page of :class:`Article` and the next cursor.

    Articles are loaded without body and provenance (``full_article`` has them).
    Raises :class:`~db.cursors.InvalidCursor` for a bad ``after``.
    """
    limit = _page_size(limit)
    position = cursors.decode_list(after) if after else None
    dialect = _dialect(session)
    base = apply_filter(select(Article).options(load_only(*LIST_COLUMNS), joinedload(Article.source)), flt, dialect)
    rows: list[Article] = []
    if position is None or position.published_at is not None:
        dated = base.where(Article.published_at.is_not(None))
        if position is not None:
            dated = dated.where(
                tuple_(Article.published_at, Article.id) < tuple_(position.published_at, position.id)
            )
        dated = dated.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit + 1)
        rows.extend(session.scalars(dated))
    date_bounded = flt.since is not None or flt.until is not None
    if len(rows) <= limit and not date_bounded:
        undated = base.where(Article.published_at.is_(None))
        if position is not None and position.published_at is None:
            undated = undated.where(Article.id < position.id)
        undated = undated.order_by(Article.id.desc()).limit(limit + 1 - len(rows))
        rows.extend(session.scalars(undated))
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    return Page(rows, cursors.encode_list(cursors.ListCursor(last.published_at, last.id)))


# --- search ------------------------------------------------------------------


def search_articles(
    session: Session, text: str, flt: ArticleFilter, *, limit: int = 20, after: str | None = None
) -> Page:
    """Full-text search over title and body, best match first: a page of :class:`SearchHit`.

    Raises :class:`~db.search_syntax.InvalidQuery` for a query with nothing to
    search and :class:`~db.cursors.InvalidCursor` for a bad ``after``.
    """
    limit = _page_size(limit)
    query = parse_search(text)
    position = cursors.decode_search(after) if after else None
    dialect = _dialect(session)
    fulltext = FullText(dialect, query)
    filtered = apply_filter(select(Article.id), flt, dialect)
    ranked = _with_timeout(session, lambda: list(
        session.execute(fulltext.page_statement(filtered, position, limit + 1, SEARCH_WINDOW))
    ))
    more = len(ranked) > limit
    ranked = ranked[:limit]
    ids = [int(r[0]) for r in ranked]
    articles = {
        a.id: a
        for a in session.scalars(
            select(Article)
            .options(load_only(*LIST_COLUMNS), joinedload(Article.source))
            .where(Article.id.in_(ids))
        )
    }
    snippets = fulltext.snippets(session, ids)
    hits = [
        SearchHit(articles[i], fulltext.score(float(rank)), snippets.get(i, ""))
        for i, rank in ((int(r[0]), r[1]) for r in ranked)
        if i in articles
    ]
    nxt = None
    if more and ranked:
        last_id, last_rank = ranked[-1]
        nxt = cursors.encode_search(cursors.SearchCursor(float(last_rank), int(last_id)))
    return Page(hits, nxt)


def _with_timeout(session: Session, run: Callable[[], list[Any]]) -> list[Any]:
    if _dialect(session) != "postgresql":
        return run()
    session.execute(text(f"SET statement_timeout = {SEARCH_TIMEOUT_MS}"))
    try:
        return run()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled
            session.rollback()
            raise SearchTimeout(
                f"search took longer than {SEARCH_TIMEOUT_MS / 1000:g} s; narrow it with filters"
            ) from None
        raise
    finally:
        with contextlib.suppress(DBAPIError):
            session.execute(text("SET statement_timeout = 0"))


# --- one article ---------------------------------------------------------------


def get_article(session: Session, article_id: int) -> Article:
    """The full article (every column, its source loaded); :class:`NotFound` if absent."""
    article = session.scalar(
        select(Article).options(joinedload(Article.source)).where(Article.id == article_id)
    )
    if article is None:
        raise NotFound(f"no article with id {article_id}")
    return article


def iter_articles(
    session: Session, flt: ArticleFilter, *, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Every matching article (all columns plus ``source``) by id, streamed in batches.

    Rows come from a server-side cursor on PostgreSQL (``yield_per``), so the
    memory used does not grow with the number of articles.
    """
    table = Article.__table__
    stmt = apply_filter(
        select(table, Source.name.label("source")).outerjoin(Source, Source.id == Article.source_id),
        flt,
        _dialect(session),
    ).order_by(Article.id)
    # Core execution on the session's connection: ORM-level results would buffer every row.
    connection = session.connection().execution_options(stream_results=True, yield_per=batch)
    result = connection.execute(stmt)
    try:
        for row in result.mappings():
            yield dict(row)
    finally:
        result.close()


# --- sources ---------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A crawled source's state: health, schedule, last run and recent outcome counts."""

    source: Source
    articles: int
    last_run: Run | None
    recent_outcomes: dict[str, int]


def source_health(session: Session, *, window: timedelta = timedelta(hours=24)) -> list[SourceHealth]:
    """Every source in the database with its article count, last run and outcomes in ``window``."""
    sources = list(session.scalars(select(Source).order_by(Source.name)))
    counts = source_article_counts(session)
    last_ids = select(func.max(Run.id)).group_by(Run.source_id).scalar_subquery()
    last_runs = {r.source_id: r for r in session.scalars(select(Run).where(Run.id.in_(last_ids)))}
    outcomes: dict[int, dict[str, int]] = {}
    since = utcnow() - window
    stmt = (
        select(FetchAttempt.source_id, FetchAttempt.outcome, func.count())
        .where(FetchAttempt.started_at >= since, FetchAttempt.source_id.is_not(None))
        .group_by(FetchAttempt.source_id, FetchAttempt.outcome)
    )
    for sid, outcome, n in session.execute(stmt):
        if sid is not None:
            outcomes.setdefault(sid, {})[outcome] = n
    return [
        SourceHealth(s, counts.get(s.id, 0), last_runs.get(s.id), outcomes.get(s.id, {}))
        for s in sources
    ]


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


def count_articles(session: Session) -> int:
    """Total articles; on PostgreSQL the planner's estimate once the table is large (cheap)."""
    if _dialect(session) == "postgresql":
        estimate = session.scalar(
            select(literal_column("reltuples")).select_from(table("pg_class")).where(
                literal_column("relname") == "articles"
            )
        )
        if estimate is not None and float(estimate) > 100_000:
            return int(estimate)
    return int(session.scalar(select(func.count()).select_from(Article)) or 0)


__all__ = [
    "ArticleFilter",
    "Page",
    "SearchHit",
    "SourceHealth",
    "apply_filter",
    "count_articles",
    "get_article",
    "get_source",
    "iter_articles",
    "list_articles",
    "search_articles",
    "source_health",
]
