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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db import repository as repo
from db.session import transaction
from ingest.attempts import AttemptRecord
from ingest.config import Config, SourceConfig
from ingest.discovery import Discovered, discover
from ingest.errors import FetchError
from ingest.fetching import FetchedPage, Fetcher, Validators
from ingest.normalize import Hints, article_values, raw_page_values
from ingest.outcomes import Outcome
from scrapers import ExtractedArticle, ExtractionFlag, extract

log = logging.getLogger(__name__)

ArticleHook = Callable[[Session, int], None]
"""Called inside the storing transaction with each newly stored article id."""

MIN_WORDS = 40


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
    try:
        article = extract(page.content, page.final_url, content_type=page.content_type)
    except Exception as exc:  # extract() promises not to raise; a bug is recorded, not fatal
        log.exception("extractor crashed on %s", link.url)
        return AttemptRecord.from_page(page, "article", Outcome.PARSE_ERROR, error=repr(exc))
    rejected = _reject_reason(article)
    if rejected is not None:
        outcome, why = rejected
        return AttemptRecord.from_page(page, "article", outcome, error=why)
    hints = Hints(link.url, page.final_url, link.published_at, link.title, language)
    if ctx.writer is None:
        ctx.writer = StoreWriter(ctx)
    return await ctx.writer.store(_StoreJob(page, article, hints, source_id, run_id))


def _reject_reason(article: ExtractedArticle) -> tuple[Outcome, str] | None:
    flags = set(article.flags)
    if ExtractionFlag.PAYWALLED in flags and article.word_count < MIN_WORDS * 3:
        return Outcome.PAYWALLED, "paywall with a short body"
    if not article.text.strip() or article.word_count < MIN_WORDS:
        why = ", ".join(str(f) for f in article.flags) or "no body text"
        return Outcome.NOT_ARTICLE, f"{article.word_count} words ({why})"
    return None


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
    on_stored: ArticleHook | None = None,
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
    on_stored: ArticleHook | None,
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
        hook(session, article_id)
    if on_stored is not None:
        on_stored(session, article_id)
    return Outcome.STORED, article_id


@dataclass(frozen=True, slots=True)
class _StoreJob:
    page: FetchedPage
    article: ExtractedArticle
    hints: Hints
    source_id: int | None
    run_id: int | None


class StoreWriter:
    """Step 5–6 off the event loop: one writer thread, a batch of articles per transaction.

    While one batch is written (the database and zlib work outside the GIL),
    the loop keeps fetching and extracting and the next batch accumulates, so
    commits are amortised and only one thread ever writes (no SQLite lock
    contention).  Each article keeps ``store_article``'s semantics; if a batch
    fails, its articles are retried one transaction each so one bad row only
    fails its own page.
    """

    MAX_BATCH = 100

    def __init__(self, ctx: CrawlContext) -> None:
        self.ctx = ctx
        self._pending: list[tuple[_StoreJob, asyncio.Future[AttemptRecord]]] = []
        self._draining = False

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
                try:
                    results = await asyncio.to_thread(self._write, jobs)
                except BaseException as exc:  # delivered to each waiting page, never lost
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
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
        prepared = [_prepare(job) for job in jobs]
        try:
            with transaction(self.ctx.sessions) as session:
                return [self._store_one(session, *item) for item in prepared]
        except Exception:
            if len(jobs) == 1:
                raise
        out: list[AttemptRecord | Exception] = []
        for item in prepared:  # the batch failed: find the culprit, store the rest
            try:
                with transaction(self.ctx.sessions) as session:
                    out.append(self._store_one(session, *item))
            except Exception as exc:
                out.append(exc)
        return out

    def _store_one(
        self, session: Session, job: _StoreJob, values: dict[str, Any], raw: dict[str, Any]
    ) -> AttemptRecord:
        record = AttemptRecord.from_page(job.page, "article", Outcome.STORED)

        def on_stored(session: Session, article_id: int) -> None:
            record.article_id = article_id
            repo.record_attempts(session, job.run_id, job.source_id, [_attempt_row(record)])

        outcome, _ = _store_in(session, self.ctx, values, raw, on_stored)
        record.outcome = outcome
        return record


def _prepare(job: _StoreJob) -> tuple[_StoreJob, dict[str, Any], dict[str, Any]]:
    values = article_values(job.article, job.hints, job.source_id)
    raw = raw_page_values(job.page.final_url, job.page.content, job.page.content_type)
    return job, values, raw


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
