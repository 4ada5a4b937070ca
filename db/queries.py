"""The read side of the archive: the one query layer the CLI, the API, the web page and exports use.

* Listing is newest first by published date, with keyset pagination (never
  OFFSET): dated articles by ``(published_at, id)`` descending, then undated
  ones by ``id`` descending.  Each phase walks an index and stops after a page.
* Search is full-text over title and body (:mod:`db.fulltext`), ranked best
  first, with highlighted snippets, paginated by ``(rank, id)``.  It ranks a window of
  the newest :data:`SEARCH_WINDOW` matches: on SQLite the newest articles by first-seen
  order (id), on PostgreSQL by published date, ``(published_at, id)``, with undated
  articles after every dated one.
* Both take the same :class:`ArticleFilter`.

Cursors are opaque strings (:mod:`db.cursors`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    func,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, joinedload, load_only
from sqlalchemy.sql import table

from db import cursors
from db.errors import DatabaseError, NotFound
from db.fulltext import FullText
from db.models import Article, FetchAttempt, Run, Source
from db.models_search import AUTHOR_NAME_LENGTH, article_authors, author_names
from db.search_syntax import parse as parse_search
from db.types import utcnow

MAX_PAGE = 200
#: PostgreSQL cancels a search after this long (a phrase of frequent words that are
#: rarely adjacent cannot be answered from the GIN index and scans the table).
SEARCH_TIMEOUT_MS = 5000
#: Search ranks the newest this-many matches (all of them for rarer queries).  Ranking
#: costs per candidate (bm25 / ts_rank read each one's positions), so this bounds a
#: frequent word's search: 400 keeps a page under ~20 ms on a million articles.
SEARCH_WINDOW = 400

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


#: The fields of a :func:`list_article_rows` row, in order.
ROW_FIELDS = (*(c.key for c in LIST_COLUMNS), "source")


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


def _author_pattern(author: str) -> str:
    return _like_pattern(author.lower()[:AUTHOR_NAME_LENGTH])


def _author_clause(pattern: Any) -> ColumnElement[bool]:
    """Any of the article's authors contains the ``LIKE`` ``pattern`` (case-insensitive).

    Reads the author index of migration ``0004_search``: the matching names come from a
    scan of the (short) distinct-name list, their articles through
    ``ix_article_authors_author_id``; the article's JSON is never parsed.
    """
    matching = select(author_names.c.id).where(author_names.c.name.ilike(pattern, escape="\\"))
    linked = select(article_authors.c.article_id).where(article_authors.c.author_id.in_(matching))
    return Article.id.in_(linked)


def _duplicates_clause() -> ColumnElement[bool]:
    from db import story_queries

    return story_queries.has_duplicates_clause()


def _filter_clauses(flt: ArticleFilter, value: Callable[[str, Any], Any]) -> list[ColumnElement[bool]]:
    """The ``WHERE`` clauses of ``flt``; ``value(name, v)`` gives the SQL for each value
    (the value itself, or a named bind parameter for a reusable statement)."""
    clauses: list[ColumnElement[bool]] = []
    if flt.source is not None:
        source_id = select(Source.id).where(Source.name == value("source", flt.source)).scalar_subquery()
        clauses.append(Article.source_id == source_id)
    if flt.language is not None:
        clauses.append(Article.language == value("language", flt.language))
    if flt.since is not None:
        clauses.append(Article.published_at >= value("since", flt.since))
    if flt.until is not None:
        clauses.append(Article.published_at < value("until", flt.until))
    if flt.author:
        clauses.append(_author_clause(value("author", _author_pattern(flt.author))))
    if flt.has_duplicates is not None:
        clause = _duplicates_clause()
        clauses.append(clause if flt.has_duplicates else ~clause)
    return clauses


def _filter_values(flt: ArticleFilter) -> dict[str, Any]:
    """The bind values of :func:`_filter_clauses` with named parameters."""
    values = {"source": flt.source, "language": flt.language, "since": flt.since, "until": flt.until}
    if flt.author:
        values["author"] = _author_pattern(flt.author)
    return {k: v for k, v in values.items() if v is not None}


def apply_filter(stmt: Select[Any], flt: ArticleFilter, dialect: str) -> Select[Any]:
    """Add the ``WHERE`` clauses of ``flt`` to a statement over ``articles``."""
    del dialect  # the same SQL on both backends
    clauses = _filter_clauses(flt, lambda _name, v: v)
    return stmt.where(*clauses) if clauses else stmt


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _page_size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


# --- listing -----------------------------------------------------------------


#: ``build(phase, position, n)``: the statement of one phase of a listing page and its
#: bind values; ``phase`` is ``"dated"`` or ``"undated"``.
_Build = Callable[[str, "cursors.ListCursor | None", int], tuple[Select[Any], dict[str, Any]]]


def _list_page(
    flt: ArticleFilter,
    limit: int,
    after: str | None,
    build: _Build,
    fetch: Callable[[Select[Any], dict[str, Any]], Sequence[Any]],
) -> Page:
    """The keyset walk shared by the ORM and Core listings; rows need ``published_at`` and ``id``."""
    limit = _page_size(limit)
    position = cursors.decode_list(after) if after else None
    rows: list[Any] = []
    if position is None or position.published_at is not None:
        rows.extend(fetch(*build("dated", position, limit + 1)))
    date_bounded = flt.since is not None or flt.until is not None
    if len(rows) <= limit and not date_bounded:
        undated_after = position if position is not None and position.published_at is None else None
        rows.extend(fetch(*build("undated", undated_after, limit + 1 - len(rows))))
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    return Page(rows, cursors.encode_list(cursors.ListCursor(last.published_at, last.id)))


def _phase(base: Select[Any], phase: str, after: tuple[Any, Any] | None, n: Any, dialect: str) -> Select[Any]:
    """One phase of a listing over ``base``; ``after`` is the cursor's (published_at, id)."""
    if phase == "dated":
        stmt = base.where(Article.published_at.is_not(None))
        if after is not None:
            stmt = stmt.where(tuple_(Article.published_at, Article.id) < tuple_(*after))
        return stmt.order_by(Article.published_at.desc(), Article.id.desc()).limit(n)
    stmt = base.where(Article.published_at.is_(None))
    if after is not None:
        stmt = stmt.where(Article.id < after[1])
    if dialect == "postgresql":
        # the same id order (the date is NULL throughout), but PostgreSQL then walks the
        # (published_at, id) index from its NULLs rather than the primary key, filtering
        return stmt.order_by(Article.published_at.desc(), Article.id.desc()).limit(n)
    return stmt.order_by(Article.id.desc()).limit(n)


