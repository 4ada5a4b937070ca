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




# --- host chrome ----------------------------------------------------------------


def block_counts(
    session: Session, keys: Iterable[tuple[int, int]], *, lock: bool = False
) -> dict[tuple[int, int], BlockCount]:
    """Current counts of (host key, block key) pairs that have been seen.

    With ``lock``, the same statement takes the index lock on PostgreSQL (see
    the transaction's advisory lock (PostgreSQL)): one round trip instead of two.
    """
    wanted = sorted(set(keys))
    raw = _Raw(session)
    out: dict[tuple[int, int], BlockCount] = {}
    if raw.pg:
        sql = (
            "SELECT b.host_key, b.block_key, b.seen, b.first_day, b.last_day FROM dedup_host_blocks b "
            "JOIN unnest(?::bigint[], ?::bigint[]) AS k(h, bk) ON b.host_key = k.h AND b.block_key = k.bk"
        )
        params: list[Any] = [[k[0] for k in wanted], [k[1] for k in wanted]]
        if lock:
            # a volatile function in a FROM subquery is evaluated even though its value is unused
            sql = ("SELECT NULL::bigint, NULL::bigint, NULL::int, NULL::int, NULL::int "
                   "FROM (SELECT pg_advisory_xact_lock(?)) AS l UNION ALL " + sql)
            params.insert(0, LOCK_KEY)
        for r in raw.rows(sql, params):
            if r[0] is not None:
                out[(r[0], r[1])] = BlockCount(r[2], r[3], r[4])
        return out
    by_host: dict[int, list[int]] = {}
    for host_key, block_key in wanted:
        by_host.setdefault(host_key, []).append(block_key)
    for host_key, block_keys in by_host.items():
        for chunk in _chunks(block_keys):
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
    update = (
        "ON CONFLICT (host_key, block_key) DO UPDATE SET seen = dedup_host_blocks.seen + excluded.seen, "
        "first_day = {least}(dedup_host_blocks.first_day, excluded.first_day), "
        "last_day = {greatest}(dedup_host_blocks.last_day, excluded.last_day)"
    )
    columns = ("host_key", "block_key", "host", "seen", "first_day", "last_day", "text")
    if raw.pg:  # one statement: the rows as arrays (keys are unique, as one upsert needs)
        raw.run(
            "INSERT INTO dedup_host_blocks (host_key, block_key, host, seen, first_day, last_day, text) "
            "SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::int[], ?::int[], ?::int[], ?::text[]) "
            + update.format(least="LEAST", greatest="GREATEST"),
            [[r[c] for r in ordered] for c in columns],
        )
        return
    raw.many(
        "INSERT INTO dedup_host_blocks (host_key, block_key, host, seen, first_day, last_day, text) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) " + update.format(least="MIN", greatest="MAX"),
        [tuple(r[c] for c in columns) for r in ordered],
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





def write_index(
    session: Session,
    signatures_: Sequence[Mapping[str, Any]],
    bands: Sequence[tuple[int, int, int]],
    links: Sequence[Mapping[str, Any]],
) -> None:
    """Signature rows, band rows (key, day, article id) and link rows of new articles.

    PostgreSQL: one statement (data-modifying CTEs over arrays), whatever the
    number of rows.  SQLite: one prepared statement per table (in-process, no round trips).
    """
    raw = _Raw(session)
    sig_rows = [
        (r["article_id"], r["day"], r["scheme"], r["host_key"], r["shingle_count"], r["minhash"],
         json.dumps(r["chrome"]), json.dumps(r["wires"]), r["story_id"])
        for r in signatures_
    ]
    link_rows = sorted({(r["url_key"], r["article_id"]): r["kind"] for r in links}.items())
    if raw.pg:
        parts: list[str] = []
        params: list[Any] = []
        if sig_rows:
            parts.append(
                "INSERT INTO dedup_signatures (article_id, day, scheme, host_key, shingle_count, minhash, chrome, "
                "wires, story_id) SELECT a, d, sc, h, n, m, c::json, w::json, st FROM unnest(?::int[], ?::int[], "
                "?::text[], ?::bigint[], ?::int[], ?::bytea[], ?::text[], ?::text[], ?::int[]) "
                "AS t(a, d, sc, h, n, m, c, w, st)"
            )
            params.extend([list(col) for col in zip(*sig_rows, strict=True)])
        if bands:
            parts.append("INSERT INTO dedup_bands (key, day, article_id) SELECT * FROM unnest(?::bigint[], ?::int[], ?::int[])")
            params.extend([list(col) for col in zip(*bands, strict=True)])
        if link_rows:
            parts.append(
                "INSERT INTO dedup_links (url_key, article_id, kind) SELECT * FROM unnest(?::bigint[], ?::int[], "
                "?::text[]) ON CONFLICT (url_key, article_id) DO NOTHING"
            )
            params.extend([[k[0] for k, _ in link_rows], [k[1] for k, _ in link_rows], [v for _, v in link_rows]])
        if not parts:
            return
        sql = parts[-1]
        if len(parts) > 1:
            sql = "WITH " + ", ".join(f"w{i} AS ({p})" for i, p in enumerate(parts[:-1])) + " " + sql
        raw.run(sql, params)
        return
    raw.many(
        "INSERT INTO dedup_signatures (article_id, day, scheme, host_key, shingle_count, minhash, chrome, wires, "
        "story_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        sig_rows,
    )
    raw.many("INSERT INTO dedup_bands (key, day, article_id) VALUES (?, ?, ?)", bands)
    raw.many(
        "INSERT INTO dedup_links (url_key, article_id, kind) VALUES (?, ?, ?) ON CONFLICT (url_key, article_id) DO NOTHING",
        [(k[0], k[1], v) for k, v in link_rows],
    )


@dataclass
class Lookup:
    """Everything the candidate step reads, from one statement (see :func:`lookup`)."""

    same_content: list[tuple[int, str]]
    by_url: dict[str, int]
    linking: list[tuple[int, int, str]]
    bands: list[tuple[int, int, int]]


_SQLITE_ARMS = 200
"""Band keys per SQLite statement (each key is one arm of a UNION ALL; SQLite allows 500)."""


def lookup(
    session: Session,
    hashes: Sequence[str],
    urls: Sequence[str],
    url_keys: Sequence[int],
    keys: Sequence[int],
    first_day: int,
    last_day: int,
    bucket_cap: int,
) -> Lookup:
    """Exact copies (content hash, no window), indexed articles at declared URLs, articles declaring
    one of ``url_keys`` as their original, and band rows of ``keys`` dated in the window, in one
    round trip (SQLite: one statement per 200 band keys).

    At most ``bucket_cap`` rows of one bucket are read, the most recent first: a bucket
    that crowded is a phrase many unrelated texts share (one band of 64), and reading it
    whole would make the cost grow with the archive.
    """
    raw = _Raw(session)
    out = Lookup([], {}, [], [])
    hashes, urls, url_keys, keys = sorted(set(hashes)), sorted(set(urls)), sorted(set(url_keys)), sorted(set(keys))
    arms: list[str] = []
    params: list[Any] = []
    if raw.pg:
        if hashes:
            arms.append("SELECT 0, a.id, a.content_hash, NULL::bigint, NULL::int FROM articles a "
                        "JOIN dedup_signatures s ON s.article_id = a.id WHERE a.content_hash = ANY(?::text[])")
            params.append(list(hashes))
        if urls:
            arms.append("SELECT 1, a.id, a.url, NULL::bigint, NULL::int FROM articles a "
                        "JOIN dedup_signatures s ON s.article_id = a.id WHERE a.url = ANY(?::text[])")
            params.append(list(urls))
        if url_keys:
            arms.append("SELECT 2, article_id, kind, url_key, NULL::int FROM dedup_links WHERE url_key = ANY(?::bigint[])")
            params.append(list(url_keys))
        if keys:
            arms.append(
                "SELECT 3, b.article_id, NULL::text, k.key, b.day FROM unnest(?::bigint[]) AS k(key) "
                "CROSS JOIN LATERAL (SELECT day, article_id FROM dedup_bands WHERE key = k.key AND day BETWEEN ? AND ? "
                "ORDER BY day DESC, article_id DESC LIMIT ?) AS b"
            )
            params.extend([list(keys), first_day, last_day, bucket_cap])
        statements = [(" UNION ALL ".join(arms), params)] if arms else []
    else:
        for values, arm in (
            (hashes, "SELECT 0, a.id, a.content_hash, NULL, NULL FROM articles a "
             "JOIN dedup_signatures s ON s.article_id = a.id WHERE a.content_hash IN ({})"),
            (urls, "SELECT 1, a.id, a.url, NULL, NULL FROM articles a "
             "JOIN dedup_signatures s ON s.article_id = a.id WHERE a.url IN ({})"),
            (url_keys, "SELECT 2, article_id, kind, url_key, NULL FROM dedup_links WHERE url_key IN ({})"),
        ):
            for chunk in _chunks(values, 1000):
                arms.append(arm.format(",".join("?" * len(chunk))))
                params.extend(chunk)
        band_arm = ("SELECT * FROM (SELECT 3, article_id, NULL, key, day FROM dedup_bands WHERE key = ? "
                    "AND day BETWEEN ? AND ? ORDER BY day DESC, article_id DESC LIMIT ?)")
        statements = []
        for chunk in _chunks(keys, _SQLITE_ARMS):
            statements.append((" UNION ALL ".join([*arms, *[band_arm] * len(chunk)]),
                               [*params, *(p for k in chunk for p in (k, first_day, last_day, bucket_cap))]))
            arms, params = [], []
        if arms:
            statements.append((" UNION ALL ".join(arms), params))
    for sql, values in statements:
        for tag, article_id, label, key, day in raw.rows(sql, values):
            if tag == 3:
                out.bands.append((key, day, article_id))
            elif tag == 0:
                out.same_content.append((article_id, label))
            elif tag == 1:
                out.by_url[label] = article_id
            else:
                out.linking.append((key, article_id, label))
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




def pairs_among(session: Session, ids: Sequence[int]) -> list[Row[Any]]:
    """Pairs whose first article is one of ``ids`` (a story's members give all its pairs)."""
    out: list[Row[Any]] = []
    for chunk in _chunks(sorted(set(ids))):
        out.extend(session.connection().execute(select(PAIRS).where(PAIRS.c.a_id.in_(chunk))))
    return out
