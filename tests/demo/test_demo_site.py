"""The offline demo site must behave like the real web the crawler expects.

``ingest demo`` relies on it: feeds that parse, listing pages whose link
pattern separates articles from chrome links, a feed item that 404s, two
wire stories that near-duplicate detection should pair, and clean shutdown.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from html import escape
from html.parser import HTMLParser
from itertools import combinations
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest

from ingest.demo.content import build_expected, load_articles, load_expected, load_feed_only
from ingest.demo.site import DemoSite

HTML = "text/html; charset=utf-8"
FEED_TYPES = {
    "daily-ledger": "application/rss+xml; charset=utf-8",
    "riverpoint": "application/atom+xml; charset=utf-8",
}


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    with DemoSite() as s:
        yield s


def fetch(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body), without raising for 4xx."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def internal_links(page_url: str, body: bytes) -> set[str]:
    """Absolute same-host links of a page, fragments dropped."""
    parser = _Links()
    parser.feed(body.decode("utf-8"))
    host = urlsplit(page_url).netloc
    out = {urljoin(page_url, h).split("#")[0] for h in parser.hrefs}
    return {u for u in out if urlsplit(u).netloc == host}


def article_urls(site: DemoSite, outlet: str) -> set[str]:
    base = site.outlets[outlet]
    return {base + a.path.lstrip("/") for a in load_articles() if a.outlet == outlet}


def source(site: DemoSite, outlet: str) -> dict[str, object]:
    return next(s for s in site.sources() if s["name"] == outlet)


def only_url(site: DemoSite, outlet: str, key: str) -> str:
    """The single feed / start URL of an outlet's source."""
    urls = source(site, outlet)[key]
    assert isinstance(urls, list) and len(urls) == 1
    return str(urls[0])


def shingles(text: str, k: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + k]) for i in range(len(words) - k + 1)}


def containment(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / min(len(sa), len(sb))


def test_sources_are_two_hosts_with_the_agreed_keys(site: DemoSite) -> None:
    sources = site.sources()
    assert [s["name"] for s in sources] == ["daily-ledger", "riverpoint"]
    assert len({urlsplit(b).netloc for b in site.outlets.values()}) == 2
    for s in sources:
        assert set(s) == {"name", "feeds", "start_urls", "link_pattern", "schedule"}
        base = site.outlets[str(s["name"])]
        assert isinstance(s["feeds"], list) and isinstance(s["start_urls"], list)
        assert all(u.startswith(base) for u in s["feeds"] + s["start_urls"])
        assert isinstance(s["link_pattern"], str)
        re.compile(s["link_pattern"])
        assert re.fullmatch(r"\d+[mh]", str(s["schedule"]))


def test_feeds_parse_and_list_articles(site: DemoSite) -> None:
    for outlet, ctype in FEED_TYPES.items():
        feed_url = only_url(site, outlet, "feeds")
        status, got_type, body = fetch(feed_url)
        assert (status, got_type) == (200, ctype)
        parsed = feedparser.parse(body)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.version == ("rss20" if outlet == "daily-ledger" else "atom10")
        links = {e.link for e in parsed.entries}
        assert all(e.get("published_parsed") and e.get("author") for e in parsed.entries)
        gone = {
            site.outlets[outlet] + a.path.lstrip("/")
            for a in load_feed_only()
            if a.outlet == outlet
        }
        assert links - gone <= article_urls(site, outlet)
        assert len(links - gone) >= 4


def test_feed_item_that_404s(site: DemoSite) -> None:
    (gone,) = load_feed_only()
    url = site.outlets[gone.outlet] + gone.path.lstrip("/")
    feed_url = only_url(site, gone.outlet, "feeds")
    assert url in {e.link for e in feedparser.parse(fetch(feed_url)[2]).entries}
    status, ctype, body = fetch(url)
    assert (status, ctype) == (404, HTML)
    assert b"Page Not Found" in body
    assert fetch(site.outlets["riverpoint"] + "en/no-such-page.html")[0] == 404


def test_article_pages_carry_body_metadata_and_chrome(site: DemoSite) -> None:
    expected = load_expected()
    assert len(expected) == site.article_count() == 12
    for path, exp in expected.items():
        outlet = str(exp["outlet"])
        url = site.outlets[outlet] + path.lstrip("/")
        status, ctype, raw = fetch(url)
        assert (status, ctype) == (200, HTML), url
        page = raw.decode("utf-8")
        assert f'<link rel="canonical" href="{url}">' in page
        assert f">{escape(str(exp['title']))}</h1>" in page
        for key in ("first_paragraph", "last_paragraph"):
            assert f"<p>{escape(str(exp[key]))}</p>" in page
        for chrome in (
            "Recent Stories",
            "More Stories From",
            "minutes ago",
            "Related",
            '<div class="ad">Advertisement</div>',
            "facebook.com/sharer",
            "wa.me",
            "twitter.com/intent",
            "Comments (",
            "newsletter",
            "&copy; 2026",
            "<figcaption>",
            "Published November",
            "breadcrumb",
        ):
            assert chrome in page, (url, chrome)
        published = datetime.fromisoformat(str(exp["published"]))
        if outlet == "daily-ledger":
            (ld,) = [
                json.loads(m)
                for m in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page)
                if '"NewsArticle"' in m
            ]
            assert ld["headline"] == exp["title"]
            assert [a["name"] for a in ld["author"]] == exp["authors"]
            assert datetime.fromisoformat(ld["datePublished"]) == published
            assert ld["datePublished"][-6:] == "-05:00"
            assert ld["publisher"]["name"] and ld["inLanguage"] == "en-US"
        else:
            assert "application/ld+json" not in page
            m = re.search(r'property="article:published_time" content="([^"]+)"', page)
            assert m and datetime.fromisoformat(m.group(1)) == published
            assert isinstance(exp["authors"], list)
            assert f'<meta name="author" content="{", ".join(exp["authors"])}">' in page
            assert re.search(r'<time datetime="[^"]+\+05:00">', page)