def list_articles(
    session: Session, flt: ArticleFilter, *, limit: int = 20, after: str | None = None
) -> Page:
    """Newest first (undated articles last), one page of :class:`Article` and the next cursor.

    Articles are loaded without body and provenance (``full_article`` has them).
    Raises :class:`~db.cursors.InvalidCursor` for a bad ``after``.
    """
    dialect = _dialect(session)
    base = apply_filter(
        select(Article).options(load_only(*LIST_COLUMNS), joinedload(Article.source)), flt, dialect
    )

    def build(phase: str, position: cursors.ListCursor | None, n: int) -> tuple[Select[Any], dict[str, Any]]:
        at = None if position is None else (position.published_at, position.id)
        return _phase(base, phase, at, n, dialect), {}

    return _list_page(flt, limit, after, build, lambda stmt, _p: list(session.scalars(stmt)))


#: Prepared Core listing statements by shape (which filters, which phase, cursor or not);
#: the values are bind parameters, so building and cache-keying a statement is paid once.
_ROW_STATEMENTS: dict[tuple[Any, ...], Select[Any]] = {}


def _row_statement(flt: ArticleFilter, phase: str, with_cursor: bool, dialect: str) -> Select[Any]:
    key = (
        dialect, phase, with_cursor, flt.source is not None, flt.language is not None, bool(flt.author),
        flt.since is not None, flt.until is not None, flt.has_duplicates,
    )
    stmt = _ROW_STATEMENTS.get(key)
    if stmt is None:
        columns: list[Any] = [*LIST_COLUMNS, Source.name.label("source")]
        base: Select[Any] = select(*columns).outerjoin(Source, Source.id == Article.source_id)
        clauses = _filter_clauses(flt, lambda name, _v: bindparam(name))
        if clauses:
            base = base.where(*clauses)
        after = (
            (bindparam("after_at", type_=Article.published_at.type), bindparam("after_id", type_=Integer))
            if with_cursor else None
        )
        stmt = _phase(base, phase, after, bindparam("page_rows", type_=Integer), dialect)
        _ROW_STATEMENTS[key] = stmt
    return stmt


def list_article_rows(
    connection: Connection, flt: ArticleFilter, *, limit: int = 20, after: str | None = None
) -> Page:
    """:func:`list_articles` as plain Core rows (no ORM objects): the API's hot path.

    Each row has the :data:`LIST_COLUMNS` by name plus ``source`` (the source's name), in
    that order (:data:`ROW_FIELDS`).
    """
    values = _filter_values(flt)
    dialect = connection.dialect.name

    def build(phase: str, position: cursors.ListCursor | None, n: int) -> tuple[Select[Any], dict[str, Any]]:
        params = {**values, "page_rows": n}
        if position is not None:
            params.update(after_at=position.published_at, after_id=position.id)
        return _row_statement(flt, phase, position is not None, dialect), params

    return _list_page(flt, limit, after, build, lambda stmt, params: connection.execute(stmt, params).all())


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
    selective = flt.source is not None or flt.since is not None or flt.until is not None or bool(flt.author)
    undated = flt.since is None and flt.until is None  # a date range keeps dated articles only

    def rank() -> list[Any]:
        window = None
        if selective:
            broad = flt.language is not None or flt.has_duplicates is not None
            index_part = replace(flt, language=None, has_duplicates=None)
            indexed = apply_filter(select(Article.id), index_part, dialect) if broad else None
            window = fulltext.window(session, filtered, SEARCH_WINDOW, indexed=indexed, undated=undated)
        if window is not None and window.candidates is not None:
            return fulltext.page_of(window.candidates, position, limit + 1)
        page = fulltext.page_statement(filtered, position, limit + 1, SEARCH_WINDOW, how=window, undated=undated)
        return list(session.execute(page))

    ranked = _with_timeout(session, rank)
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


#: ``Connection.info`` key: the connection was opened with ``statement_timeout`` already
#: at :data:`SEARCH_TIMEOUT_MS` (the API's read engine), so a search need not set it.
STATEMENT_TIMEOUT_INFO = "ingest_statement_timeout_ms"


def _with_timeout(session: Session, run: Callable[[], list[Any]]) -> list[Any]:
    if _dialect(session) != "postgresql":
        return run()
    preset = session.connection().info.get(STATEMENT_TIMEOUT_INFO) == SEARCH_TIMEOUT_MS
    if not preset:
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
        if not preset:
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
    "list_article_rows",
    "list_articles",
    "search_articles",
    "source_health",
]
