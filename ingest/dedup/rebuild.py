"""``ingest dedup rebuild``: recompute signatures, chrome, pairs and stories from the articles.

Needed after a change of the signature shape or of a threshold.  Articles are
replayed in id order, a batch per transaction, through the same
:class:`~ingest.dedup.indexer.Indexer` as the hook, so a rebuild gives the
flags the hook would have given (story ids included).  Memory stays bounded by
the batch size and the held band rows (:mod:`ingest.dedup.heldbands`); bodies are read
and signed (:func:`~ingest.dedup.prepared.read`) in a process pool, a batch ahead.

A daemon may run meanwhile.  The articles it stores are indexed by its hook and
skipped by the rebuild, but neither saw all of the other's band rows (the daemon's
lookups miss the rows the rebuild still holds; the rebuild's skip keys it never
wrote), so once every held row is written the rebuild indexes those articles again
(:func:`_catch_up`), with every lookup in the database.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from db import dedup_index as di
from db import dedup_queries as dq
from db.dedup_index import BandRows, IndexRows
from db.dedup_queries import ArticleText
from db.raw import Raw
from db.session import transaction
from ingest.dedup import minhash
from ingest.dedup.boilerplate import BlockSighting, Sightings
from ingest.dedup.heldbands import DEFAULT_LIMIT, HeldBands
from ingest.dedup.indexer import Indexer, IndexReport, PreparedBatch, day_of
from ingest.dedup.prepared import Reading, read
from ingest.dedup.settings import DedupSettings

ProgressCallback = Callable[[int, int], None]
"""Called with (articles done, articles in total)."""


@dataclass
class RebuildReport:
    articles: int = 0
    pairs: int = 0
    seconds: float = 0.0
    reindexed: int = 0
    """Articles a daemon indexed during the rebuild, indexed again at its end."""
    filter_bytes: int = 0
    """Memory of the Bloom filter of band keys (bounded: ~10 bits a key, at most 256 MiB)."""

    @property
    def rate(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0


class _Reader:
    """Reads and signs the next batch's bodies while the current one is indexed: in a process
    pool (``workers`` > 1) the two overlap, so the index's own work is what sets the pace."""

    def __init__(self, pool: Any, settings: DedupSettings) -> None:
        self.pool = pool
        self.read = partial(_read, settings=settings)

    def start(self, articles: Sequence[ArticleText]) -> Callable[[], Sequence[Reading | None]]:
        if self.pool is None or not articles:
            return lambda: ()
        texts = [(a.body, a.title) for a in articles]
        pending = self.pool.map_async(self.read, texts, chunksize=max(1, len(texts) // 8))
        return lambda: pending.get()


def _read(text: tuple[str, str | None], settings: DedupSettings) -> Reading:
    return read(*text, settings)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect garbage less often while the rebuild runs (then as before).

    A rebuild allocates millions of short-lived objects that hold no cycles, while its
    caches keep a few hundred thousand alive: with the default thresholds the collector
    walked those caches over and over, a fifth of the main process's time.  What was
    alive before the rebuild (modules, the application's objects) is frozen out of the
    walks; young collections run every 50,000 allocations instead of every 700; cyclic
    garbage is still collected, so memory stays bounded.
    """
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(_GC_YOUNG, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


_GC_YOUNG = 50_000


@contextmanager
def _pool(workers: int) -> Iterator[Any]:
    if workers <= 1:
        yield None
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(workers) as pool:
        yield pool


def rebuild(
    sessions: sessionmaker[Session],
    settings: DedupSettings,
    *,
    batch: int = 2000,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    held_rows: int = DEFAULT_LIMIT,
) -> RebuildReport:
    """Empty the index and index every article again, oldest id first.

    Band rows are held in memory (about ``held_rows``, a batch's more at most) and written in
    key order many batches at a time (:mod:`ingest.dedup.heldbands`), so the cost of a batch does not
    grow with the archive; a Bloom filter of the keys written so far spares the database
    lookup of buckets the rebuild never wrote.

    An article a daemon's hook indexed meanwhile is skipped in the pass over the
    archive and indexed again at the end (see the module docstring), so a rebuild next
    to a running daemon neither fails nor misses its pairs.
    """
    started = time.perf_counter()
    report = RebuildReport()
    with transaction(sessions) as session:
        dq.reset(session)
        total = dq.article_count(session)
        newest = dq.newest_article_id(session)
    own_late: set[int] = set()  # articles stored after the reset that the rebuild indexed itself
    workers = workers if workers is not None else (os.cpu_count() or 1)
    held = HeldBands(total * settings.bands, held_rows)
    report.filter_bytes = held.written.size_bytes
    indexer = Indexer(settings, held)

    def write(prepared: PreparedBatch) -> IndexReport:
        with transaction(sessions) as session:
            _tune(session)
            result = indexer.write(session, prepared)
        own_late.update(a.id for a in prepared.articles if a.id > newest)
        return result

    def account(result: IndexReport) -> None:
        report.articles += result.articles
        report.pairs += len(result.pairs)
        if progress is not None:
            progress(report.articles, total)

    # three stages overlap: the pool reads and signs the next batch's bodies while the main
    # thread prepares this batch (chrome, rows) and the writer thread writes the one before
    # (the database works outside the GIL); each write starts once the one before committed
    with _fewer_collections():
        with _pool(workers) as pool, ThreadPoolExecutor(1, thread_name_prefix="dedup-rebuild") as writer:
            reader = _Reader(pool, settings)
            with sessions() as session:
                articles = dq.article_batch(session, 0, batch)
            readings = reader.start(articles)
            pending: Future[IndexReport] | None = None
            while articles:
                with sessions() as session:
                    following = dq.article_batch(session, articles[-1].id, batch)
                next_readings = reader.start(following)
                prepared = indexer.prepare(articles, readings())
                if pending is not None:
                    account(pending.result())
                pending = writer.submit(write, prepared)
                articles, readings = following, next_readings
            if pending is not None:
                account(pending.result())
        with transaction(sessions) as session:  # the band rows still held
            _tune(session)
            indexer.flush(session)
        report.reindexed, late_pairs = _catch_up(sessions, settings, newest, own_late, batch)
        report.pairs += late_pairs
    report.seconds = time.perf_counter() - started
    return report


def _catch_up(
    sessions: sessionmaker[Session], settings: DedupSettings, newest: int, own: set[int], batch: int
) -> tuple[int, int]:
    """Index again the articles a daemon indexed during the rebuild (ids above ``newest`` not in
    ``own``), now that all the rebuild's rows are written; returns how many, and the pairs found.

    Each batch's old rows go and its new ones come in one transaction, so a daemon
    indexing meanwhile meets one or the other.  The sightings of their lines that their
    hook counted are taken back first, so the new index counts each line once.
    """
    indexer = Indexer(settings)  # nothing held: every lookup reads the database
    done, pairs, after = 0, 0, newest
    while True:
        with transaction(sessions) as session:
            ids = dq.indexed_after(session, after, batch)
            if not ids:
                return done, pairs
            after = ids[-1]
            theirs = [i for i in ids if i not in own]
            if not theirs:
                continue
            raw = Raw(session)
            articles = dq.articles(session, theirs)
            readings = [read(a.body, a.title, settings) for a in articles]
            di.remove_rows(raw, _stored_rows(raw, theirs, settings))
            di.take_back_blocks(raw, _line_sightings(articles, readings, settings))
            pairs += len(indexer.index(session, articles, readings).pairs)
            done += len(theirs)


def _line_sightings(
    articles: Sequence[ArticleText], readings: Sequence[Reading], settings: DedupSettings
) -> dict[tuple[int, int], int]:
    """How many of these articles hold each (host key, block key): what their hook counted
    (the indexer's own tally of a batch's lines)."""
    lines = Sightings.of([BlockSighting.of(a.url, a.source_id, day_of(a), r.analysis, settings)
                          for a, r in zip(articles, readings, strict=True)])
    return {key: found[2] for key, found in lines.added.items()}


def _stored_rows(raw: Raw, ids: Sequence[int], settings: DedupSettings) -> IndexRows:
    """The signature, band and link rows these indexed articles have (their band keys come
    from their stored signatures, as the indexer made them), so they can be removed by key."""
    bands = sorted(
        (key, c.day, c.article_id)
        for c in di.candidates(raw, ids, settings.scheme).values()
        for key in set(minhash.band_keys(minhash.unpack(c.minhash), settings.rows_per_band))
    )
    return IndexRows(
        signatures=[(i,) for i in ids],
        bands=BandRows([b[0] for b in bands], [b[1] for b in bands], [b[2] for b in bands], []),
        links=di.links_of(raw, ids),
        blocks=[],
    )


def _tune(session: Session) -> None:
    """SQLite: a page cache big enough for a batch's band rows (the default 2 MB thrashes).
    PostgreSQL: no WAL flush at each batch's commit; a rebuild cut short by a crash is run
    again anyway (it starts by emptying the index)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA cache_size = -262144")
    else:
        session.connection().exec_driver_sql("SET LOCAL synchronous_commit = off")
