"""Near-duplicate speed: cost of adding one article with a large archive indexed, index size, rebuild rate.

1. fills the index with ``--articles`` synthetic articles in bulk, in the
   database itself (article rows, signatures, 64 band rows and 20 host line
   counts each, dates spread over ``--days`` days);
2. after reading the index into the OS page cache and an untimed warm-up stream,
   stores four streams of articles through the hook's code and times it
   (chrome, signature, lookup, verification, pair and story writes), removing
   each stream's articles before the next: a mixed stream (``--reprint-share``
   of its articles reprint an earlier one, the rest are stories of their own:
   what a news crawl sees) one article per transaction; a stream of reprints
   only (each story in eight versions, the worst case) one per transaction;
   the mixed stream with its bodies read beforehand (as the crawl's extraction
   workers do); and the mixed stream in transactions of ``--batch`` articles,
   as the crawl's store writer adds them;
3. prints the index size per million articles;
4. with ``--rebuild N`` (on an otherwise empty database): ``dedup rebuild`` over N made-up articles.

Usage: ``python bench/dedup_speed.py [--database URL] [--articles 1000000] [--probes 400]``,
and ``--articles 0 --probes 0 --rebuild 20000`` for the rebuild rate
(a temporary SQLite file by default; give an empty PostgreSQL database to test
that one).  Prints numbers; not a test.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_corpus import OUTLETS, Doc, generate, stream
from machine import MachineWatch
from sqlalchemy import Engine, text

from db import migrate
from db import repository as repo
from db.models import Article
from db.session import make_engine, session_factory, transaction
from ingest.dedup.boilerplate import host_of
from ingest.dedup.hook import article_text
from ingest.dedup.indexer import Indexer
from ingest.dedup.prepared import read
from ingest.dedup.rebuild import rebuild
from ingest.dedup.settings import DedupSettings
from ingest.dedup.text import key64
from ingest.normalize import content_hash
from ingest.pipeline import StoredArticle

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_DAY = (datetime(2024, 10, 1, tzinfo=UTC) - EPOCH).days


LINES = 20
"""Line counts per synthetic article (``dedup_host_blocks``): an AEB body has 24 lines, 90 % of
them short enough to be counted, nearly all seen once."""
HOSTS = 1000
"""Hosts of the synthetic archive; the stream's outlets are the first of them."""
SYNTHETIC_HOST = "synthetic"
"""The ``host`` of the synthetic line counts (a stream's own counts are removed between streams)."""


def _host_keys() -> list[int]:
    """Host keys of the synthetic archive: the stream's outlets first, then made-up ones."""
    outlets = [key64(host_of(f"https://{o}/", None)) for o in OUTLETS]
    return outlets + list(range(HOSTS - len(outlets)))


