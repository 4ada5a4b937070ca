"""``ingest dedup rebuild``: recompute signatures, chrome, pairs and stories from the articles.

Needed after a change of the signature shape or of a threshold.  Articles are
replayed in id order, a batch per transaction, through the same
:class:`~ingest.dedup.indexer.Indexer` as the hook, so a rebuild gives the
flags the hook would have given (story ids included).  Memory stays bounded by
the batch size and the held band rows (:mod:`ingest.dedup.heldbands`); bodies are read
and signed (:func:`~ingest.dedup.prepared.read`) in a process pool, a batch ahead.

Run it with the daemons stopped: an article a daemon stores meanwhile is indexed by
the daemon, and the rebuild then skips it, but the two do not see each other's band
rows (the daemon's lookup does not read the rows the rebuild still holds, the
rebuild's skips keys it never wrote), so pairs between them can be missed.
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

from db import dedup_queries as dq
from db.dedup_queries import ArticleText
from db.session import transaction
from ingest.dedup.heldbands import DEFAULT_LIMIT, HeldBands
from ingest.dedup.indexer import Indexer, IndexReport, PreparedBatch
from ingest.dedup.prepared import Reading, read
from ingest.dedup.settings import DedupSettings

ProgressCallback = Callable[[int, int], None]
"""Called with (articles done, articles in total)."""


@dataclass
class RebuildReport:
    articles: int = 0
    pairs: int = 0
    seconds: float = 0.0
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

    Band rows are held in memory (about ``held_rows``, a batch's more at most) and written in key order many
    batches at a time (:mod:`ingest.dedup.heldbands`), so the cost of a batch does not
    grow with the archive; a Bloom filter of the keys written so far spares the database
    lookup of buckets the rebuild never wrote.

    An article already indexed again meanwhile (a daemon's hook stored it after the
    reset) is skipped, so a rebuild next to a running daemon neither fails nor indexes
    anything twice.
    """
    started = time.perf_counter()
    report = RebuildReport()
    with transaction(sessions) as session:
        dq.reset(session)
        total = dq.article_count(session)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    held = HeldBands(total * settings.bands, held_rows)
    report.filter_bytes = held.written.size_bytes
    indexer = Indexer(settings, held)

    def write(prepared: PreparedBatch) -> IndexReport:
        with transaction(sessions) as session:
            _tune(session)
            return indexer.write(session, prepared)

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
    report.seconds = time.perf_counter() - started
    return report


def _tune(session: Session) -> None:
    """SQLite: a page cache big enough for a batch's band rows (the default 2 MB thrashes).
    PostgreSQL: no WAL flush at each batch's commit; a rebuild cut short by a crash is run
    again anyway (it starts by emptying the index)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA cache_size = -262144")
    else:
        session.connection().exec_driver_sql("SET LOCAL synchronous_commit = off")