def test_listing_link_pattern_separates_articles_from_chrome(site: DemoSite) -> None:
    for outlet in site.outlets:
        src = source(site, outlet)
        pattern = re.compile(str(src["link_pattern"]))
        listing = only_url(site, outlet, "start_urls")
        status, ctype, body = fetch(listing)
        assert (status, ctype) == (200, HTML)
        links = internal_links(listing, body)
        matched = {u for u in links if pattern.search(u)}
        assert matched == article_urls(site, outlet)
        others = links - matched
        assert len(others) >= 5  # sections, about, pagination, ...
        for url in others:  # every non-article link is a real page, just not an article
            assert fetch(url)[0] == 200, url


def test_feed_and_listing_together_discover_every_article(site: DemoSite) -> None:
    for outlet in site.outlets:
        feed_url = only_url(site, outlet, "feeds")
        in_feed = {e.link for e in feedparser.parse(fetch(feed_url)[2]).entries}
        listing = only_url(site, outlet, "start_urls")
        in_listing = internal_links(listing, fetch(listing)[2])
        assert article_urls(site, outlet) <= in_feed | in_listing
    # the Atom feed only carries the newest stories, so the listing page matters
    atom = feedparser.parse(fetch(only_url(site, "riverpoint", "feeds"))[2])
    assert len(atom.entries) < len(article_urls(site, "riverpoint"))


def test_http_behaviour_of_a_real_cms(site: DemoSite) -> None:
    parts = urlsplit(site.outlets["daily-ledger"])
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    conn.request("GET", "/world")
    resp = conn.getresponse()
    resp.read()
    assert (resp.status, resp.getheader("Location")) == (301, "/world/")
    conn.request("GET", "/latest/")
    resp = conn.getresponse()
    resp.read()
    etag = resp.getheader("ETag")
    assert etag and resp.status == 200
    conn.request("GET", "/latest/", headers={"If-None-Match": etag})
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (304, b"")
    conn.close()
    assert fetch(site.outlets["riverpoint"] + "robots.txt")[0] == 200


def test_expected_json_matches_article_data() -> None:
    expected = load_expected()
    assert expected == json.loads(json.dumps(build_expected()))
    for exp in expected.values():
        assert str(exp["published"]).startswith("2026-11-") and str(exp["published"])[-1] == "Z"
    for a in load_articles():
        assert 4 <= len(a.paragraphs) <= 10 and a.authors, a.path


def test_wire_stories_are_near_duplicates_a_day_apart() -> None:
    arts = load_articles()
    pairs: dict[str, list[str]] = {}
    for a in arts:
        if a.wire:
            pairs.setdefault(a.wire, []).append(a.path)
    assert len(pairs) == 2 and all(len(p) == 2 for p in pairs.values())
    by_path = {a.path: a for a in arts}
    for p1, p2 in pairs.values():
        a, b = by_path[p1], by_path[p2]
        assert a.outlet != b.outlet and a.paragraphs[0] != b.paragraphs[0]
        assert abs((a.published.date() - b.published.date()).days) == 1
        assert 0.5 <= containment("\n".join(a.paragraphs), "\n".join(b.paragraphs)) <= 0.75
    for a, b in combinations(arts, 2):
        if not (a.wire and a.wire == b.wire):
            assert containment(" ".join(a.paragraphs), " ".join(b.paragraphs)) < 0.1


def test_exit_frees_ports_and_stops_threads() -> None:
    demo = DemoSite()
    with demo:
        ports = [urlsplit(b).port for b in demo.outlets.values()]
        assert fetch(next(iter(demo.outlets.values())) + "latest/")[0] == 200
        threads = list(demo._threads.values())
    assert ports and all(p for p in ports)
    assert not any(t.is_alive() for t in threads)
    with pytest.raises(RuntimeError):
        _ = demo.outlets
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port or 0), timeout=1).close()
        with socket.socket() as sock:  # the port can be bound again
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port or 0))
