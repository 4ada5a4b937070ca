"""Full-text SQL for each backend: match, rank and highlighted snippets.

SQLite reads the FTS5 table ``articles_fts`` (bm25: lower is better);
PostgreSQL the generated ``articles.search_vector`` (``ts_rank``: higher is
better).  :class:`FullText` hides that difference from :mod:`db.queries`:
``order_rank`` sorts best first either way, and ``score`` makes "higher is
better" on both for display.

A search ranks a window of candidates: the newest matches that pass the filters.
Newest means first seen (highest id) on SQLite, whose FTS5 index walks in rowid order;
on PostgreSQL it means published last, ``(published_at, id)`` descending, with undated
articles (by id descending) only when the dated matches do not fill the window.
Without selective filters one statement finds and ranks them
(:meth:`FullText.page_statement`).  With a selective filter (source, date range,
author) :meth:`FullText.window` first picks a plan that suits the filter
(:mod:`db.search_window`): on PostgreSQL it usually finds the window itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from db import search_window
from db.cursors import SearchCursor
from db.highlight import highlight
from db.models import Article
from db.models_search import FTS_TABLE, PG_TEXT_CONFIG
from db.search_syntax import SearchQuery, to_fts5, to_websearch

#: Snippet highlight markers: private-use characters that never occur in article text,
#: turned into ``<mark>`` (HTML) or bold (terminal) by the presentation layer.
MARK_START = "\ue000"
MARK_END = "\ue001"
ELLIPSIS = "…"
SNIPPET_WORDS = 30
SNIPPET_SOURCE_CHARS = 20_000

_fts = search_window.FTS


@dataclass(frozen=True, slots=True)
class RankedIds:
    """One page of matching ids, best first, with their raw ranks."""

    ids: list[int]
    ranks: list[float]


class FullText:
    """Backend-specific pieces of one search query."""

    def __init__(self, dialect: str, query: SearchQuery) -> None:
        self.dialect = dialect
        self.query = query

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _tsquery(self) -> ColumnElement[Any]:
        return func.websearch_to_tsquery(
            literal_column(f"'{PG_TEXT_CONFIG}'::regconfig"), to_websearch(self.query)
        )

    def score(self, rank: float) -> float:
        """Higher is better on both backends."""
        return -rank if self.is_sqlite else rank

    def window(
        self,
        session: Session,
        filtered: Select[Any],
        window: int,
        *,
        indexed: Select[Any] | None = None,
        undated: bool = True,
    ) -> search_window.Window:
        """The candidates of a search with a selective filter (:mod:`db.search_window`):
        the same as :meth:`page_statement`'s, or how that statement should find them.

        ``indexed``: only the selective filters (one index serves them) when ``filtered``
        has others besides (language, duplicates).  PostgreSQL then leaves the plan to
        the planner (a walk would read rows it throws away); SQLite sizes ``indexed``.
        ``undated``: as for :meth:`page_statement` (PostgreSQL only).
        """
        if self.is_sqlite:
            if indexed is None:
                return search_window.sqlite_window(session, filtered)
            return search_window.sqlite_window(session, indexed, complete=False)
        if indexed is not None:
            return search_window.Window(None)
        return search_window.postgres_window(session, self._tsquery, filtered, window, undated=undated)

    def page_of(
        self, candidates: Sequence[tuple[int, float]], after: SearchCursor | None, limit: int
    ) -> list[tuple[int, float]]:
        """One page of :meth:`window`'s candidates, in :meth:`page_statement`'s order and keyset."""
        return search_window.page_of(candidates, after, limit, lower_is_better=self.is_sqlite)

    def page_statement(
        self,
        filtered: Select[Any],
        after: SearchCursor | None,
        limit: int,
        window: int,
        *,
        how: search_window.Window | None = None,
        undated: bool = True,
    ) -> Select[Any]:
        """(id, rank) rows of one page, best first, among the newest ``window`` matches.

        ``filtered`` is ``select(Article.id).where(filters)``.  Ranking every
        match of a frequent word (half the archive) cannot be fast, so the
        candidates are the ``window`` newest matches (all of them for a rarer
        query): on SQLite by id, i.e. first seen (FTS5 walks its index in rowid
        order); on PostgreSQL by publication date, ``(published_at, id)`` descending,
        then undated ones by id descending only if the dated matches leave room (an
        index walk per phase, filters included).  ``undated``: the filters can keep
        undated articles (no date range), else PostgreSQL skips that phase.

        On SQLite the filters are checked on each match's article row, or (``how``
        from :meth:`window` says ``as_set``) against the filtered ids collected once
        through their index (``+rowid IN (…)``: the ``+`` keeps FTS5 from seeking every
        id), or given as ids by :meth:`window`, walking only the doclist within their range.
        """
        has_filters = filtered.whereclause is not None
        if self.is_sqlite:
            inner = select(_fts.c.rowid.label("id"), _fts.c.rank.label("rank")).where(
                _fts.c[FTS_TABLE].op("MATCH")(to_fts5(self.query))
            )
            if has_filters and how is not None and how.as_set:
                rowid = search_window.unindexed(f"{FTS_TABLE}.rowid")
                if how.id_range is not None:
                    inner = inner.where(_fts.c.rowid.between(*how.id_range))
                if how.ids is not None:
                    inner = inner.where(rowid.in_(how.ids))
                else:
                    # sorted ids build the set ~25% faster (appends rather than random inserts)
                    inner = inner.where(rowid.in_(filtered.order_by(Article.id)))
            elif has_filters:
                inner = inner.join(Article, Article.id == _fts.c.rowid).where(filtered.whereclause)  # type: ignore[arg-type]
            candidates = inner.order_by(_fts.c.rowid.desc()).limit(window).subquery("candidates")
            rank: ColumnElement[Any] = candidates.c.rank
            ident = candidates.c.id
            stmt = select(ident, rank)
            if after is not None:
                stmt = stmt.where(or_(rank > after.rank, and_(rank == after.rank, ident > after.id)))
            return stmt.order_by(rank.asc(), ident.asc()).limit(limit)
        # PostgreSQL: dated matches by (published_at, id) descending, then undated ones by id
        # descending for the room left.  Ordered by published_at DESC alone, the undated
        # (NULLs first) would fill the window of any frequent word.
        dated = search_window.postgres_phase(self._tsquery, filtered, dated=True, limit=window)
        if undated:
            first = dated.cte("dated").prefix_with("MATERIALIZED")
            # LIMIT 0 when the dated matches fill the window: the undated phase is not run
            room = window - select(func.count()).select_from(first).scalar_subquery()
            rest = search_window.postgres_phase(self._tsquery, filtered, dated=False, limit=room).subquery("undated")
            both = union_all(select(first.c.id, first.c.rank), select(rest.c.id, rest.c.rank))
            pg_candidates = both.subquery("candidates")
        else:
            pg_candidates = dated.subquery("candidates")
        rank = pg_candidates.c.rank
        ident = pg_candidates.c.id
        stmt = select(ident, rank)
        if after is not None:
            stmt = stmt.where(or_(rank < after.rank, and_(rank == after.rank, ident > after.id)))
        return stmt.order_by(rank.desc(), ident.asc()).limit(limit)

    def snippets(self, session: Session, ids: Sequence[int]) -> dict[int, str]:
        """Highlighted body excerpts for the given ids, marked with MARK_START/MARK_END."""
        if not ids:
            return {}
        if self.is_sqlite:
            snippet = func.snippet(
                literal_column(FTS_TABLE), 1, MARK_START, MARK_END, ELLIPSIS, SNIPPET_WORDS
            )
            stmt = select(_fts.c.rowid, snippet).where(
                _fts.c[FTS_TABLE].op("MATCH")(to_fts5(self.query)), _fts.c.rowid.in_(ids)
            )
            return {int(i): " ".join(str(s or "").split()) for i, s in session.execute(stmt)}
        positive = " ".join(t.text for group in self.query.groups for t in group)
        lexemes = session.scalar(
            select(func.tsvector_to_array(func.to_tsvector(literal_column(f"'{PG_TEXT_CONFIG}'::regconfig"), positive)))
        )
        bodies = select(Article.id, func.left(Article.body, SNIPPET_SOURCE_CHARS)).where(Article.id.in_(ids))
        return {
            int(i): highlight(
                body or "", lexemes or [], words=SNIPPET_WORDS, start=MARK_START, end=MARK_END, ellipsis=ELLIPSIS
            )
            for i, body in session.execute(bodies)
        }
