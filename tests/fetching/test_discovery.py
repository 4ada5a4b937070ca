"""Discovery: every feed flavour, autodiscovery, sitemaps (index, news, gzip), robots Sitemap lines,
conditional GET, and malformed documents ending in ``parse_error`` without stopping the others."""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime

import httpx
import pytest
from faultserver import feed_bytes

from ingest.config import FetchConfig
from ingest.discovery import DiscoveryReport, EntryPoints, discover_entry_points
from ingest.fetching import Fetcher, Validators
from ingest.outcomes import Outcome

BASE = "https://news.example"
ARTICLES = [f"{BASE}/2024/story-{i}" for i in range(3)]
NEWS_SITEMAP = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{BASE}/news/1?utm_source=sm</loc><news:news><news:publication><news:name>N</news:name>
<news:language>en</news:language></news:publication>
<news:publication_date>2024-06-01T09:30:00+02:00</news:publication_date>
<news:title>Fresh news</news:title></news:news></url>
</urlset>""".encode()
PLAIN_SITEMAP = f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{BASE}/old/1</loc><lastmod>2023-01-01</lastmod></url>
<url><loc>{BASE}/old/2</loc><lastmod>2023-02-01</lastmod></url></urlset>""".encode()
INDEX = f"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{BASE}/sitemap-news.xml</loc><lastmod>2024-06-01</lastmod></sitemap>
<sitemap><loc>{BASE}/sitemap-old.xml.gz</loc></sitemap></sitemapindex>""".encode()
HOME = b"""<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml" title="All">
<link rel="alternate" type="application/rss+xml" href="/comments/feed" title="Comments Feed">
<link rel="alternate" type="application/atom+xml" href="https://other.example/feed"></head>
<body><a href="/2024/story-0">one</a><a href="/about">about</a></body></html>"""


class Site:
    """A MockTransport site with ETag support; counts requests per path."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.docs: dict[str, tuple[str, bytes]] = {
            "/robots.txt": ("text/plain", f"User-agent: *\nSitemap: {BASE}/sitemap-index.xml\n".encode()),
            "/rss091.xml": ("application/rss+xml", feed_bytes("rss091", ARTICLES)),
            "/rss10.xml": ("application/rdf+xml", feed_bytes("rss10", ARTICLES)),
            "/rss.xml": ("application/rss+xml", feed_bytes("rss20", ARTICLES)),
            "/atom.xml": ("application/atom+xml", feed_bytes("atom", ARTICLES)),
            "/feed.json": ("application/feed+json", feed_bytes("json", ARTICLES)),
            "/sitemap-index.xml": ("application/xml", INDEX),
            "/sitemap-news.xml": ("application/xml", NEWS_SITEMAP),
            "/sitemap-old.xml.gz": ("application/x-gzip", gzip.compress(PLAIN_SITEMAP)),
            "/home": ("text/html; charset=utf-8", HOME),
            "/broken-feed": ("application/rss+xml", b"<rss><channel><item><title>x"),
            "/broken-sitemap": ("application/xml", b"<urlset><url><loc>"),
            "/html-as-feed": ("text/html", b"<html><body>hello</body></html>"),
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.hits[path] = self.hits.get(path, 0) + 1
        if path not in self.docs:
            return httpx.Response(404)
        ctype, body = self.docs[path]
        etag = f'"{hash(body) & 0xFFFF:x}"'
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, headers={"Content-Type": ctype, "ETag": etag}, content=body)


def run(points: EntryPoints, site: Site, cache: dict[str, Validators] | None = None) -> DiscoveryReport:
    cache = {} if cache is None else cache

    async def go() -> DiscoveryReport:
        config = FetchConfig(per_host_delay=0, retries=0)
        async with Fetcher(config, transport=httpx.MockTransport(site)) as fetcher:
            return await discover_entry_points(points, fetcher, cache.get, cache.__setitem__)

    return asyncio.run(go())


@pytest.mark.parametrize("path", ["/rss091.xml", "/rss10.xml", "/rss.xml", "/atom.xml", "/feed.json"])
def test_every_feed_flavour(path: str) -> None:
    report = run(EntryPoints(feeds=(BASE + path,)), Site())
    assert [link.url for link in report.links] == ARTICLES
    assert [a.outcome for a in report.attempts] == [Outcome.DISCOVERED]
    assert report.links[1].published_at == datetime(2024, 2, 2, 8, 0, tzinfo=UTC)
    assert report.links[0].title == "T0"


def test_sitemap_index_news_and_gzip_with_candidate_dates() -> None:
    report = run(EntryPoints(sitemaps=(f"{BASE}/sitemap-index.xml",)), Site())
    by_url = {link.url: link for link in report.links}
    assert set(by_url) == {f"{BASE}/news/1", f"{BASE}/old/1", f"{BASE}/old/2"}
    news = by_url[f"{BASE}/news/1"]
    assert news.published_at == datetime(2024, 6, 1, 7, 30, tzinfo=UTC)
    assert news.title == "Fresh news"
    assert by_url[f"{BASE}/old/2"].published_at == datetime(2023, 2, 1, tzinfo=UTC)
    assert [a.kind for a in report.attempts] == ["sitemap"] * 3


def test_robots_sitemap_lines_are_followed() -> None:
    report = run(EntryPoints(listings=(f"{BASE}/home",), link_pattern="/2024/", robots_sitemaps=True), Site())
    assert f"{BASE}/news/1" in {link.url for link in report.links}


def test_autodiscovery_reads_the_advertised_feed_only() -> None:
    site = Site()
    report = run(EntryPoints(listings=(f"{BASE}/home",), link_pattern="/2024/"), site)
    assert [link.url for link in report.links] == ARTICLES  # listing link merged with the feed's
    assert report.links[0].published_at is not None  # the feed's date reached the listing's link
    assert site.hits.get("/rss.xml") == 1
    assert "/comments/feed" not in site.hits  # comment feeds and other sites' feeds are skipped


def test_a_sitemap_named_as_feed_is_read_as_a_sitemap() -> None:
    report = run(EntryPoints(feeds=(f"{BASE}/sitemap-news.xml",)), Site())
    assert [link.url for link in report.links] == [f"{BASE}/news/1"]


def test_conditional_get_second_read_costs_304s_only() -> None:
    site, cache = Site(), {}
    points = EntryPoints(feeds=(f"{BASE}/rss.xml",), sitemaps=(f"{BASE}/sitemap-index.xml",))
    first = run(points, site, cache)
    assert len(first.links) == 6
    second = run(points, site, cache)
    assert second.links == []
    assert sorted(a.outcome for a in second.attempts) == [Outcome.NOT_MODIFIED] * 2
    assert site.hits["/sitemap-news.xml"] == 1  # unchanged index: children not re-read


def test_malformed_documents_are_parse_errors_and_the_rest_goes_on() -> None:
    points = EntryPoints(
        feeds=(f"{BASE}/broken-feed", f"{BASE}/html-as-feed", f"{BASE}/missing", f"{BASE}/rss.xml"),
        sitemaps=(f"{BASE}/broken-sitemap",),
    )
    report = run(points, Site())
    outcomes = sorted(str(a.outcome) for a in report.attempts)
    assert outcomes == ["discovered", "http_error", "parse_error", "parse_error", "parse_error"]
    assert [link.url for link in report.links] == ARTICLES
    assert not report.failed


def test_all_entry_points_failing_marks_the_report_failed() -> None:
    report = run(EntryPoints(feeds=(f"{BASE}/missing",)), Site())
    assert report.failed