def populate(engine: Engine, n: int, days: int, bands: int) -> float:
    """Bulk-insert ``n`` synthetic indexed articles inside the database; returns seconds.

    Each has its signature, ``bands`` band rows and ``LINES`` line counts on one of ``HOSTS``
    hosts, so the index's size and the cost of a lookup are what an archive of real
    articles has (the line counts are most of the rows after the bands)."""
    started = time.perf_counter()
    pg = engine.dialect.name == "postgresql"
    span = 2**64 // max(1, n * bands)
    with engine.begin() as conn:
        if pg:
            conn.execute(text("ALTER TABLE dedup_bands DROP CONSTRAINT pk_dedup_bands"))
            conn.execute(text(
                "INSERT INTO articles (id, url, body, content_hash, word_count, authors, provenance, flags, "
                "published_at, fetched_at) SELECT i, 'https://synthetic.example/' || i, 'x', md5(i::text), 1, "
                "'[]', '{}', '[]', timestamptz '1970-01-01 UTC' + ((:first + i % :days) || ' days')::interval, now() "
                "FROM generate_series(1, :n) AS i"
            ), {"n": n, "days": days, "first": FIRST_DAY})
            conn.execute(text(
                "INSERT INTO dedup_signatures (article_id, day, scheme, host_key, shingle_count, minhash, chrome, wires) "
                "SELECT i, :first + i % :days, 'synthetic', i % 1000, 500, decode(repeat('00', 512), 'hex'), '[]', '[]' "
                "FROM generate_series(1, :n) AS i"
            ), {"n": n, "days": days, "first": FIRST_DAY})
            conn.execute(text(
                "INSERT INTO dedup_bands (key, day, article_id) "
                "SELECT (-9223372036854775807 + ((i - 1)::numeric * :bands + b) * :span)::bigint, :first + i % :days, i "
                "FROM generate_series(1, :n) AS i, generate_series(0, :bands - 1) AS b"
            ), {"n": n, "days": days, "first": FIRST_DAY, "bands": bands, "span": span})
            conn.execute(text("ALTER TABLE dedup_bands ADD CONSTRAINT pk_dedup_bands PRIMARY KEY (key, day, article_id)"))
            conn.execute(text(
                "INSERT INTO dedup_host_blocks (host_key, block_key, host, seen, first_day, last_day, text) "
                "SELECT (CAST(:hosts AS bigint[]))[i % :nh + 1], hashint8extended(i * :lines + j, 7), :synthetic, 1, "
                ":first + i % :days, :first + i % :days, '' FROM generate_series(1, :n) AS i, "
                "generate_series(0, :lines - 1) AS j ON CONFLICT DO NOTHING"
            ), {"n": n, "days": days, "first": FIRST_DAY, "hosts": _host_keys(), "nh": HOSTS, "lines": LINES,
                "synthetic": SYNTHETIC_HOST})
            conn.execute(text("SELECT setval(pg_get_serial_sequence('articles', 'id'), :n)"), {"n": n})
    if not pg:
        _populate_sqlite(engine, n, days, bands, span)
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def _populate_sqlite(engine: Engine, n: int, days: int, bands: int, span: int) -> None:
    """Like the PostgreSQL branch, without a journal (a bulk load into a fresh file)."""
    engine.dispose()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000"):
            cur.execute(f"PRAGMA {pragma}")
        params = {"n": n, "days": days, "first": FIRST_DAY, "bands": bands, "span": span, "rows": n * bands}
        series = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
        cur.execute(
            series + "INSERT INTO articles (id, url, body, content_hash, word_count, authors, provenance, flags, "
            "published_at, fetched_at) SELECT i, 'https://synthetic.example/' || i, 'x', hex(i), 1, '[]', '{}', "
            "'[]', datetime((:first + i % :days) * 86400, 'unixepoch'), datetime('now') FROM s",
            params,
        )
        cur.execute(
            series + "INSERT INTO dedup_signatures (article_id, day, scheme, host_key, shingle_count, minhash, "
            "chrome, wires) SELECT i, :first + i % :days, 'synthetic', i % 1000, 500, zeroblob(512), '[]', '[]' FROM s",
            params,
        )
        # keys ascending (fast appends to the WITHOUT ROWID tree), spread over the whole range
        cur.execute(
            "WITH RECURSIVE s(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM s WHERE j < :rows - 1) "
            "INSERT INTO dedup_bands (key, day, article_id) "
            "SELECT -9223372036854775807 + j * :span, :first + (j / :bands + 1) % :days, j / :bands + 1 FROM s",
            params,
        )
        hosts = _host_keys()
        cur.execute("CREATE TEMP TABLE synthetic_hosts (n INTEGER PRIMARY KEY, host_key INTEGER)")
        cur.executemany("INSERT INTO synthetic_hosts VALUES (?, ?)", list(enumerate(hosts)))
        cur.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n), "
            "l(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM l WHERE j < :lines) "
            "INSERT OR IGNORE INTO dedup_host_blocks (host_key, block_key, host, seen, first_day, last_day, text) "
            "SELECT h.host_key, random(), :synthetic, 1, :first + i % :days, :first + i % :days, '' "
            "FROM s JOIN synthetic_hosts h ON h.n = i % :nh CROSS JOIN l",
            {**params, "nh": len(hosts), "lines": LINES, "synthetic": SYNTHETIC_HOST},
        )
        cur.execute("ANALYZE")
        raw.commit()
        cur.execute("PRAGMA journal_mode=WAL")
    finally:
        raw.close()


