"""The crawl pipeline — one code path for the daemon and for ``ingest fetch``.

Steps for one source:

1. discover candidate URLs (feeds, listing pages) — :mod:`ingest.discovery`
2. drop URLs already stored (``duplicate_url``, no request made)
3. fetch each new URL politely — :mod:`ingest.fetching`
4. extract the article — :func:`scrapers.extract`
5. normalize it — :mod:`ingest.normalize`
6. store it with its raw page in one transaction, then run the article hooks
   (near-duplicate indexing) in that same transaction — :mod:`db.repository`
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
    return store_page(ctx, page, article, hints, source_id, run_id)


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
    source_id = values.get("source_id")
    with transaction(ctx.sessions) as session:
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
