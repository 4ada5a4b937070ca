"""The candidate window of a search with a selective filter, found with plans that suit it.

A search ranks the newest ``window`` matches that pass its filters (all of them
when there are fewer; newest by id on SQLite, by published date on PostgreSQL, see
:mod:`db.fulltext`).  One statement (:meth:`db.fulltext.FullText.page_statement`)
finds them well when the filters are broad; with a source, a date range or an
author each database plans it badly for some queries:

* SQLite checks every match, newest first, against either the article row (a
  lookup in the big table per match: slow when few matches pass) or the set of
  filtered ids (built in full first: 600 ms for "since last year", which keeps most
  of the archive).  Here the filter's size, counted first, picks: a set up to 5 % of
  the archive, the row check beyond; a small set goes in as ids (bounding the doclist
  walk when they are recent), and an empty filter skips the search.
* PostgreSQL often picks a GIN bitmap of every match of the words, ANDed with the
  filter's index (50+ ms for two frequent words and a source; 500+ ms for a phrase),
  where walking the filter's index newest first and testing each row stops after a
  few thousand rows.  Here that walk runs first, bounded by an estimate from a short
  first walk, and the planner's statement only when the walk cannot settle it.  The
  walk covers the dated articles (PostgreSQL's window takes undated ones only after
  every dated match); when it has seen all of them, one statement for the undated
  ones completes the window.

The window is the same set of articles either way, so the ranking is unchanged.
(Looking up candidates id by id in FTS5 does not pay on SQLite: bm25 counts every
term's documents once per FTS5 scan, so ranking ids one lookup at a time would count
them once per id.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Float, Integer, Select, String, func, literal_column, select
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session
from sqlalchemy.sql import column, table

from db.cursors import SearchCursor
from db.models import Article
from db.models_search import FTS_TABLE, TSVECTOR_COLUMN

FTS = table(
    FTS_TABLE,
    column("rowid", Integer),
    column("rank", Float),
    column(FTS_TABLE, String),
)

#: SQLite: a filter keeping more than this share of the archive is checked on each
#: match's row (a few matches reach the window); fewer, against the filtered id set.
ROW_CHECK_SHARE = 1 / 20
#: SQLite: a filter set this small is passed to the search as ids ...
SMALL_SET = 1000
#: ... whose id range bounds the doclist walk when it spans at most this share of the ids.
NARROW_SHARE = 1 / 2
#: PostgreSQL: the first walk of the filter's index covers ``window`` times this many
#: rows; a second walk at most ``window`` times PG_WALK_MAX (~1.5 µs a row; beyond
#: that, words that rare among the filtered articles are found faster by GIN).
PG_FIRST_WALK = 4
PG_WALK_MAX = 16


class Window(NamedTuple):
    """``candidates``: (id, raw rank) of the whole window, or ``None`` when the one
    statement should find them.  For that statement on SQLite: ``as_set`` checks matches
    against the filtered id set rather than each match's article row; ``ids`` are those
    ids (when few), and ``id_range`` (lowest, highest) bounds the doclist walk."""

    candidates: list[tuple[int, float]] | None
    as_set: bool = False
    ids: list[int] | None = None
    id_range: tuple[int, int] | None = None


def unindexed(name: str) -> ColumnElement[Any]:
    """``+name``: the same value, but SQLite will not pick an index (or an FTS5 constraint) for it."""
    return literal_column(f"+{name}", Integer)


def _count_upto(session: Session, filtered: Select[Any], cap: int) -> int:
    """How many articles ``filtered`` keeps, counted up to ``cap + 1`` only (an index walk)."""
    return int(session.scalar(select(func.count()).select_from(filtered.limit(cap + 1).subquery())) or 0)


# --- SQLite ------------------------------------------------------------------------


def sqlite_window(session: Session, filtered: Select[Any], *, complete: bool = True) -> Window:
    """How the one statement should check the filters on SQLite, from the filter's size.

    ``filtered`` may be a superset of the search's filters (not ``complete``: only the
    part one index serves); it still bounds them.  Up to :data:`SMALL_SET` of its ids are
    read: that few are handed to the statement as they are (the filter is not run twice),
    and when they sit in a narrow id range (an author active this year, last week of a
    source) the FTS5 doclist walk is bounded to it; a filter that keeps nothing skips the
    search.  Beyond that, an index walk counts the filtered articles up to
    :data:`ROW_CHECK_SHARE` of the archive to choose the check.
    """
    # Core rows: the ORM's loading machinery would cost more than the walk for 1,000 ids
    few = sorted(session.connection().execute(filtered.limit(SMALL_SET + 1)).scalars())
    if not few:
        return Window([])
    newest = int(session.scalar(select(func.max(Article.id))) or 0)
    if len(few) <= SMALL_SET:
        low, high = few[0], few[-1]
        # a bound costs FTS5 more than it saves unless it skips much of the doclist
        bound = (low, high) if high - low <= newest * NARROW_SHARE else None
        return Window(None, as_set=True, ids=few if complete else None, id_range=bound)
    cap = max(SMALL_SET, int(newest * ROW_CHECK_SHARE))
    return Window(None, as_set=_count_upto(session, filtered, cap) <= cap)


# --- PostgreSQL ----------------------------------------------------------------------


def listing_order() -> tuple[ColumnElement[Any], ...]:
    """PostgreSQL's window order within one phase: newest date, then highest id.  In the
    undated phase the date is NULL throughout, so this is id order; written this way the
    ``(published_at, id)`` index, walked backwards, serves both phases."""
    return Article.published_at.desc(), Article.id.desc()


def phase_clause(dated: bool) -> ColumnElement[bool]:
    """The articles of one phase of PostgreSQL's window: dated ones, or undated ones."""
    return Article.published_at.is_not(None) if dated else Article.published_at.is_(None)


