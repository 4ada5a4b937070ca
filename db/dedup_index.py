"""SQL of the near-duplicate index's write path: chrome counts, signatures, bands, pairs, stories.

A stored batch costs two round trips on PostgreSQL whatever its size (more only
when candidates must be re-read or the chrome guess was wrong):
:func:`write_and_lookup` and :func:`write_pairs`, rows passed as array
literals.  On SQLite the same steps are plain statements run in-process.

Concurrency: :func:`write_and_lookup` takes a transaction-level advisory lock
on PostgreSQL, held until commit, before it reads (inside the function of
migration 0005, so its reads see what the lock's previous holder committed):
two daemons' batches are ordered and the later one meets the earlier one.  On
SQLite the storing transaction already holds the database's write lock.
Callers commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from db.raw import Raw
from db.types import utcnow

T = TypeVar("T")
CHUNK = 5000
"""Bound parameters per IN list: below SQLite's limit (32766)."""
LOCK_KEY = 0x6E657773_64647570  # 'newsddup': the advisory lock of the index on PostgreSQL
_SQLITE_ARMS = 200
"""Band keys per SQLite statement (each key is one arm of a UNION ALL; SQLite allows 500)."""


class BlockCount(NamedTuple):
    """A block's count and day span (a named tuple: cheaper to make than a frozen dataclass)."""

    seen: int
    first_day: int
    last_day: int


BlockRow = tuple[int, int, str, int, int, int, str]
"""(host_key, block_key, host, seen, first_day, last_day, text): sightings a batch adds to a
block's count (``seen``) and day span; an empty host or text is filled by a later sighting."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """An indexed article met by a lookup, with what verification needs of it."""

    article_id: int
    day: int
    shingle_count: int
    minhash: bytes
    chrome: list[int]
    story_id: int | None


@dataclass
class Lookup:
    """What :func:`write_and_lookup` read of the articles indexed before the batch."""

    band_hits: dict[int, list[int]] = field(default_factory=dict)
    """article id -> the band keys it shares with the batch (within the date window)."""
    same_content: list[tuple[int, str]] = field(default_factory=list)
    by_url: dict[str, int] = field(default_factory=dict)
    linking: list[tuple[int, int, str]] = field(default_factory=list)
    """(url key, article id, kind) of articles declaring one of the batch's URLs as original."""
    candidates: dict[int, Candidate] = field(default_factory=dict)
    """Every article met, with its signature."""
    block_counts: dict[tuple[int, int], BlockCount] = field(default_factory=dict)
    """Counts of the batch's blocks (those seen before) as they were before it."""


@dataclass(frozen=True, slots=True)
class BandRows:
    """Band rows as parallel columns (a batch holds 64 per article)."""

    keys: list[int]
    days: list[int]
    article_ids: list[int]
    owners: list[int]
    """1-based position of each row's article among the batch's signature rows."""

    def rows(self) -> list[tuple[int, int, int]]:
        return list(zip(self.keys, self.days, self.article_ids, strict=True))


@dataclass(frozen=True, slots=True)
class IndexRows:
    signatures: Sequence[Sequence[Any]]
    """(article_id, day, scheme, host_key, shingle_count, minhash, chrome, wires)"""
    bands: BandRows
    """Band rows in key order."""
    links: Sequence[tuple[int, int, str]]
    """(url_key, article_id, kind)"""
    blocks: Sequence[BlockRow]
    """Sightings to add, one row per (host key, block key)."""


@dataclass(frozen=True, slots=True)
class LookupKeys:
    hashes: Sequence[str]
    urls: Sequence[str]
    url_keys: Sequence[int]
    bands: Sequence[int]
    first_day: int
    last_day: int
    bucket_cap: int
    scheme: str


@dataclass(frozen=True, slots=True)
class StoryMerge:
    """Put ``loose`` articles and every member of ``stories`` into story ``target``."""

    target: int
    stories: Sequence[int]
    loose: Sequence[int]


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sqlite_time(value: datetime) -> str:
    """How :class:`~db.types.UTCDateTime` stores a datetime in SQLite (naive UTC text)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _ints(values: Iterable[int]) -> str:
    """An integer array as a PostgreSQL array literal: psycopg dumps a list element by element
    in Python, a literal costs one ``str.join`` (so do the other literals below)."""
    return "{" + ",".join(map(str, values)) + "}"


def _texts(values: Iterable[str]) -> str:
    """A text array as a PostgreSQL array literal (every element quoted and escaped)."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _bytes(values: Iterable[bytes]) -> str:
    """A bytea array as a PostgreSQL array literal of hex values."""
    return "{" + ",".join('"\\\\x' + v.hex() + '"' for v in values) + "}"


