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
from ingest.config import Config
from ingest.demo.runner import demo_config
from ingest.demo.site import DemoSite
from ingest.pipeline import crawl_urls
from ingest.runner import live_context, run_crawls
from ingest.services import open_database

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
