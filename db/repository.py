"""Write-side persistence: sources, runs, fetch attempts and articles.

Functions take a :class:`~sqlalchemy.orm.Session` and leave committing to the
caller, so one article and everything that belongs with it land in one
transaction (no half-written article is ever visible).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.bulk import copy_rows, insert_rows
from db.models import Article, FetchAttempt, HttpCacheEntry, RawPage, Run, Source
from db.types import utcnow

_ARTICLES = cast(Table, Article.__table__)
_RAW_PAGES = cast(Table, RawPage.__table__)
_ATTEMPTS = cast(Table, FetchAttempt.__table__)


def get_or_create_source(session: Session, name: str) -> Source:
    """The source row for ``name``, created on first use (safe against a concurrent insert)."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is not None:
        return source
    stmt = _insert_ignore(session, Source, ["name"]).values(
        name=name, created_at=utcnow(), consecutive_failures=0, healthy=True
    )
    session.execute(stmt)
    source = session.scalar(select(Source).where(Source.name == name))
    assert source is not None
    return source


def start_run(session: Session, source_id: int | None, trigger: str, worker: str | None) -> Run:
    run = Run(source_id=source_id, trigger=trigger, worker=worker, status="running", counts={})
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session, run_id: int, status: str, counts: Mapping[str, int], error: str | None
) -> None:
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(status=status, counts=dict(counts), error=error, finished_at=utcnow())
    )


def record_attempts(session: Session, run_id: int | None, source_id: int | None, rows: Iterable[Mapping[str, Any]]) -> None:
    values = [{**row, "run_id": run_id, "source_id": source_id} for row in rows]
    if not values:
        return
    if _is_pg(session):
        copy_rows(session, _ATTEMPTS, values)
    else:
        session.execute(insert(_ATTEMPTS), values)  # Core: no ORM bulk overhead


def known_urls(session: Session, urls: Sequence[str]) -> set[str]:
    """Which of ``urls`` are already stored as articles."""
    found: set[str] = set()
    for start in range(0, len(urls), 500):
        chunk = urls[start : start + 500]
        found.update(session.scalars(select(Article.url).where(Article.url.in_(chunk))))
        found.update(
            u for u in session.scalars(select(Article.fetched_url).where(Article.fetched_url.in_(chunk))) if u
        )
    return found


def find_by_hash(session: Session, content_hash: str, source_id: int | None) -> int | None:
    """An article of the same source with exactly this body, if any."""
    stmt = select(Article.id).where(Article.content_hash == content_hash)
    stmt = stmt.where(Article.source_id == source_id if source_id is not None else Article.source_id.is_(None))
    return session.scalar(stmt.limit(1))


def find_by_hashes(session: Session, keys: Sequence[tuple[str, int | None]]) -> set[tuple[str, int | None]]:
    """Which ``(content_hash, source_id)`` pairs are already stored (:func:`find_by_hash` in bulk)."""
    found: set[tuple[str, int | None]] = set()
    wanted = set(keys)
    hashes = sorted({h for h, _ in wanted})
    table = _ARTICLES
    for start in range(0, len(hashes), 500):
        stmt = select(table.c.content_hash, table.c.source_id).where(
            table.c.content_hash.in_(hashes[start : start + 500])
        )
        found.update(key for key in ((h, s) for h, s in session.execute(stmt)) if key in wanted)
    return found


