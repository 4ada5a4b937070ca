"""The crawl pipeline over the fault server, on SQLite and PostgreSQL: every URL ends in a
recorded outcome, the run goes on, one article reached by several URLs is stored once,
and ``reextract`` rebuilds articles from the stored raw HTML without fetching."""

from __future__ import annotations

import asyncio
from collections import Counter

from faultserver import FaultServer, Reply, article_html, redirect
from sqlalchemy import select, update

from db.models import Article, FetchAttempt
from ingest.config import Config, FetchConfig, config_from_dict
from ingest.pipeline import RunSummary, crawl_urls
from ingest.reextract import reextract
from ingest.runner import live_context
from ingest.services import open_database

EXPECTED = {
    "/article/1": "stored",
    "/short": "not_article",
    "/slow-headers": "timeout",
    "/reset": "network_error",
    "/500": "http_error",
    "/403": "blocked",
    "/challenge-202": "blocked",
    "/429-once": "stored",
    "/loop-a": "redirect_loop",
    "/big-chunked": "too_large",
    "/gzip-bomb": "too_large",
    "/invalid-utf8": "stored",
    "/wrong-type": "bad_content_type",
    "/private/2": "robots_denied",
}


def _config(db_url: str, fetch: FetchConfig) -> Config:
    return config_from_dict({"database": {"url": db_url}, "fetch": fetch.model_dump()})


def _crawl(config: Config, urls: list[str]) -> RunSummary:
    async def go() -> RunSummary:
        async with live_context(config, worker="test") as ctx:
            ctx.fetcher.backoff_base = 0.01
            return await crawl_urls(ctx, urls)

    return asyncio.run(go())


def test_every_fault_is_recorded_and_the_run_goes_on(
    db_url: str, faults: FaultServer, fetch_config: FetchConfig
) -> None:
    config = _config(db_url, fetch_config)
    summary = _crawl(config, [faults.url(p) for p in EXPECTED])
    assert summary.status == "ok"
    database = open_database(config)
    with database.sessions() as session:
        rows = session.execute(
            select(FetchAttempt.url, FetchAttempt.outcome).where(FetchAttempt.run_id == summary.run_id)
        ).all()
    database.close()
    got = {url.removeprefix(faults.url("")): outcome for url, outcome in rows}
    assert got == EXPECTED
    assert summary.counts == Counter(EXPECTED.values())


def test_one_article_reached_by_several_urls_is_stored_once(
    db_url: str, faults: FaultServer, fetch_config: FetchConfig
) -> None:
    canonical = faults.url("/article/9")

    async def alias(req: object, w: object) -> Reply:
        return Reply(200, {"Content-Type": "text/html"}, article_html(9, canonical=canonical).encode())

    faults.routes["/alias-of-9"] = alias  # same page, rel=canonical to /article/9
    faults.routes["/moved"] = redirect("/article/9")
    config = _config(db_url, fetch_config)
    urls = [
        faults.url("/article/9?utm_source=newsletter&fbclid=abc"),
        faults.url("/article/9#comments"),
        faults.url("/amp/article/9"),
        faults.url("/alias-of-9"),
        faults.url("/moved"),
    ]
    first = _crawl(config, urls[:1])
    second = _crawl(config, urls[1:])
    assert first.counts == Counter({"stored": 1})
    # fragment / AMP variants are known before any request; alias and redirect are fetched once
    assert second.counts["stored"] == 0
    assert second.counts["duplicate_url"] + second.counts["duplicate_content"] == 4
    assert faults.hits["/amp/article/9"] == 0
    database = open_database(config)
    with database.sessions() as session:
        assert session.scalars(select(Article.url)).all() == [canonical]
    database.close()
    third = _crawl(config, urls)
    assert third.counts["stored"] == 0
    # the stored URL itself is never requested again; only the redirect (run 2 and 3) leads there
    assert faults.hits["/article/9"] == 3


def test_reextract_rebuilds_articles_from_raw_pages(
    db_url: str, faults: FaultServer, fetch_config: FetchConfig
) -> None:
    config = _config(db_url, fetch_config)
    _crawl(config, [faults.url(f"/article/{n}") for n in (1, 2, 3)])
    requests_before = sum(faults.hits.values())
    database = open_database(config)
    with database.sessions() as session, session.begin():
        session.execute(update(Article).values(body="stale", title="stale", word_count=1))
    summary = reextract(database.sessions)
    assert summary.counts == Counter({"updated": 3})
    with database.sessions() as session:
        articles = session.scalars(select(Article).order_by(Article.id)).all()
        assert [a.title for a in articles] == ["Story number 1", "Story number 2", "Story number 3"]
        assert all(a.word_count > 100 and a.body != "stale" for a in articles)
    assert reextract(database.sessions).counts == Counter({"unchanged": 3})
    assert reextract(database.sessions, source="manual").counts == Counter({"unchanged": 3})
    database.close()
    assert sum(faults.hits.values()) == requests_before  # no fetching
