"""The crawl pipeline — one code path for the daemon and for ``ingest fetch``.

Steps for one source:

1. discover candidate URLs (feeds, listing pages) — :mod:`ingest.discovery`
2. drop URLs already stored (``duplicate_url``, no request made)
3. fetch each new URL politely — :mod:`ingest.fetching`
4. extract the article — :func:`scrapers.extract`
5. normalize it — :mod:`ingest.normalize`
6. store it with its raw page in one transaction, then run the article hooks
   (near-duplicate indexing) in that same transaction — :mod:`db.repository`;
   crawls hand steps 5–6 to a :class:`StoreWriter` thread that writes a batch
   of articles per transaction while the loop keeps fetching
7. record every attempt's outcome and the run's counts

A failing page is recorded with its outcome and never stops the run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db import repository as repo
from db.session import transaction
from ingest.attempts import AttemptRecord
from ingest.config import Config, SourceConfig
from ingest.dedup.prepared import Reading
from ingest.discovery import Discovered, discover
from ingest.errors import FetchError
from ingest.extract_pool import MIN_WORDS, ExtractPool, prepare_page, reject_reason
from ingest.fetching import FetchedPage, Fetcher, Validators
from ingest.normalize import Hints, article_values, raw_page_values
from ingest.outcomes import Outcome
from scrapers import ExtractedArticle

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class StoredArticle:
    """A newly stored article: its id and the column values it was stored with."""

    id: int
    values: Mapping[str, Any]
    reading: Reading | None = None
    """The body already read for the near-duplicate index (in an extraction worker), if it was."""


ArticleHook = Callable[[Session, Sequence[StoredArticle]], None]
"""Called inside the storing transaction with the newly stored articles, in storing order:
one call per stored batch, so the near-duplicate index works a batch at a time (and need
not read back what it was just handed)."""

StoredCallback = Callable[[Session, int], None]
"""Called inside the storing transaction with the one article just stored."""

__all__ = ["MIN_WORDS"]  # re-exported: the threshold lives with the extraction step


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress event: ``total`` pages to fetch (once known), then each outcome."""

    source: str
    total: int | None = None
    outcome: Outcome | None = None


ProgressHook = Callable[[Progress], None]


@dataclass
class CrawlContext:
    """Everything a crawl needs; built once per process and passed down."""

    config: Config
    sessions: sessionmaker[Session]
    fetcher: Fetcher
    worker: str = "manual"
    article_hooks: list[ArticleHook] = field(default_factory=list)
    writer: StoreWriter | None = field(default=None, repr=False)
    extractor: ExtractPool | None = field(default=None, repr=False)
    """Worker processes for steps 4–5; ``None``: done in this process (the loop)."""


@dataclass
class RunSummary:
    source: str
    run_id: int
    counts: Counter[str] = field(default_factory=Counter)
    stored_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0
    status: str = "ok"
    error: str | None = None


async def crawl_source(
    ctx: CrawlContext,
    source: SourceConfig,
    *,
    trigger: str = "manual",
    progress: ProgressHook | None = None,
) -> RunSummary:
    """Crawl one configured source now; the daemon and ``ingest fetch`` both call this."""
    started = time.perf_counter()
    with transaction(ctx.sessions) as session:
        source_id = repo.get_or_create_source(session, source.name).id
        run_id = repo.start_run(session, source_id, trigger, ctx.worker).id
    summary = RunSummary(source.name, run_id)
    try:
        report = await discover(source, ctx.fetcher, _validator_loader(ctx), _validator_saver(ctx))
        _write_attempts(ctx, run_id, source_id, report.attempts)
        summary.counts.update(str(a.outcome) for a in report.attempts)
        links = report.links[: ctx.config.fetch.max_articles_per_run]
        await _process_links(ctx, summary, source_id, links, source.language, progress)
        if report.failed:
            summary.status, summary.error = "failed", "every feed and listing page failed"
    except asyncio.CancelledError:
        summary.status, summary.error = "aborted", "cancelled"
        _finish(ctx, summary, source_id, started)
        raise
    except OperationalError:
        raise  # the database went away: the daemon waits for it and retries the source
    except Exception as exc:  # a bug must not kill the daemon; it is logged and recorded
        log.exception("crawl of %s failed", source.name)
        summary.status, summary.error = "failed", f"{type(exc).__name__}: {exc}"
    _finish(ctx, summary, source_id, started)
    return summary