def insert_articles(
    session: Session, values: Sequence[Mapping[str, Any]], raws: Sequence[Mapping[str, Any]]
) -> list[int | None]:
    """:func:`insert_article` for many articles: one statement per table for the whole batch
    (SQLite: multi-row inserts; PostgreSQL: one fixed statement run per row, pipelined).

    The caller has already dropped known URLs; a URL another process stored
    meanwhile comes back as ``None`` and its raw page is removed again.
    """
    if not values:
        return []
    if _is_pg(session):  # fixed statements (see db.bulk)
        _pg_add_author_names(session, values)
        raw_ids = [int(r[0]) for r in insert_rows(session, _RAW_PAGES, raws, returning=["id"]) if r is not None]
        rows = [{**v, "raw_page_id": raw_id} for v, raw_id in zip(values, raw_ids, strict=True)]
        ids = [None if r is None else int(r[0])
               for r in insert_rows(session, _ARTICLES, rows, returning=["id"], skip_conflicts_on=["url"])]
    else:
        raw_ids = list(
            session.execute(
                insert(_RAW_PAGES).returning(_RAW_PAGES.c.id, sort_by_parameter_order=True), list(raws)
            ).scalars()
        )
        rows = [{**v, "raw_page_id": raw_id} for v, raw_id in zip(values, raw_ids, strict=True)]
        stmt = _insert_ignore(session, _ARTICLES, ["url"]).returning(_ARTICLES.c.id, _ARTICLES.c.url)
        by_url = {url: article_id for article_id, url in session.execute(stmt, rows)}
        ids = [by_url.pop(v["url"], None) for v in values]  # a URL twice in the batch: the first went in
    lost = [raw_id for raw_id, article_id in zip(raw_ids, ids, strict=True) if article_id is None]
    if lost:
        session.execute(delete(_RAW_PAGES).where(_RAW_PAGES.c.id.in_(lost)))
    return ids


def _pg_add_author_names(session: Session, values: Sequence[Mapping[str, Any]]) -> None:
    """Add the batch's new author names in one statement, in sorted order, before its articles.

    The articles go in one statement per row, and each row's insert trigger (migration 0006)
    adds its own new names: two writers adding the same new names in another order could
    deadlock.  Added here first, in one sorted statement, the names are only waited for."""
    names = sorted({a for v in values for a in (v.get("authors") or []) if isinstance(a, str) and a})
    if names:
        session.execute(
            text("INSERT INTO author_names (name) SELECT DISTINCT left(lower(v), 200) AS name "
                 "FROM unnest(CAST(:names AS text[])) AS v ORDER BY name ON CONFLICT (name) DO NOTHING"),
            {"names": names},
        )


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_article(session: Session, values: Mapping[str, Any], raw: Mapping[str, Any] | None) -> int | None:
    """Insert an article (and its raw page); ``None`` when its URL is already stored.

    Uses ``INSERT … ON CONFLICT DO NOTHING`` on the unique URL, so two workers
    racing on one URL store it exactly once.
    """
    raw_id: int | None = None
    if raw is not None:
        raw_id = session.scalar(insert(RawPage).values(**raw).returning(RawPage.id))
    stmt = (
        _insert_ignore(session, Article, ["url"])
        .values(**values, raw_page_id=raw_id)
        .returning(Article.id)
    )
    article_id: int | None = session.scalar(stmt)
    if article_id is None and raw_id is not None:
        session.execute(delete(RawPage).where(RawPage.id == raw_id))
    return article_id


def load_validators(session: Session, url: str) -> tuple[str | None, str | None] | None:
    row = session.scalar(select(HttpCacheEntry).where(HttpCacheEntry.url == url))
    return None if row is None else (row.etag, row.last_modified)


def save_validators(session: Session, url: str, etag: str | None, last_modified: str | None) -> None:
    now = utcnow()
    values = {"url": url, "etag": etag, "last_modified": last_modified, "checked_at": now}
    if _is_pg(session):
        pg = pg_insert(HttpCacheEntry).values(**values)
        session.execute(pg.on_conflict_do_update(index_elements=["url"], set_=values))
    else:
        lite = sqlite_insert(HttpCacheEntry).values(**values)
        session.execute(lite.on_conflict_do_update(index_elements=["url"], set_=values))


def mark_source_run(session: Session, source_id: int, *, ok: bool, when: datetime | None = None) -> None:
    when = when or utcnow()
    values: dict[str, Any] = {"last_run_at": when}
    if ok:
        values.update(last_success_at=when, consecutive_failures=0, healthy=True)
    else:
        values["consecutive_failures"] = Source.consecutive_failures + 1
    session.execute(update(Source).where(Source.id == source_id).values(**values))


def _insert_ignore(session: Session, model: type[Any] | Table, keys: list[str]) -> Any:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` for the session's dialect."""
    if _is_pg(session):
        return pg_insert(model).on_conflict_do_nothing(index_elements=keys)
    return sqlite_insert(model).on_conflict_do_nothing(index_elements=keys)