def prewarm(engine: Engine) -> str:
    """Read the index into the OS page cache, as a running service's hot tables are: a cold
    cache (after a reboot, or on a machine short of memory) measures the disk instead."""
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            try:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            except Exception as exc:  # not a superuser, or contrib not installed
                return f"index not prewarmed ({str(exc).splitlines()[0]})"
            names = ["pk_dedup_bands", "dedup_signatures", "pk_dedup_signatures", "dedup_host_blocks", "articles"]
            pages = sum(int(conn.execute(text("SELECT pg_prewarm(:r, 'read')"), {"r": n}).scalar_one()) for n in names)
        size = pages * 8192
    else:
        path = engine.url.database or ""
        size = 0
        with open(path, "rb") as f:
            while chunk := f.read(1 << 24):
                size += len(chunk)
    return f"prewarmed {size / 2**20:,.0f} MiB into the OS page cache in {time.perf_counter() - started:.1f}s"


def index_bytes(engine: Engine) -> dict[str, int]:
    names = ["dedup_bands", "dedup_signatures", "dedup_pairs", "dedup_stories", "dedup_host_blocks", "dedup_links"]
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return {n: int(conn.execute(text("SELECT pg_total_relation_size(:t)"), {"t": n}).scalar_one()) for n in names}
        try:
            rows = conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")).all()
        except Exception:
            return {}
        sizes = {r[0]: int(r[1]) for r in rows}
        out = {n: sizes.get(n, 0) for n in names}
        for name, size in sizes.items():  # indexes of those tables
            for table in names:
                if name.startswith(f"ix_{table}") or name.startswith(f"sqlite_autoindex_{table}"):
                    out[table] += size
        return out


@dataclass
class Timing:
    """Per transaction: the hook's wall and CPU ms, the whole transaction's wall ms."""

    hook_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    articles: int = 0
    pairs: int = 0


def store_stream(
    engine: Engine, settings: DedupSettings, docs: list[Doc], batch: int, pre_read: bool = False
) -> Timing:
    """Store ``docs`` in publication order, ``batch`` articles per transaction (as the crawl's
    store writer does), each batch indexed by the hook's code; times every transaction.

    CPU time is printed too because a shared machine's wall clock also counts time
    spent waiting for a core (on SQLite all the work is in this process).
    ``pre_read``: the bodies are read for the index beforehand, as the crawl's
    extraction workers do in their own processes.
    """
    sessions = session_factory(engine)
    indexer = Indexer(settings)
    with transaction(sessions) as session:
        sources = {o: repo.get_or_create_source(session, o).id for o in {d.outlet for d in docs}}
    out = Timing()
    for start in range(0, len(docs), batch):
        values = [_values(d, sources[d.outlet]) for d in docs[start : start + batch]]
        readings = [read(v["body"], v["title"], settings) for v in values] if pre_read else []
        t0 = time.perf_counter()
        with transaction(sessions) as session:
            stored = []
            for v in values:
                article_id = repo.insert_article(session, v, None)
                assert article_id is not None
                stored.append(StoredArticle(article_id, v))
            t1, c1 = time.perf_counter(), time.process_time()
            report = indexer.index(session, [article_text(a) for a in stored], readings)
            t2, c2 = time.perf_counter(), time.process_time()
        t3 = time.perf_counter()
        out.articles += len(stored)
        out.pairs += len(report.pairs)
        out.hook_ms.append(1000 * (t2 - t1))
        out.cpu_ms.append(1000 * (c2 - c1))
        out.total_ms.append(1000 * (t3 - t0))
    return out


def _values(doc: Doc, source_id: int) -> dict[str, Any]:
    when = datetime.fromisoformat(doc.published_at)
    return {
        "source_id": source_id, "url": doc.url, "fetched_url": doc.url, "title": doc.title, "authors": [],
        "published_at": when, "fetched_at": when, "body": doc.text, "content_hash": content_hash(doc.text),
        "word_count": len(doc.text.split()), "provenance": {}, "flags": [],
    }


