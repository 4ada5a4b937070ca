"""Steps 4–5 (extract, normalize, compress the raw page) off the event loop's core.

The event loop's process does HTTP and the database; extraction, content
hashing and gzip are pure CPU and run in a small pool of worker processes
(``fetch.extract_workers``, 0 = in the loop's own process).  Bytes go in, a
small :class:`Prepared` (the article's column values and the compressed page)
comes out.

Workers are forked from a forkserver that has already imported the extractor,
so a pool starts in milliseconds and shares nothing with the parent's threads
or database connections.  They ignore SIGINT/SIGTERM (the parent decides when
they stop: :meth:`ExtractPool.close` on shutdown) and exit by themselves if
the parent dies.  A crashed worker fails only the pages it held
(``parse_error``); the pool is rebuilt for the next page.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from ingest.normalize import Hints, article_values, raw_page_values
from ingest.outcomes import Outcome
from scrapers import ExtractedArticle, ExtractionFlag, extract

log = logging.getLogger(__name__)

MIN_WORDS = 40
_PRELOAD = ["scrapers", "ingest.normalize", "ingest.extract_pool"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the pipeline needs of one fetched page: a rejection or the rows to store."""

    outcome: Outcome = Outcome.STORED
    error: str | None = None
    values: dict[str, Any] | None = None
    raw: dict[str, Any] | None = None


def reject_reason(article: ExtractedArticle) -> tuple[Outcome, str] | None:
    flags = set(article.flags)
    if ExtractionFlag.PAYWALLED in flags and article.word_count < MIN_WORDS * 3:
        return Outcome.PAYWALLED, "paywall with a short body"
    if not article.text.strip() or article.word_count < MIN_WORDS:
        why = ", ".join(str(f) for f in article.flags) or "no body text"
        return Outcome.NOT_ARTICLE, f"{article.word_count} words ({why})"
    return None


def prepare_page(
    content: bytes, final_url: str, content_type: str | None, hints: Hints, source_id: int | None
) -> Prepared:
    """Extract, judge, normalize and compress one page; never raises for a bad page."""
    try:
        article = extract(content, final_url, content_type=content_type)
    except Exception as exc:  # extract() promises not to raise; a bug is recorded, not fatal
        log.exception("extractor crashed on %s", final_url)
        return Prepared(Outcome.PARSE_ERROR, repr(exc))
    rejected = reject_reason(article)
    if rejected is not None:
        return Prepared(rejected[0], rejected[1])
    try:
        values = article_values(article, hints, source_id)
    except Exception as exc:  # a normalization bug fails this page only
        log.exception("normalizing %s failed", final_url)
        return Prepared(Outcome.PARSE_ERROR, repr(exc))
    return Prepared(values=values, raw=raw_page_values(final_url, content, content_type))


def _init_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent shuts the pool down
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def watch() -> None:  # parent killed hard: do not linger as an orphan
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _mp_context() -> Any:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


class ExtractPool:
    """``workers`` extraction processes, started on first use; ``close()`` stops them."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: Executor | None = None
        self._closed = False

    def _get(self) -> Executor:
        if self._closed:
            raise RuntimeError("ExtractPool used after close()")
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=_mp_context(), initializer=_init_worker, initargs=(os.getpid(),)
            )
        return self._executor

    async def prepare(
        self, content: bytes, final_url: str, content_type: str | None, hints: Hints, source_id: int | None
    ) -> Prepared:
        executor = self._get()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                executor, prepare_page, content, final_url, content_type, hints, source_id
            )
        except BrokenProcessPool as exc:
            log.error("extraction worker died on %s: %s", final_url, exc)
            if self._executor is executor:  # rebuild once for the pages that follow
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
            return Prepared(Outcome.PARSE_ERROR, f"extraction worker died: {exc}")

    def close(self) -> None:
        """Stop the workers (pending pages are cancelled); safe to call twice."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
