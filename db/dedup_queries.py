"""SQL of the near-duplicate index (``ingest.dedup``): bands, signatures, pairs, stories, chrome.

Plain Core statements on the session's connection, one statement per step
whatever the number of rows (``insertmanyvalues`` batches the inserts), so
adding an article costs a fixed handful of round trips.  Callers commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BindParameter,
    Executable,
    Row,
    Table,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
from db.types import utcnow

T = TypeVar("T")
CHUNK = 5000
"""Bound parameters per IN list: below SQLite's limit (32766) and cheap to plan on PostgreSQL."""
LOCK_KEY = 0x6E657773_64647570  # 'newsddup': the advisory lock of the index on PostgreSQL

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


@dataclass(frozen=True, slots=True)
class StoredSignature:
    article_id: int
    day: int
    shingle_count: int
    minhash: bytes
    chrome: list[int]
    story_id: int | None


@dataclass(frozen=True, slots=True)
class BlockCount:
    seen: int
    first_day: int
    last_day: int


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids() -> BindParameter[Any]:
    return bindparam("ids", expanding=True)


def _rows(session: Session, stmt: Executable, values: Iterable[Any], **params: Any) -> list[Sequence[Any]]:
    """Run a statement built with :func:`_ids` over ``values`` in chunks.

    An expanding bound parameter is compiled once and cached; ``col.in_(list)``
    would coerce every element in Python on every call.
    """
    out: list[Sequence[Any]] = []
    for chunk in _chunks(sorted(set(values))):
        out.extend(session.connection().execute(stmt, {"ids": list(chunk), **params}))
    return out


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class _Raw:
    """The session's own DBAPI connection, for the statements run for every new article.

    SQLAlchemy costs ~0.25 ms a statement in Python (10x a SQLite lookup), which
    alone would break the 2 ms budget of the hook; these statements are plain
    enough to write once for both databases.  Same connection, same transaction.
    """

    def __init__(self, session: Session) -> None:
        conn = session.connection()
        self.pg = conn.dialect.name == "postgresql"
        self.cursor = conn.connection.cursor()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self.cursor.execute(self._sql(sql), tuple(params))
        return list(self.cursor.fetchall())

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self._sql(sql), tuple(params))

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(self._sql(sql), [tuple(r) for r in rows])

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column`` IN values: one array parameter on PostgreSQL, a list of ``?`` on SQLite."""
        if self.pg:
            return f"{column} = ANY(?)", [list(values)]
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    def json(self, value: Any) -> Any:
        if self.pg:
            from psycopg.types.json import Json

            return Json(value)
        return json.dumps(value)


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _insert(session: Session, table: Any) -> Any:
    return pg_insert(table) if _is_pg(session) else sqlite_insert(table)


# --- concurrency ----------------------------------------------------------------


def lock_index(session: Session) -> None:
    """Serialize index updates until this transaction ends.

    Two daemons each inserting one of a pair would otherwise both query before
    either commits and both miss the pair.  PostgreSQL needs the transaction
    advisory lock; SQLite already holds its single writer lock here (the
    article was inserted first in this transaction), so nothing is needed.
    """
    raw = _Raw(session)
    if raw.pg:
        raw.rows("SELECT pg_advisory_xact_lock(?)", [LOCK_KEY])


# --- articles -------------------------------------------------------------------

_ARTICLE_COLUMNS = (
    Article.id, Article.url, Article.title, Article.body, Article.published_at,
    Article.fetched_at, Article.content_hash, Article.source_id, Article.provenance,
)


def _article(row: Sequence[Any]) -> ArticleText:
    return ArticleText(
        id=row[0], url=row[1], title=row[2], body=row[3], published_at=row[4], fetched_at=row[5],
        content_hash=row[6], source_id=row[7], provenance=dict(row[8] or {}),
    )


def articles(session: Session, ids: Sequence[int]) -> list[ArticleText]:
    """Articles by id, in id order."""
    raw = _Raw(session)
    out: list[ArticleText] = []
    for chunk in _chunks(sorted(set(ids))):
        where, params = raw.any_of("id", chunk)
        for r in raw.rows(
            "SELECT id, url, title, body, published_at, fetched_at, content_hash, source_id, provenance "
            f"FROM articles WHERE {where} ORDER BY id",
            params,
        ):
            fetched = _utc(r[5])
            assert fetched is not None
            out.append(ArticleText(r[0], r[1], r[2], r[3], _utc(r[4]), fetched, r[6], r[7], dict(_loads(r[8]) or {})))
    return out


def article_batch(session: Session, after_id: int, limit: int) -> list[ArticleText]:
    """The next ``limit`` articles after ``after_id`` (keyset pagination, for rebuilds)."""
    stmt = select(*_ARTICLE_COLUMNS).where(Article.id > after_id).order_by(Article.id).limit(limit)
    return [_article(r) for r in session.connection().execute(stmt)]


def article_count(session: Session) -> int:
    return int(session.connection().scalar(select(func.count()).select_from(Article)) or 0)


# Only indexed articles (with a signature row) count, so a rebuild replaying articles in id
# order finds exactly what the hook found when each one arrived.
_BY_URL = (
    select(Article.url, Article.id)
    .join(DedupSignature, DedupSignature.article_id == Article.id)
    .where(Article.url.in_(_ids()))
)


def same_content(session: Session, hashes: Sequence[str]) -> list[tuple[int, str]]:
    """(article id, content hash) of every indexed article with one of these exact bodies."""
    raw = _Raw(session)
    out: list[tuple[int, str]] = []
    for chunk in _chunks(sorted(set(hashes))):
        where, params = raw.any_of("a.content_hash", chunk)
        sql = f"SELECT a.id, a.content_hash FROM articles a JOIN dedup_signatures s ON s.article_id = a.id WHERE {where}"
        out.extend((r[0], r[1]) for r in raw.rows(sql, params))
    return out


def ids_by_url(session: Session, urls: Sequence[str]) -> dict[str, int]:
    return {r[0]: r[1] for r in _rows(session, _BY_URL, urls)} if urls else {}


# --- host chrome ----------------------------------------------------------------


def block_counts(session: Session, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], BlockCount]:
    """Current counts of (host key, block key) pairs that have been seen."""
    by_host: dict[int, list[int]] = {}
    for host_key, block_key in keys:
        by_host.setdefault(host_key, []).append(block_key)
    raw = _Raw(session)
    out: dict[tuple[int, int], BlockCount] = {}
    for host_key, block_keys in by_host.items():
        for chunk in _chunks(sorted(set(block_keys))):
            where, params = raw.any_of("block_key", chunk)
            sql = f"SELECT block_key, seen, first_day, last_day FROM dedup_host_blocks WHERE host_key = ? AND {where}"
            for r in raw.rows(sql, [host_key, *params]):
                out[(host_key, r[0])] = BlockCount(r[1], r[2], r[3])
    return out


def add_block_counts(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add ``seen`` to each block's count, widening its day span (insert when new).

    Rows are sorted by key so two writers never take row locks in opposite order.
    """
    if not rows:
        return
    ordered = sorted(rows, key=lambda r: (r["host_key"], r["block_key"]))
    raw = _Raw(session)
    least, greatest = ("LEAST", "GREATEST") if raw.pg else ("MIN", "MAX")
    raw.many(
        "INSERT INTO dedup_host_blocks (host_key, block_key, host, seen, first_day, last_day, text) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (host_key, block_key) DO UPDATE SET "
        "seen = dedup_host_blocks.seen + excluded.seen, "
        f"first_day = {least}(dedup_host_blocks.first_day, excluded.first_day), "
        f"last_day = {greatest}(dedup_host_blocks.last_day, excluded.last_day)",
        [(r["host_key"], r["block_key"], r["host"], r["seen"], r["first_day"], r["last_day"], r["text"]) for r in ordered],
    )


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