async def crawl_urls(
    ctx: CrawlContext,
    urls: Sequence[str],
    *,
    source_name: str = "manual",
    trigger: str = "url",
    progress: ProgressHook | None = None,
) -> RunSummary:
    """Fetch given article URLs directly (``ingest fetch --url``), same steps 2–7."""
    from ingest.urls import canonicalize

    started = time.perf_counter()
    with transaction(ctx.sessions) as session:
        source_id = repo.get_or_create_source(session, source_name).id
        run_id = repo.start_run(session, source_id, trigger, ctx.worker).id
    summary = RunSummary(source_name, run_id)
    links = [Discovered(canonicalize(u), "cli") for u in urls]
    try:
        await _process_links(ctx, summary, source_id, links, None, progress)
    except asyncio.CancelledError:
        summary.status, summary.error = "aborted", "cancelled"
        _finish(ctx, summary, source_id, started)
        raise
    _finish(ctx, summary, source_id, started)
    return summary


def _finish(ctx: CrawlContext, summary: RunSummary, source_id: int, started: float) -> None:
    summary.seconds = time.perf_counter() - started
    with transaction(ctx.sessions) as session:
        repo.finish_run(session, summary.run_id, summary.status, summary.counts, summary.error)
        repo.mark_source_run(session, source_id, ok=summary.status == "ok")


async def _process_links(
    ctx: CrawlContext,
    summary: RunSummary,
    source_id: int,
    links: list[Discovered],
    language: str | None,
    progress: ProgressHook | None,
) -> None:
    with ctx.sessions() as session:
        known = repo.known_urls(session, [link.url for link in links])
    fresh = [link for link in links if link.url not in known]
    summary.counts[str(Outcome.DUPLICATE_URL)] += len(links) - len(fresh)
    if progress:
        progress(Progress(summary.source, total=len(fresh)))
    queue: asyncio.Queue[Discovered] = asyncio.Queue()
    for link in fresh:
        queue.put_nowait(link)
    pending: list[AttemptRecord] = []

    async def worker() -> None:
        while True:
            try:
                link = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            record = await _process_one(ctx, link, source_id, summary.run_id, language)
            summary.counts[str(record.outcome)] += 1
            if record.outcome is Outcome.STORED and record.article_id is not None:
                summary.stored_ids.append(record.article_id)
            else:
                pending.append(record)
            if len(pending) >= 50:
                _write_attempts(ctx, summary.run_id, source_id, pending[:])
                pending.clear()
            if progress:
                progress(Progress(summary.source, outcome=record.outcome))

    workers = min(len(fresh), ctx.config.fetch.concurrency)
    try:
        await asyncio.gather(*(worker() for _ in range(workers)))
    finally:
        _write_attempts(ctx, summary.run_id, source_id, pending)


async def _process_one(
    ctx: CrawlContext, link: Discovered, source_id: int, run_id: int, language: str | None
) -> AttemptRecord:
    try:
        page = await ctx.fetcher.fetch(link.url, kind="article")
    except FetchError as exc:
        log.info("%s: %s (%s)", link.url, exc.outcome, exc)
        return AttemptRecord.from_error(exc, "article")
    hints = Hints(link.url, page.final_url, link.published_at, link.title, language)
    dedup = ctx.config.dedup if ctx.config.dedup.enabled and ctx.article_hooks else None  # read for the index
    args = (page.content, page.final_url, page.content_type, hints, source_id, dedup)
    if ctx.extractor is not None:
        prepared = await ctx.extractor.prepare(*args)
    else:
        prepared = prepare_page(*args)
    if prepared.values is None or prepared.raw is None:
        return AttemptRecord.from_page(page, "article", prepared.outcome, error=prepared.error)
    if ctx.writer is None:
        ctx.writer = StoreWriter(ctx)
    return await ctx.writer.store(
        _StoreJob(page, prepared.values, prepared.raw, source_id, run_id, prepared.reading)
    )


_reject_reason = reject_reason  # the old private name


