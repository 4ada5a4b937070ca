"""The crawl pipeline end to end over the bundled demo site, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import Article, FetchAttempt, RawPage, Run
from ingest.attempts import AttemptRecord
from ingest.config import Config
from ingest.demo.runner import demo_config
from ingest.demo.site import DemoSite
from ingest.fetching import FetchedPage
from ingest.normalize import Hints, article_values, raw_page_values
from ingest.pipeline import _StoreJob, crawl_urls
from ingest.runner import live_context, run_crawls
from ingest.services import open_database
from scrapers import ExtractedArticle

EXPECTED = json.loads(
    (Path(__file__).resolve().parents[1] / "ingest/demo/content/expected.json").read_text(encoding="utf-8")
)


@pytest.fixture
def site() -> Iterator[DemoSite]:
    with DemoSite() as running:
        yield running


def crawl(config: Config) -> dict[str, dict[str, int]]:
    summaries = asyncio.run(run_crawls(config, config.sources, []))
    assert all(s.status == "ok" for s in summaries), [(s.source, s.error) for s in summaries]
    return {s.source: dict(s.counts) for s in summaries}


def test_crawl_stores_every_article_once_with_clean_fields(site: DemoSite, db_url: str) -> None:
    config = demo_config(site, db_url)
    counts = crawl(config)
    assert sum(c.get("stored", 0) for c in counts.values()) == site.article_count()
    assert counts["daily-ledger"].get("http_error") == 1  # the feed item that 404s

    database = open_database(config)
    with database.sessions() as session:
        articles = {a.url: a for a in session.scalars(select(Article))}
        assert len(articles) == site.article_count()
        for path, exp in EXPECTED.items():
            url = site.outlets[exp["outlet"]] + path.lstrip("/")
            article = articles[url]
            assert article.title == exp["title"]
            assert article.authors == exp["authors"]
            assert article.published_at == datetime.fromisoformat(exp["published"].replace("Z", "+00:00"))
            paragraphs = article.body.split("\n\n")
            assert paragraphs[0] == exp["first_paragraph"]
            assert paragraphs[-1] == exp["last_paragraph"]
            assert "Recent Stories" not in article.body
            assert "More Stories From" not in article.body
            assert article.raw_page_id is not None
        raw_count = session.scalar(select(func.count()).select_from(RawPage))
        assert raw_count == site.article_count()
        outcomes = dict(
            session.execute(select(FetchAttempt.outcome, func.count()).group_by(FetchAttempt.outcome)).all()
        )
        assert outcomes["stored"] == site.article_count()
        assert outcomes["http_error"] == 1
        runs = session.scalars(select(Run)).all()
        assert {r.status for r in runs} == {"ok"}
        assert all(r.finished_at is not None for r in runs)
    database.close()


def test_second_crawl_fetches_no_article_again(site: DemoSite, db_url: str) -> None:
    config = demo_config(site, db_url)
    crawl(config)
    again = crawl(config)
    assert sum(c.get("stored", 0) for c in again.values()) == 0
    assert sum(c.get("duplicate_url", 0) for c in again.values()) >= site.article_count()
    # feeds answer 304 to the validators saved on the first crawl
    assert sum(c.get("not_modified", 0) for c in again.values()) == 2
    database = open_database(config)
    with database.sessions() as session:
        article_fetches = session.scalar(
            select(func.count()).select_from(FetchAttempt).where(FetchAttempt.kind == "article")
        )
    database.close()
    # only the first crawl's article requests and its 404: the unchanged feed was not re-read
    assert article_fetches == site.article_count() + 1


def test_fetch_single_url_and_not_article_page(site: DemoSite, sqlite_url: str) -> None:
    config = demo_config(site, sqlite_url)
    path = next(iter(EXPECTED))
    article_url = site.outlets[EXPECTED[path]["outlet"]] + path.lstrip("/")
    about_url = site.outlets["daily-ledger"] + "about/"

    async def go() -> dict[str, int]:
        async with live_context(config) as ctx:
            summary = await crawl_urls(ctx, [article_url, about_url, article_url])
        return dict(summary.counts)

    counts = asyncio.run(go())
    assert counts.get("stored") == 1
    assert counts.get("not_article", 0) + counts.get("duplicate_url", 0) >= 1
    again = asyncio.run(go())
    assert again.get("stored", 0) == 0
    assert again.get("duplicate_url", 0) >= 1


def _job(url: str, body: str, source_id: int, run_id: int) -> _StoreJob:
    page = FetchedPage(url, url, 200, b"<html>x</html>", "text/html", 1.0)
    article = ExtractedArticle(url, title="T", text=body)
    values = article_values(article, Hints(url, url), source_id)
    return _StoreJob(page, values, raw_page_values(url, page.content, "text/html"), source_id, run_id)


def test_batched_writer_decides_like_one_article_at_a_time(sqlite_url: str) -> None:
    """One batch: repeated URL -> duplicate_url, repeated body -> duplicate_content, hooks in order."""
    from db import repository as repo
    from db.session import transaction
    from ingest.config import config_from_dict
    from ingest.outcomes import Outcome
    from ingest.pipeline import CrawlContext, StoreWriter
    from ingest.runner import crawl_context

    config = config_from_dict({"database": {"url": sqlite_url}}, origin="test")
    hooked: list[int] = []
    with crawl_context(config) as base:
        ctx = CrawlContext(config, base.sessions, base.fetcher, article_hooks=[lambda s, stored: hooked.extend(a.id for a in stored)])
        with transaction(ctx.sessions) as session:
            source_id = repo.get_or_create_source(session, "s").id
            run_id = repo.start_run(session, source_id, "test", "w").id
        body = " ".join(["word"] * 60)
        jobs = [
            _job("https://a.example/1", body + " one", source_id, run_id),
            _job("https://a.example/1", body + " other", source_id, run_id),
            _job("https://a.example/2", body + " one", source_id, run_id),
            _job("https://a.example/3", body + " three", source_id, run_id),
        ]
        records = [r for r in StoreWriter(ctx)._write(jobs) if isinstance(r, AttemptRecord)]
        outcomes = [r.outcome for r in records]
        assert outcomes == [Outcome.STORED, Outcome.DUPLICATE_URL, Outcome.DUPLICATE_CONTENT, Outcome.STORED]
        ids = [r.article_id for r in records]
        assert hooked == [ids[0], ids[3]]
        again = StoreWriter(ctx)._write(jobs[3:])
        assert [getattr(r, "outcome", r) for r in again] == [Outcome.DUPLICATE_URL]
        with ctx.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Article)) == 2
            assert session.scalar(select(func.count()).select_from(RawPage)) == 2
            stored = session.scalars(select(FetchAttempt.article_id).where(FetchAttempt.outcome == "stored"))
            assert set(stored) == {ids[0], ids[3]}


def _demo_page(site: DemoSite) -> tuple[str, str, bytes]:
    """The path, URL and HTML of the demo site's first expected article."""
    import urllib.request

    path = next(iter(EXPECTED))
    url = site.outlets[EXPECTED[path]["outlet"]] + path.lstrip("/")
    with urllib.request.urlopen(url, timeout=10) as resp:
        return path, url, resp.read()