def _ql(sql: str) -> str:
    return sql.replace("?", "%s")


# --- host chrome ----------------------------------------------------------------


def _sqlite_block_counts(raw: Raw, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], BlockCount]:
    by_host: dict[int, list[int]] = {}
    for host_key, block_key in sorted(set(keys)):
        by_host.setdefault(host_key, []).append(block_key)
    out: dict[tuple[int, int], BlockCount] = {}
    for host_key, block_keys in by_host.items():
        for chunk in _chunks(block_keys):
            for r in raw.rows(
                "SELECT block_key, seen, first_day, last_day FROM dedup_host_blocks "
                f"WHERE host_key = ? AND block_key IN ({','.join('?' * len(chunk))})",
                [host_key, *chunk],
            ):
                out[(host_key, r[0])] = BlockCount(r[1], r[2], r[3])
    return out


_BLOCK_UPSERT = (
    "ON CONFLICT (host_key, block_key) DO UPDATE SET seen = dedup_host_blocks.seen + excluded.seen, "
    "first_day = {least}(dedup_host_blocks.first_day, excluded.first_day), "
    "last_day = {greatest}(dedup_host_blocks.last_day, excluded.last_day), "
    "host = CASE WHEN dedup_host_blocks.host = '' THEN excluded.host ELSE dedup_host_blocks.host END, "
    "text = CASE WHEN dedup_host_blocks.text = '' THEN excluded.text ELSE dedup_host_blocks.text END"
)


def take_back_blocks(raw: Raw, sightings: Mapping[tuple[int, int], int]) -> None:
    """Take sightings back from block counts ((host key, block key) -> how many), in key
    order; a count that reaches zero goes.  The days a block was seen on stay as they are."""
    rows = sorted(sightings.items())
    raw.many("UPDATE dedup_host_blocks SET seen = seen - ? WHERE host_key = ? AND block_key = ?",
             [(n, h, b) for (h, b), n in rows])
    raw.many("DELETE FROM dedup_host_blocks WHERE host_key = ? AND block_key = ? AND seen <= 0",
             [(h, b) for (h, b), _ in rows])


# --- signatures, bands, links, and the lookup -------------------------------------


def write_and_lookup(raw: Raw, rows: IndexRows, keys: LookupKeys) -> Lookup:
    """Take the index lock; read the block counts of the batch's chrome candidates as they
    were, and what the batch's articles meet among the articles indexed before it; write
    the batch's signature, band, link and block-count rows.  PostgreSQL: one call of
    ``dedup_index_batch`` (migration 0005); SQLite: in-process statements, reads first.

    The reads never see the batch's own rows: the indexer pairs a batch's articles
    among themselves in memory.  Band hits come from buckets of the batch's keys dated
    within the window, at most ``bucket_cap`` rows a bucket (the most recent first): a
    bucket that crowded is a phrase many unrelated texts share, and reading it whole
    would make the cost grow with the archive.  Exact copies (content hash) are found
    whatever their date.  Block rows are sorted by key so two writers never take row
    locks in opposite order.
    """
    out = Lookup()
    if raw.pg:
        found = raw.prepared(_PG_INDEX_BATCH, _pg_params(rows, keys))
    else:
        out.block_counts = _sqlite_block_counts(raw, [(r[0], r[1]) for r in rows.blocks])
        found = _sqlite_lookup(raw, keys)
        _sqlite_write(raw, rows)
    for row in found:
        tag, article_id = row[0], row[1]
        if tag == 9:  # PostgreSQL's block counts (see migration 0005)
            out.block_counts[(row[3], row[9][0])] = BlockCount(row[4], row[5], row[8])
            continue
        if tag == 3:  # SQLite's band rows: (3, article id, key)
            out.band_hits.setdefault(article_id, []).append(row[2])
            continue
        out.candidates[article_id] = _candidate(article_id, *row[4:9])
        if tag == 4:  # PostgreSQL's band arm: one row per candidate with its keys
            out.band_hits.setdefault(article_id, []).extend(row[9])
        elif tag == 0:
            out.same_content.append((article_id, row[2]))
        elif tag == 1:
            out.by_url[row[2]] = article_id
        else:
            out.linking.append((row[3], article_id, row[2]))
    if not raw.pg and out.band_hits:
        _sqlite_candidates(raw, out, keys.scheme)
    return out