def _vector() -> ColumnElement[Any]:
    return literal_column(f"articles.{TSVECTOR_COLUMN}", TSVECTOR)


def postgres_phase(
    tsquery: Callable[[], ColumnElement[Any]], filtered: Select[Any], *, dated: bool, limit: Any
) -> Select[Any]:
    """(id, ts_rank) of the first ``limit`` matches of one phase in window order: the
    ``(published_at, id)``, ``(source_id, published_at)`` and ``(language, published_at, id)``
    indexes, walked backwards, serve it with or without filters (``published_at IS NOT
    NULL`` skips the undated articles a backward walk would meet first)."""
    vector = _vector()
    rank = func.ts_rank(vector, tsquery()).cast(Float).label("rank")
    return (
        filtered.with_only_columns(Article.id.label("id"), rank)
        .where(vector.op("@@")(tsquery()), phase_clause(dated))
        .order_by(*listing_order())
        .limit(limit)
    )


def postgres_window(
    session: Session,
    tsquery: Callable[[], ColumnElement[Any]],
    filtered: Select[Any],
    window: int,
    *,
    undated: bool = True,
) -> Window:
    """The window of ``tsquery`` among the articles ``filtered`` keeps, from walks of the
    filter's index newest first (a subquery with a ``LIMIT``: no GIN bitmap possible).

    The walks cover the dated phase.  A first short walk either fills the window, or
    covers every dated filtered article (the undated phase then completes the window,
    unless the filter cannot keep undated articles: not ``undated``), or gives the share
    of rows that match; a second walk goes as far as that share says the window needs,
    if that is not too far.  Otherwise the planner decides (a GIN bitmap is right for
    words that are rare among the filtered articles).
    """
    dated = filtered.where(phase_clause(True))
    walk = window * PG_FIRST_WALK
    for attempt in range(2):
        found = _pg_walk(session, tsquery, dated, window, walk)
        if len(found) == window:
            return Window(found)
        if _count_upto(session, dated, walk) <= walk:  # every dated article seen
            if undated:
                rest = postgres_phase(tsquery, filtered, dated=False, limit=window - len(found))
                found += [(int(i), float(r)) for i, r in session.execute(rest)]
            return Window(found)
        if attempt or not found:
            break
        walk = int(walk * window / len(found) * 1.5)
        if walk > window * PG_WALK_MAX:
            break
    return Window(None)


def _pg_walk(
    session: Session, tsquery: Callable[[], ColumnElement[Any]], dated: Select[Any], window: int, rows: int
) -> list[tuple[int, float]]:
    """(id, ts_rank) of the matches among the newest ``rows`` dated filtered articles, up to ``window``."""
    recent = (
        dated.with_only_columns(
            Article.id.label("id"), Article.published_at.label("published_at"), _vector().label("vector")
        )
        .order_by(*listing_order())
        .limit(rows)
        .subquery("recent")
    )
    stmt = (
        select(recent.c.id, func.ts_rank(recent.c.vector, tsquery()).cast(Float))
        .where(recent.c.vector.op("@@")(tsquery()))
        .order_by(recent.c.published_at.desc(), recent.c.id.desc())
        .limit(window)
    )
    return [(int(i), float(r)) for i, r in session.execute(stmt)]


# --- paging -------------------------------------------------------------------------


def page_of(
    candidates: Sequence[tuple[int, float]], after: SearchCursor | None, limit: int, *, lower_is_better: bool
) -> list[tuple[int, float]]:
    """Best first, ties by id, after the cursor: what the one-statement form's ``ORDER BY``
    and keyset ``WHERE`` select (bm25 ascending on SQLite, ts_rank descending on PostgreSQL)."""
    sign = 1.0 if lower_is_better else -1.0
    rows = sorted(candidates, key=lambda c: (sign * c[1], c[0]))
    if after is not None:
        key = (sign * after.rank, after.id)
        rows = [c for c in rows if (sign * c[1], c[0]) > key]
    return rows[:limit]