def test_extract_pool_prepares_pages_and_closes(site: DemoSite) -> None:
    """Extraction in a worker process gives the same rows as in-process; close() is idempotent."""

    from ingest.dedup.prepared import prepare
    from ingest.dedup.settings import DedupSettings
    from ingest.dedup.text import analyze
    from ingest.extract_pool import ExtractPool, prepare_page
    from ingest.normalize import Hints
    from ingest.outcomes import Outcome

    path, url, html = _demo_page(site)
    hints = Hints(url, url)
    pool = ExtractPool(1)
    try:
        remote = asyncio.run(pool.prepare(html, url, "text/html", hints, None, DedupSettings()))
        junk = asyncio.run(pool.prepare(b"\x00\xff not html", url, "text/html", hints, None))
    finally:
        pool.close()
        pool.close()
    local = prepare_page(html, url, "text/html", hints, None)
    assert remote.values is not None and local.values is not None
    assert remote.values["content_hash"] == local.values["content_hash"]
    # the body read and signed for the near-duplicate index in the worker is what the index would make
    here = analyze(local.values["body"])
    assert local.reading is None and remote.reading is not None
    there = remote.reading.analysis
    assert there.line_keys == here.line_keys and there.lines == here.lines
    assert there.word_hashes.tolist() == here.word_hashes.tolist() and len(here.word_hashes) > 50
    signed = prepare(local.values["body"], local.values["title"], DedupSettings())
    plain = remote.reading.plain_for(DedupSettings())
    assert plain is not None and plain.bands == signed.bands and plain.title == signed.title
    assert plain.shingles.tolist() == signed.shingles.tolist() and plain.wires == signed.wires
    assert remote.reading.plain_for(DedupSettings(shingle_words=4)) is None  # another signature shape
    assert remote.values["title"] == EXPECTED[path]["title"]
    assert remote.raw is not None and remote.raw["size"] == len(html)
    assert junk.values is None and junk.outcome in (Outcome.NOT_ARTICLE, Outcome.PARSE_ERROR)


def test_extract_pool_replaces_a_dead_worker(site: DemoSite) -> None:
    """A killed worker fails only the page it held (parse_error); the next page gets a new worker."""
    import os
    import signal

    from ingest.extract_pool import ExtractPool
    from ingest.normalize import Hints
    from ingest.outcomes import Outcome

    _, url, html = _demo_page(site)
    hints = Hints(url, url)
    pool = ExtractPool(1)

    async def run() -> tuple[Outcome, Outcome, Outcome, int, int]:
        first = await pool.prepare(html, url, "text/html", hints, None)
        (worker,) = pool._pool
        pid = worker.process.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # the page below is sent but never answered
        held = asyncio.ensure_future(pool.prepare(html, url, "text/html", hints, None))
        await asyncio.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        lost = await held
        after = await pool.prepare(html, url, "text/html", hints, None)
        (replacement,) = pool._pool
        return first.outcome, lost.outcome, after.outcome, pid, replacement.process.pid or 0

    try:
        first, lost, after, pid, new_pid = asyncio.run(run())
    finally:
        pool.close()
    assert (first, lost, after) == (Outcome.STORED, Outcome.PARSE_ERROR, Outcome.STORED)
    assert new_pid != pid