def remove_probes(engine: Engine, first_id: int) -> None:
    """Delete the articles a stream stored (and their index rows, and the line counts: the next
    stream repeats texts, whose lines would otherwise turn into chrome), so the next stream
    meets the same archive."""
    with engine.begin() as conn:
        for host_key in _host_keys()[: len(OUTLETS)]:  # the stream's hosts: through the primary key
            conn.execute(text("DELETE FROM dedup_host_blocks WHERE host_key = :h AND host <> :s"),
                         {"h": host_key, "s": SYNTHETIC_HOST})
        conn.execute(text("DELETE FROM dedup_bands WHERE article_id >= :a"), {"a": first_id})
        conn.execute(text("DELETE FROM dedup_stories WHERE id >= :a"), {"a": first_id})
        conn.execute(text("DELETE FROM articles WHERE id >= :a"), {"a": first_id})
    if engine.dialect.name == "postgresql":
        # The next stream writes the same band keys: without a vacuum every lookup of them
        # would step over this stream's dead index entries (a heap visit each), which a
        # daemon's archive, where nothing is deleted, does not have.  INDEX_CLEANUP ON: a
        # plain VACUUM leaves the index entries in place when few of a table's pages
        # hold dead rows (PostgreSQL 14+), as here.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("dedup_bands", "dedup_signatures", "dedup_host_blocks", "dedup_stories", "articles"):
                conn.execute(text(f"VACUUM (INDEX_CLEANUP ON) {table}"))


def next_article_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) + 1 FROM articles")).scalar_one())


def report_timing(label: str, t: Timing, archive: int) -> None:
    per = [h / b for h, b in zip(t.hook_ms, _batch_sizes(t), strict=True)]
    print(f"{label}: {t.articles} articles in {len(t.hook_ms)} transactions ({t.pairs} pairs flagged), "
          f"{archive:,} already indexed")
    print(f"  index cost per article: median {statistics.median(per):.2f} ms, p90 {pct(per, 0.9):.2f} ms, "
          f"p99 {pct(per, 0.99):.2f} ms, max {max(per):.2f} ms (CPU of this process: median "
          f"{statistics.median([c / b for c, b in zip(t.cpu_ms, _batch_sizes(t), strict=True)]):.2f} ms)")
    print(f"  whole store transaction incl. article rows and commit: median {statistics.median(t.total_ms):.2f} ms, "
          f"p99 {pct(t.total_ms, 0.99):.2f} ms")