def store_page(
    ctx: CrawlContext,
    page: FetchedPage,
    article: ExtractedArticle,
    hints: Hints,
    source_id: int | None,
    run_id: int | None = None,
) -> AttemptRecord:
    """Steps 5–6 for one fetched page: normalize, then :func:`store_article`."""
    values = article_values(article, hints, source_id)
    raw = raw_page_values(page.final_url, page.content, page.content_type)
    record = AttemptRecord.from_page(page, "article", Outcome.STORED)

    def on_stored(session: Session, article_id: int) -> None:
        record.article_id = article_id
        repo.record_attempts(session, run_id, source_id, [_attempt_row(record)])

    outcome, _ = store_article(ctx, values, raw, on_stored=on_stored)
    record.outcome = outcome
    return record


def store_article(
    ctx: CrawlContext,
    values: dict[str, Any],
    raw: dict[str, Any] | None,
    *,
    on_stored: StoredCallback | None = None,
) -> tuple[Outcome, int | None]:
    """Step 6, shared by crawls and ``ingest import``: one transaction per article.

    An identical body already stored for the same source is ``duplicate_content``;
    a URL already stored is ``duplicate_url``; otherwise the article, its raw page,
    the hooks' rows (near-duplicate index) and ``on_stored``'s rows commit together.
    """
    with transaction(ctx.sessions) as session:
        return _store_in(session, ctx, values, raw, on_stored)


def _store_in(
    session: Session,
    ctx: CrawlContext,
    values: dict[str, Any],
    raw: dict[str, Any] | None,
    on_stored: StoredCallback | None,
) -> tuple[Outcome, int | None]:
    source_id = values.get("source_id")
    if repo.known_urls(session, [values["url"]]):
        return Outcome.DUPLICATE_URL, None
    existing = repo.find_by_hash(session, values["content_hash"], source_id)
    if existing is not None:
        return Outcome.DUPLICATE_CONTENT, existing
    article_id = repo.insert_article(session, values, raw)
    if article_id is None:
        return Outcome.DUPLICATE_URL, None
    for hook in ctx.article_hooks:
        hook(session, [StoredArticle(article_id, values)])
    if on_stored is not None:
        on_stored(session, article_id)
    return Outcome.STORED, article_id


@dataclass(frozen=True, slots=True)
class _StoreJob:
    page: FetchedPage
    values: dict[str, Any]
    raw: dict[str, Any]
    source_id: int | None
    run_id: int | None
    reading: Reading | None = None