def links_of(raw: Raw, ids: Sequence[int]) -> list[tuple[int, int, str]]:
    """The links these articles declare: (url key, article id, kind)."""
    out: list[tuple[int, int, str]] = []
    for chunk in _chunks(sorted(set(ids))):
        where, params = raw.any_of("article_id", chunk)
        rows = raw.rows(f"SELECT url_key, article_id, kind FROM dedup_links WHERE {where}", params)
        out.extend((r[0], r[1], r[2]) for r in rows)
    return out


def remove_rows(raw: Raw, rows: IndexRows) -> None:
    """Take back a batch's signature, band and link rows (not its block counts), by key."""
    if raw.pg:
        raw.prepared(_PG_REMOVE, [
            _ints(rows.bands.keys), _ints(rows.bands.days), _ints(rows.bands.article_ids),
            _ints(r[0] for r in rows.links), _ints(r[1] for r in rows.links), _ints(r[0] for r in rows.signatures),
        ])
        return
    raw.many("DELETE FROM dedup_bands WHERE key = ? AND day = ? AND article_id = ?", rows.bands.rows())
    raw.many("DELETE FROM dedup_links WHERE url_key = ? AND article_id = ?", [(r[0], r[1]) for r in rows.links])
    raw.many("DELETE FROM dedup_signatures WHERE article_id = ?", [(r[0],) for r in rows.signatures])


_PG_REMOVE = _ql(
    "WITH w_band AS (DELETE FROM dedup_bands b USING unnest(?::bigint[], ?::int[], ?::int[]) AS t(k, d, a) "
    "WHERE b.key = t.k AND b.day = t.d AND b.article_id = t.a), "
    "w_link AS (DELETE FROM dedup_links l USING unnest(?::bigint[], ?::int[]) AS t(k, a) "
    "WHERE l.url_key = t.k AND l.article_id = t.a) "
    "DELETE FROM dedup_signatures WHERE article_id = ANY(?::int[])"
)


_SIG = "s.day, s.shingle_count, s.minhash, s.chrome, s.story_id"

_PG_INDEX_BATCH = "SELECT * FROM dedup_index_batch(" + ", ".join(["%s"] * 28) + ")"


def _pg_params(rows: IndexRows, keys: LookupKeys) -> list[Any]:
    sigs = rows.signatures
    links = sorted({(url_key, article_id): kind for url_key, article_id, kind in rows.links}.items())
    blocks = sorted(rows.blocks)
    band_keys = _ints(rows.bands.keys)
    wanted = sorted(set(keys.bands))  # for one article the batch's own keys: one literal for both
    return [
        LOCK_KEY, keys.scheme, _ints(r[0] for r in sigs), _ints(r[1] for r in sigs), _ints(r[3] for r in sigs),
        _ints(r[4] for r in sigs), _bytes(r[5] for r in sigs), _texts(json.dumps(r[6]) for r in sigs),
        _texts(json.dumps(r[7]) for r in sigs),
        band_keys, _ints(rows.bands.owners),
        _ints(k[0] for k, _ in links), _ints(k[1] for k, _ in links), _texts(v for _, v in links),
        _ints(r[0] for r in blocks), _ints(r[1] for r in blocks), _texts(r[2] for r in blocks),
        _ints(r[3] for r in blocks), _ints(r[4] for r in blocks), _ints(r[5] for r in blocks),
        _texts(r[6] for r in blocks),
        _texts(sorted(set(keys.hashes))), _texts(sorted(set(keys.urls))), _ints(sorted(set(keys.url_keys))),
        band_keys if wanted == rows.bands.keys else _ints(wanted), keys.first_day, keys.last_day, keys.bucket_cap,
    ]


