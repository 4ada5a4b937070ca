"""Building a crawl context and running crawls: shared by ``ingest fetch`` and the daemon."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager

from ingest.config import Config, SourceConfig
from ingest.extract_pool import ExtractPool
from ingest.fetching import Fetcher
from ingest.pipeline import (
    ArticleHook,
    CrawlContext,
    ProgressHook,
    RunSummary,
    crawl_source,
    crawl_urls,
)
from ingest.services import Database, open_database, worker_name


def article_hooks(config: Config, database: Database) -> list[ArticleHook]:
    """Hooks run in each article's storing transaction (near-duplicate indexing)."""
    try:
        from ingest.dedup.hook import make_hook
    except ImportError:
        return []
    return [make_hook(config, database.engine)]


@contextmanager
def crawl_context(config: Config, *, worker: str | None = None) -> Iterator[CrawlContext]:
    """A context without an open HTTP client (for imports); closed on exit.

    Extraction runs in ``fetch.extract_workers`` processes, started on the
    first page and stopped on exit (daemon shutdown included).
    """
    database = open_database(config)
    workers = config.fetch.extract_workers
    extractor = ExtractPool(workers) if workers > 0 else None
    try:
        yield CrawlContext(
            config=config,
            sessions=database.sessions,
            fetcher=Fetcher(config.fetch),
            worker=worker or worker_name(),
            article_hooks=article_hooks(config, database),
            extractor=extractor,
        )
    finally:
        try:
            if extractor is not None:
                extractor.close()
        finally:
            database.close()


@asynccontextmanager
async def live_context(config: Config, *, worker: str | None = None) -> AsyncIterator[CrawlContext]:
    """A context with an open HTTP client, for crawling."""
    with crawl_context(config, worker=worker) as ctx:
        async with ctx.fetcher:
            yield ctx


async def run_crawls(
    config: Config,
    sources: Sequence[SourceConfig],
    urls: Sequence[str],
    progress: ProgressHook | None = None,
) -> list[RunSummary]:
    """Crawl the given sources concurrently (each host stays polite), then the given URLs."""
    async with live_context(config) as ctx:
        summaries = list(
            await asyncio.gather(*(crawl_source(ctx, s, trigger="manual", progress=progress) for s in sources))
        )
        if urls:
            summaries.append(await crawl_urls(ctx, urls, progress=progress))
    return summaries