def _batch_sizes(t: Timing) -> list[int]:
    n = len(t.hook_ms)
    size = -(-t.articles // n)
    return [size] * (n - 1) + [t.articles - size * (n - 1)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def made_up_articles(engine: Engine, n: int) -> None:
    """``n`` articles of ~600 made-up words (Zipf-like vocabulary), for the rebuild rate."""
    rng = random.Random(5)
    vocab = ["".join(rng.choice("aeioubcdfghklmnprstvz") for _ in range(rng.randint(2, 9))) for _ in range(20000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    sessions = session_factory(engine)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    batch = []
    for i in range(n):
        words = rng.choices(vocab, weights, k=rng.randint(300, 900))
        body = "\n\n".join(" ".join(words[j : j + 60]) for j in range(0, len(words), 60))
        when = start + timedelta(minutes=7 * i)
        batch.append({
            "url": f"https://made-up.example/{i}", "fetched_url": None, "title": " ".join(words[:8]), "authors": [],
            "published_at": when, "fetched_at": when, "body": body, "content_hash": content_hash(body),
            "word_count": len(words), "provenance": {}, "flags": [], "source_id": None,
        })
        if len(batch) == 2000 or i == n - 1:
            with transaction(sessions) as session:
                session.execute(Article.__table__.insert(), batch)
            batch = []


def settle(engine: Engine) -> None:
    """PostgreSQL: vacuum, analyse and checkpoint the articles just written, so the rebuild is
    timed on an archive at rest (as a real one is, long vacuumed), not beside the autovacuum
    and checkpoint that this bulk insert would set off."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE articles"))
        conn.execute(text("CHECKPOINT"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="An empty database URL (default: a temporary SQLite file).")
    parser.add_argument("--articles", type=int, default=1_000_000, help="Synthetic articles indexed first.")
    parser.add_argument("--days", type=int, default=365, help="Days the synthetic articles are spread over.")
    parser.add_argument("--probes", type=int, default=400, help="Articles stored and timed per stream.")
    parser.add_argument("--reprint-share", type=float, default=0.3,
                        help="Share of the mixed stream's articles that reprint an earlier one.")
    parser.add_argument("--batch", type=int, default=50, help="Articles per transaction in the batched stream.")
    parser.add_argument("--reuse", action="store_true",
                        help="The database already holds the synthetic archive (a copy of an earlier run's, "
                        "e.g. CREATE DATABASE ... TEMPLATE ...): skip filling it.")
    parser.add_argument("--rebuild", type=int, default=0, help="Made-up articles for the rebuild rate (0: skip).")
    parser.add_argument("--workers", type=int, default=None, help="Rebuild analysis processes (default: CPUs).")
    parser.add_argument("--rebuild-batch", type=int, default=2000, help="Articles per rebuild transaction.")
    args = parser.parse_args()
    settings = DedupSettings()
    watch = MachineWatch()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(args.database or f"sqlite:///{tmp}/speed.db")
        migrate.upgrade(engine)
        print(f"database: {engine.dialect.name}; settings: window {settings.window_days} days, "
              f"{settings.bands} bands x {settings.rows_per_band} rows, {settings.shingle_words}-word shingles")
        if args.rebuild and (args.articles or args.probes):
            raise SystemExit("--rebuild needs --articles 0 --probes 0 (it rebuilds every article)")
        if args.articles and args.reuse:
            print(f"using the {args.articles:,} synthetic articles already in the database")
            remove_probes(engine, args.articles + 1)  # an earlier run's last stream
        elif args.articles:
            seconds = populate(engine, args.articles, args.days, settings.bands)
            print(f"indexed {args.articles:,} synthetic articles ({args.articles * settings.bands:,} band rows) "
                  f"in {seconds:.0f}s, spread over {args.days} days")
        if args.articles and args.probes:
            print(prewarm(engine))
            # untimed: the database's own caches and this process's first statements warm up
            first = next_article_id(engine)
            store_stream(engine, settings, stream(11, 100, args.reprint_share), 1)
            remove_probes(engine, first)
        stored = 0
        if args.probes:
            streams = [
                (f"mixed stream (~{args.reprint_share:.0%} reprints), one article per transaction",
                 stream(7, args.probes, args.reprint_share), 1),
                ("reprints only (every story in 8 versions), one article per transaction",
                 sorted(generate(7, max(1, args.probes // 8)), key=lambda d: d.published_at)[: args.probes], 1),
                ("mixed stream, one article per transaction, bodies read beforehand (by the crawl's "
                 "extraction workers)", stream(7, args.probes, args.reprint_share), 1),
                (f"mixed stream, {args.batch} articles per transaction (the crawl's store writer)",
                 stream(7, args.probes, args.reprint_share), args.batch),
            ]
            for label, docs, batch in streams:
                first = next_article_id(engine)
                timing = store_stream(engine, settings, docs, batch, pre_read="beforehand" in label)
                report_timing(label, timing, args.articles)
                stored = timing.articles
                if (label, docs, batch) != streams[-1]:
                    remove_probes(engine, first)
        sizes = index_bytes(engine)
        n = max(1, args.articles + stored)
        if sizes and n > 1:
            total_bytes = sum(sizes.values())
            print(f"index size: {total_bytes / 2**20:.0f} MiB for {n:,} articles = "
                  f"{total_bytes / n * 1e6 / 2**30:.2f} GiB per million articles")
            for name, size in sizes.items():
                print(f"  {name:20s} {size / n * 1e6 / 2**30:7.3f} GiB per million")
        if args.rebuild:
            made_up_articles(engine, args.rebuild)
            settle(engine)
            report = rebuild(session_factory(engine), settings, workers=args.workers, batch=args.rebuild_batch)
            print(f"rebuild: {report.articles:,} articles in {report.seconds:.1f}s = "
                  f"{report.rate:,.0f} articles/s, {report.pairs} pairs; key filter {report.filter_bytes / 2**20:.1f} MiB")
        engine.dispose()
    print(watch.line())


if __name__ == "__main__":
    main()