def _sqlite_lookup(raw: Raw, keys: LookupKeys) -> list[Any]:
    """Rows ``(tag, article id, label, url key, day, shingle count, minhash, chrome, story)``;
    band rows are ``(3, article id, key)``."""
    found: list[Any] = []
    for values, arm in (
        (sorted(set(keys.hashes)), f"SELECT 0, a.id, a.content_hash, NULL, {_SIG} FROM articles a "
         "JOIN dedup_signatures s ON s.article_id = a.id WHERE a.content_hash IN ({})"),
        (sorted(set(keys.urls)), f"SELECT 1, a.id, a.url, NULL, {_SIG} FROM articles a "
         "JOIN dedup_signatures s ON s.article_id = a.id WHERE a.url IN ({})"),
        (sorted(set(keys.url_keys)), f"SELECT 2, l.article_id, l.kind, l.url_key, {_SIG} FROM dedup_links l "
         "JOIN dedup_signatures s ON s.article_id = l.article_id WHERE l.url_key IN ({})"),
    ):
        for chunk in _chunks(values, 1000):
            found.extend(raw.rows(arm.replace("{}", ",".join("?" * len(chunk))), chunk))
    arm = ("SELECT * FROM (SELECT 3, article_id, key FROM dedup_bands WHERE key = ? "
           "AND day BETWEEN ? AND ? ORDER BY day DESC, article_id DESC LIMIT ?)")
    for chunk in _chunks(sorted(set(keys.bands)), _SQLITE_ARMS):
        params = [p for k in chunk for p in (k, keys.first_day, keys.last_day, keys.bucket_cap)]
        found.extend(raw.rows(" UNION ALL ".join([arm] * len(chunk)), params))
    return found


def _sqlite_candidates(raw: Raw, out: Lookup, scheme: str) -> None:
    """Signatures of the band hits (SQLite: a second in-process statement, no round trip)."""
    out.candidates.update(candidates(raw, list(out.band_hits), scheme))
    for article_id in list(out.band_hits):
        if article_id not in out.candidates:
            del out.band_hits[article_id]  # another signature scheme: its bands mean nothing here


def candidates(raw: Raw, ids: Sequence[int], scheme: str) -> dict[int, Candidate]:
    """The signatures of these articles made with ``scheme`` (what verification needs of them)."""
    out: dict[int, Candidate] = {}
    for chunk in _chunks(sorted(set(ids))):
        where, params = raw.any_of("article_id", chunk)
        for r in raw.rows(
            f"SELECT article_id, day, shingle_count, minhash, chrome, story_id FROM dedup_signatures WHERE {where} "
            "AND scheme = ?",
            [*params, scheme],
        ):
            out[r[0]] = _candidate(*r)
    return out


def _candidate(article_id: int, day: int, shingle_count: int, minhash: Any, chrome: Any, story_id: int | None
               ) -> Candidate:
    """A candidate from its signature row's columns (minhash as bytes or a memoryview,
    chrome as JSON text or already a list)."""
    return Candidate(article_id, day, shingle_count, bytes(minhash), list(_loads(chrome) or []), story_id)


def insert_bands(raw: Raw, keys: npt.ArrayLike, days: npt.ArrayLike, ids: npt.ArrayLike) -> None:
    """Write band rows, given in key order (a chunk of a rebuild's held rows): PostgreSQL
    binary ``COPY`` built with NumPy (the rows never become Python objects), SQLite one
    prepared insert."""
    k, d, a = np.asarray(keys, np.int64), np.asarray(days, np.int32), np.asarray(ids, np.int32)
    if raw.pg:
        rows = np.empty(len(k), _COPY_BAND_ROW)
        rows["fields"], rows["key_len"], rows["day_len"], rows["id_len"] = 3, 8, 4, 4
        rows["key"], rows["day"], rows["id"] = k, d, a
        with raw.cursor.copy("COPY dedup_bands (key, day, article_id) FROM STDIN WITH (FORMAT binary)") as copy:
            copy.write(_COPY_HEADER + rows.tobytes() + _COPY_TRAILER)
    else:
        raw.many("INSERT INTO dedup_bands (key, day, article_id) VALUES (?, ?, ?)",
                 list(zip(k.tolist(), d.tolist(), a.tolist(), strict=True)))


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
"""PostgreSQL's binary copy format: signature, flags 0, no header extension."""
_COPY_TRAILER = b"\xff\xff"
_COPY_BAND_ROW = np.dtype([
    ("fields", ">i2"), ("key_len", ">i4"), ("key", ">i8"), ("day_len", ">i4"), ("day", ">i4"),
    ("id_len", ">i4"), ("id", ">i4"),
])
"""One band row in binary copy format: a field count, then each field's length and value (big-endian)."""


