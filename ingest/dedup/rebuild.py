"""``ingest dedup rebuild``: recompute signatures, chrome, pairs and stories from the articles.

Needed after a change of the signature shape or of a threshold.  Articles are
replayed in id order, a batch per transaction, through the same
:class:`~ingest.dedup.indexer.Indexer` as the hook, so a rebuild gives the
flags the hook would have given (story ids included).  Memory stays bounded by
the batch size; shingling runs in a process pool.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from db import dedup_queries as dq
from db.session import transaction
from ingest.dedup.indexer import Indexer, Mapper
from ingest.dedup.settings import DedupSettings
from ingest.dedup.text import Analysis

ProgressCallback = Callable[[int, int], None]
"""Called with (articles done, articles in total)."""


@dataclass
class RebuildReport:
    articles: int = 0
    pairs: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0


@contextmanager
def _mapper(workers: int) -> Iterator[Mapper | None]:
    if workers <= 1:
        yield None
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(workers) as pool:

        def mapper(fn: Callable[[str], Analysis], bodies: Sequence[str]) -> Iterable[Analysis]:
            return pool.map(fn, bodies, chunksize=max(1, len(bodies) // (4 * workers)))

        yield mapper


def rebuild(
    sessions: sessionmaker[Session],
    settings: DedupSettings,
    *,
    batch: int = 1000,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> RebuildReport:
    """Empty the index and index every article again, oldest id first."""
    started = time.perf_counter()
    report = RebuildReport()
    with transaction(sessions) as session:
        dq.reset(session)
        total = dq.article_count(session)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    last_id = 0
    with _mapper(workers) as mapper:
        indexer = Indexer(settings, mapper)
        while True:
            with transaction(sessions) as session:
                articles = dq.article_batch(session, last_id, batch)
                if not articles:
                    break
                result = indexer.index(session, articles)
            last_id = articles[-1].id
            report.articles += len(articles)
            report.pairs += len(result.pairs)
            if progress is not None:
                progress(report.articles, total)
    report.seconds = time.perf_counter() - started
    return report