# --- signatures, bands, links ---------------------------------------------------


def insert_signatures(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    raw = _Raw(session)
    raw.many(
        "INSERT INTO dedup_signatures (article_id, day, scheme, host_key, shingle_count, minhash, chrome, wires, "
        "story_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (r["article_id"], r["day"], r["scheme"], r["host_key"], r["shingle_count"], r["minhash"],
             raw.json(r["chrome"]), raw.json(r["wires"]), r["story_id"])
            for r in rows
        ],
    )


def insert_bands(session: Session, rows: Sequence[tuple[int, int, int]]) -> None:
    """Band rows as (key, day, article id)."""
    _Raw(session).many("INSERT INTO dedup_bands (key, day, article_id) VALUES (?, ?, ?)", rows)


def insert_links(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        stmt = _insert(session, LINKS).on_conflict_do_nothing(index_elements=["url_key", "article_id"])
        session.connection().execute(stmt, list(rows))


def band_hits(session: Session, keys: Sequence[int], first_day: int, last_day: int) -> list[tuple[int, int, int]]:
    """(key, day, article id) of every band row with one of ``keys`` dated in the window."""
    raw = _Raw(session)
    out: list[tuple[int, int, int]] = []
    for chunk in _chunks(sorted(set(keys))):
        where, params = raw.any_of("key", chunk)
        sql = f"SELECT key, day, article_id FROM dedup_bands WHERE {where} AND day BETWEEN ? AND ?"
        out.extend((r[0], r[1], r[2]) for r in raw.rows(sql, [*params, first_day, last_day]))
    return out


def signatures(session: Session, ids: Sequence[int]) -> dict[int, StoredSignature]:
    raw = _Raw(session)
    out: dict[int, StoredSignature] = {}
    for chunk in _chunks(sorted(set(ids))):
        where, params = raw.any_of("article_id", chunk)
        sql = f"SELECT article_id, day, shingle_count, minhash, chrome, story_id FROM dedup_signatures WHERE {where}"
        for r in raw.rows(sql, params):
            out[r[0]] = StoredSignature(r[0], r[1], r[2], bytes(r[3]), list(_loads(r[4]) or []), r[5])
    return out


def linking_to(session: Session, url_keys: Sequence[int]) -> list[tuple[int, int, str]]:
    """(url key, article id, kind) of articles declaring one of these URLs as their original."""
    raw = _Raw(session)
    out: list[tuple[int, int, str]] = []
    for chunk in _chunks(sorted(set(url_keys))):
        where, params = raw.any_of("url_key", chunk)
        out.extend((r[0], r[1], r[2]) for r in raw.rows(f"SELECT url_key, article_id, kind FROM dedup_links WHERE {where}", params))
    return out


# --- pairs and stories ----------------------------------------------------------


def insert_pairs(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store pairs (``a_id < b_id``); a pair already stored is left as it is."""
    now = utcnow()
    raw = _Raw(session)
    raw.many(
        "INSERT INTO dedup_pairs (a_id, b_id, containment_ab, containment_ba, jaccard, title_similarity, rule, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (a_id, b_id) DO NOTHING",
        [
            (r["a_id"], r["b_id"], r["containment_ab"], r["containment_ba"], r["jaccard"], r["title_similarity"],
             r["rule"], now if raw.pg else _sqlite_time(now))
            for r in rows
        ],
    )


def _sqlite_time(value: datetime) -> str:
    """How :class:`~db.types.UTCDateTime` stores a datetime in SQLite (naive UTC text)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def story_ids(session: Session, ids: Sequence[int]) -> dict[int, int | None]:
    """Story of each indexed article (None: in no story); articles without a signature are absent."""
    raw = _Raw(session)
    out: dict[int, int | None] = {}
    for chunk in _chunks(sorted(set(ids))):
        where, params = raw.any_of("article_id", chunk)
        out.update((r[0], r[1]) for r in raw.rows(f"SELECT article_id, story_id FROM dedup_signatures WHERE {where}", params))
    return out


def move_to_story(session: Session, target: int, stories: Sequence[int], articles_: Sequence[int]) -> None:
    """Put ``articles_`` and every member of ``stories`` into story ``target``; drop the old stories."""
    raw = _Raw(session)
    if stories:
        where, params = raw.any_of("story_id", stories)
        raw.run(f"UPDATE dedup_signatures SET story_id = ? WHERE {where}", [target, *params])
        where, params = raw.any_of("id", stories)
        raw.run(f"DELETE FROM dedup_stories WHERE {where}", params)
    if articles_:
        where, params = raw.any_of("article_id", articles_)
        raw.run(f"UPDATE dedup_signatures SET story_id = ? WHERE {where}", [target, *params])


def story_members(session: Session, story_id: int) -> list[tuple[int, datetime | None, datetime]]:
    """(article id, published, fetched) of a story's members."""
    rows = _Raw(session).rows(
        "SELECT a.id, a.published_at, a.fetched_at FROM dedup_signatures s JOIN articles a ON a.id = s.article_id "
        "WHERE s.story_id = ?",
        [story_id],
    )
    out = []
    for r in rows:
        fetched = _utc(r[2])
        assert fetched is not None
        out.append((r[0], _utc(r[1]), fetched))
    return out


def save_story(session: Session, story_id: int, earliest: int, size: int) -> None:
    raw = _Raw(session)
    now = utcnow()
    raw.run(
        "INSERT INTO dedup_stories (id, earliest_article_id, size, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET earliest_article_id = excluded.earliest_article_id, "
        "size = excluded.size, updated_at = excluded.updated_at",
        [story_id, earliest, size, now if raw.pg else _sqlite_time(now)],
    )


def reset(session: Session) -> None:
    """Empty the whole index (before a rebuild); TRUNCATE on PostgreSQL, where DELETE is slow."""
    tables = (PAIRS, STORIES, BANDS, LINKS, SIGNATURES, BLOCKS)
    if _is_pg(session):
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


def briefs(session: Session, ids: Sequence[int]) -> list[Row[Any]]:
    """(article id, url, source name, title, published, fetched) of articles."""
    out: list[Row[Any]] = []
    for chunk in _chunks(sorted(set(ids))):
        stmt = (
            select(Article.id, Article.url, Source.name, Article.title, Article.published_at, Article.fetched_at)
            .outerjoin(Source, Source.id == Article.source_id)
            .where(Article.id.in_(chunk))
        )
        out.extend(session.connection().execute(stmt))
    return out


def story_of(session: Session, article_id: int) -> int | None:
    return session.scalar(select(SIGNATURES.c.story_id).where(SIGNATURES.c.article_id == article_id))


def pairs_among(session: Session, ids: Sequence[int]) -> list[Row[Any]]:
    """Pairs whose first article is one of ``ids`` (a story's members give all its pairs)."""
    out: list[Row[Any]] = []
    for chunk in _chunks(sorted(set(ids))):
        out.extend(session.connection().execute(select(PAIRS).where(PAIRS.c.a_id.in_(chunk))))
    return out


def pairs_of(session: Session, article_id: int) -> list[Row[Any]]:
    """Every pair one article is part of."""
    stmt = select(PAIRS).where(or_(PAIRS.c.a_id == article_id, PAIRS.c.b_id == article_id))
    return list(session.connection().execute(stmt.order_by(PAIRS.c.id)))


def all_pairs(session: Session) -> list[Row[Any]]:
    return list(session.connection().execute(select(PAIRS).order_by(PAIRS.c.a_id, PAIRS.c.b_id)))


def index_sizes(session: Session) -> dict[str, int]:
    """Rows per index table (for status and the benchmarks)."""
    return {
        t.name: int(session.scalar(select(func.count()).select_from(t)) or 0)
        for t in (BANDS, SIGNATURES, PAIRS, STORIES, BLOCKS, LINKS)
    }