def _sqlite_write(raw: Raw, rows: IndexRows) -> None:
    raw.many(
        "INSERT INTO dedup_signatures (article_id, day, scheme, host_key, shingle_count, minhash, chrome, wires) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(*r[:6], json.dumps(r[6]), json.dumps(r[7])) for r in rows.signatures],
    )
    raw.many("INSERT INTO dedup_bands (key, day, article_id) VALUES (?, ?, ?)", rows.bands.rows())
    links = sorted({(url_key, article_id): kind for url_key, article_id, kind in rows.links}.items())
    raw.many(
        "INSERT INTO dedup_links (url_key, article_id, kind) VALUES (?, ?, ?) ON CONFLICT (url_key, article_id) "
        "DO NOTHING",
        [(k[0], k[1], v) for k, v in links],
    )
    raw.many(
        "INSERT INTO dedup_host_blocks (host_key, block_key, host, seen, first_day, last_day, text) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) " + _BLOCK_UPSERT.format(least="MIN", greatest="MAX"),
        sorted(rows.blocks),
    )


# --- pairs and stories ----------------------------------------------------------


def write_pairs(raw: Raw, pairs: Sequence[Mapping[str, Any]], merges: Sequence[StoryMerge]) -> None:
    """Store pairs (``a_id < b_id``; one already stored is left as it is) and apply story merges.

    Each merge moves the members of its stories and its loose articles into the
    target story, sets the target's row (its earliest member among the loose
    articles and the stories' earliest ones, by published date, then first seen,
    then id; its size), and drops the merged stories.  PostgreSQL: one statement.
    """
    if not pairs and not merges:
        return
    now = utcnow()
    if raw.pg:
        raw.prepared(_PG_WRITE_PAIRS, _pg_pair_params(pairs, merges, now))
        return
    stamp = _sqlite_time(now)
    raw.many(
        "INSERT INTO dedup_pairs (a_id, b_id, containment_ab, containment_ba, jaccard, title_similarity, rule, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (a_id, b_id) DO NOTHING",
        [(r["a_id"], r["b_id"], r["containment_ab"], r["containment_ba"], r["jaccard"], r["title_similarity"],
          r["rule"], stamp) for r in pairs],
    )
    for merge in merges:
        others = [s for s in merge.stories if s != merge.target]
        if others:
            raw.run(f"UPDATE dedup_signatures SET story_id = ? WHERE story_id IN ({_marks(others)})",
                    [merge.target, *others])
        if merge.loose:
            raw.run(f"UPDATE dedup_signatures SET story_id = ? WHERE article_id IN ({_marks(merge.loose)})",
                    [merge.target, *merge.loose])
        loose, stories = list(merge.loose) or [0], list(merge.stories) or [0]
        raw.run(
            "INSERT INTO dedup_stories (id, earliest_article_id, size, updated_at) SELECT ?, "
            f"(SELECT a.id FROM articles a WHERE a.id IN ({_marks(loose)}) OR a.id IN (SELECT earliest_article_id "
            f"FROM dedup_stories WHERE id IN ({_marks(stories)})) "
            "ORDER BY COALESCE(a.published_at, a.fetched_at), a.fetched_at, a.id LIMIT 1), "
            "(SELECT count(*) FROM dedup_signatures WHERE story_id = ?), ? WHERE true "
            "ON CONFLICT (id) DO UPDATE SET earliest_article_id = excluded.earliest_article_id, "
            "size = excluded.size, updated_at = excluded.updated_at",
            [merge.target, *loose, *stories, merge.target, stamp],
        )
        if others:
            raw.run(f"DELETE FROM dedup_stories WHERE id IN ({_marks(others)})", others)


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


_PG_WRITE_PAIRS = "SELECT * FROM dedup_write_pairs(" + ", ".join(["%s"] * 13) + ")"


def _pg_pair_params(pairs: Sequence[Mapping[str, Any]], merges: Sequence[StoryMerge], now: datetime) -> list[Any]:
    stories = [(s, m.target) for m in merges for s in m.stories]
    loose = [(a, m.target) for m in merges for a in m.loose]
    return [
        now, _ints(p["a_id"] for p in pairs), _ints(p["b_id"] for p in pairs),
        [p["containment_ab"] for p in pairs], [p["containment_ba"] for p in pairs], [p["jaccard"] for p in pairs],
        [p["title_similarity"] for p in pairs], [p["rule"] for p in pairs],
        _ints(s for s, _ in stories), _ints(t for _, t in stories),
        _ints(a for a, _ in loose), _ints(t for _, t in loose),
        _ints(s for m in merges for s in m.stories if s != m.target),
    ]
