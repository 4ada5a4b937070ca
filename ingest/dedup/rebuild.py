"""``ingest dedup rebuild``: recompute signatures, chrome, pairs and stories from the articles.

Needed after a change of the signature shape or of a threshold.  Articles are
replayed in id order, a batch per transaction, through the same
:class:`~ingest.dedup.indexer.Indexer` as the hook, so a rebuild gives the
flags the hook would have given (story ids included).  Memory stays bounded by
the batch size; bodies are read (:func:`~ingest.dedup.text.analyze`) in a process
pool, a batch ahead.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from db import dedup_queries as dq
from db.dedup_queries import ArticleText
from db.session import transaction
from ingest.dedup.indexer import Indexer, IndexReport, PreparedBatch
from ingest.dedup.keyfilter import KeyFilter
from ingest.dedup.settings import DedupSettings
from ingest.dedup.text import Analysis, analyze

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


class _Analyzer:
    """Reads the next batch's bodies while the current one is indexed: in a process pool
    (``workers`` > 1) the two overlap, so the index's own work is what sets the pace."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def start(self, articles: Sequence[ArticleText]) -> Callable[[], Sequence[Analysis | None]]:
        bodies = [a.body for a in articles]
        if self.pool is None or not bodies:
            return lambda: ()
        pending = self.pool.map_async(analyze, bodies, chunksize=max(1, len(bodies) // 8))
        return lambda: pending.get()


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
) -> RebuildReport:
    """Empty the index and index every article again, oldest id first.

    The rebuild writes every band row itself, so a Bloom filter of the keys written
    so far (:class:`~ingest.dedup.keyfilter.KeyFilter`, ~10 bits a key) spares the
    lookup of buckets no earlier article has.

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
    key_filter = KeyFilter(total * settings.bands)
    report.filter_bytes = key_filter.size_bytes
    indexer = Indexer(settings, key_filter)

    def write(prepared: PreparedBatch) -> IndexReport:
        with transaction(sessions) as session:
            _tune(session)
            return indexer.write(session, prepared)

    def account(result: IndexReport) -> None:
        report.articles += result.articles
        report.pairs += len(result.pairs)
        if progress is not None:
            progress(report.articles, total)

    # three stages overlap: bodies are analysed in the pool a batch ahead, the main thread
    # signs a batch while the writer thread writes the one before (the database works
    # outside the GIL), and each write starts only once the one before it has committed
    with _pool(workers) as pool, ThreadPoolExecutor(1, thread_name_prefix="dedup-rebuild") as writer:
        analyzer = _Analyzer(pool)
        with sessions() as session:
            articles = dq.article_batch(session, 0, batch)
        analyses = analyzer.start(articles)
        pending: Future[IndexReport] | None = None
        while articles:
            prepared = indexer.prepare(articles, analyses())
            with sessions() as session:
                following = dq.article_batch(session, articles[-1].id, batch)
            next_analyses = analyzer.start(following)
            if pending is not None:
                account(pending.result())
            pending = writer.submit(write, prepared)
            articles, analyses = following, next_analyses
        if pending is not None:
            account(pending.result())
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