class StoreWriter:
    """Step 5–6 off the event loop: one writer thread, a batch of articles per transaction.

    While one batch is written (the database and zlib work outside the GIL),
    the loop keeps fetching and extracting and the next batch accumulates, so
    commits are amortised and only one thread ever writes (no SQLite lock
    contention).  Each article keeps ``store_article``'s semantics; if a batch
    fails, its articles are retried one transaction each so one bad row only
    fails its own page.
    """

    MAX_BATCH = 250
    """Articles per transaction at most: a writer that falls behind takes what piled up in bigger
    batches (fewer round trips and commits each); 100 made the PostgreSQL crawl bench ~5% slower."""

    def __init__(self, ctx: CrawlContext) -> None:
        self.ctx = ctx
        self._pending: list[tuple[_StoreJob, asyncio.Future[AttemptRecord]]] = []
        self._draining = False
        self.busy_seconds = 0.0  # wall time spent writing batches: shows when the writer is the limit
        self.batches = 0

    async def store(self, job: _StoreJob) -> AttemptRecord:
        future: asyncio.Future[AttemptRecord] = asyncio.get_running_loop().create_future()
        self._pending.append((job, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.MAX_BATCH]
                del self._pending[: self.MAX_BATCH]
                jobs = [job for job, _ in batch]
                started = time.perf_counter()
                try:
                    results = await asyncio.to_thread(self._write, jobs)
                    self.batches += 1
                except BaseException as exc:  # delivered to each waiting page, never lost
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                finally:
                    self.busy_seconds += time.perf_counter() - started
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._draining = False

    def _write(self, jobs: list[_StoreJob]) -> list[AttemptRecord | Exception]:
        try:
            with transaction(self.ctx.sessions) as session:
                return list(self._store_batch(session, jobs))
        except Exception:
            if len(jobs) == 1:
                raise
        out: list[AttemptRecord | Exception] = []
        for job in jobs:  # the batch failed: find the culprit, store the rest
            try:
                with transaction(self.ctx.sessions) as session:
                    out.append(self._store_one(session, job))
            except Exception as exc:
                out.append(exc)
        return out

    def _store_batch(self, session: Session, jobs: list[_StoreJob]) -> list[AttemptRecord]:
        """``_store_in`` for a whole batch with a handful of statements.

        Same decisions in the same order as one ``_store_in`` per job: a URL
        stored before or earlier in the batch is ``duplicate_url``, a body
        stored before or earlier in the batch (same source) ``duplicate_content``;
        the rest are inserted, then each hook runs once with their ids in batch order.
        """
        records = [AttemptRecord.from_page(job.page, "article", Outcome.STORED) for job in jobs]
        known = repo.known_urls(session, [job.values["url"] for job in jobs])
        keys = [(job.values["content_hash"], job.values.get("source_id")) for job in jobs]
        seen_hashes = repo.find_by_hashes(session, keys)
        chosen: list[int] = []
        for i, (job, key) in enumerate(zip(jobs, keys, strict=True)):
            if job.values["url"] in known:
                records[i].outcome = Outcome.DUPLICATE_URL
            elif key in seen_hashes:
                records[i].outcome = Outcome.DUPLICATE_CONTENT
            else:
                chosen.append(i)
                seen_hashes.add(key)
                known.update(u for u in (job.values["url"], job.values.get("fetched_url")) if u)
        ids = repo.insert_articles(session, [jobs[i].values for i in chosen], [jobs[i].raw for i in chosen])
        stored: dict[tuple[int | None, int | None], list[dict[str, Any]]] = {}
        new: list[StoredArticle] = []
        for i, article_id in zip(chosen, ids, strict=True):
            if article_id is None:  # another process stored this URL meanwhile
                records[i].outcome = Outcome.DUPLICATE_URL
                continue
            records[i].article_id = article_id
            new.append(StoredArticle(article_id, jobs[i].values, jobs[i].reading))
            stored.setdefault((jobs[i].run_id, jobs[i].source_id), []).append(_attempt_row(records[i]))
        if new:
            for hook in self.ctx.article_hooks:
                hook(session, new)
        for (run_id, source_id), rows in stored.items():
            repo.record_attempts(session, run_id, source_id, rows)
        return records

    def _store_one(self, session: Session, job: _StoreJob) -> AttemptRecord:
        record = AttemptRecord.from_page(job.page, "article", Outcome.STORED)

        def on_stored(session: Session, article_id: int) -> None:
            record.article_id = article_id
            repo.record_attempts(session, job.run_id, job.source_id, [_attempt_row(record)])

        outcome, _ = _store_in(session, self.ctx, job.values, job.raw, on_stored)
        record.outcome = outcome
        return record


def _attempt_row(record: AttemptRecord) -> dict[str, Any]:
    return {
        "url": record.url,
        "final_url": record.final_url,
        "kind": record.kind,
        "status_code": record.status_code,
        "outcome": str(record.outcome),
        "error": record.error,
        "started_at": record.started_at,
        "elapsed_ms": record.elapsed_ms,
        "bytes_received": record.bytes_received,
        "article_id": record.article_id,
    }


def _write_attempts(
    ctx: CrawlContext, run_id: int, source_id: int, records: list[AttemptRecord]
) -> None:
    if not records:
        return
    with transaction(ctx.sessions) as session:
        repo.record_attempts(session, run_id, source_id, [_attempt_row(r) for r in records])


def _validator_loader(ctx: CrawlContext) -> Callable[[str], Validators | None]:
    def load(url: str) -> Validators | None:
        with ctx.sessions() as session:
            found = repo.load_validators(session, url)
        return None if found is None else Validators(*found)

    return load


def _validator_saver(ctx: CrawlContext) -> Callable[[str, Validators], None]:
    def save(url: str, validators: Validators) -> None:
        with transaction(ctx.sessions) as session:
            repo.save_validators(session, url, validators.etag, validators.last_modified)

    return save
