"""Deterministic article pages, feeds and sitemaps of the benchmark site.

Pages look like real news pages (~30 KB: navigation, JSON-LD, OpenGraph, a
sidebar, a 600-900 word body, comments) and every body is different, so the
exact-duplicate check does not collapse them.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

WORDS = ["council", "budget", "river", "bridge", "school", "teachers", "vote", "mayor", "plan", "city", "hospital", "nurses", "strike", "rail", "line", "station", "housing", "rent", "market", "farmers", "harbour", "storm", "flood", "police", "court", "judge", "museum", "festival", "library", "report", "minister", "election", "campaign", "energy", "prices", "wind", "solar", "water", "supply", "park", "trees", "students", "university", "research", "health", "clinic", "weather", "coast"]
SECTIONS = ["news", "politics", "business", "science", "culture", "sport", "local", "world"]
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
# Page weight real sites carry: framework state and inline CSS (~18 KB together).
_STATE = json.dumps({"ads": [{"slot": f"slot-{k}", "sizes": [[300, 250], [728, 90]],
                              "targeting": {"section": SECTIONS[k % 8], "kw": WORDS[:12]}}
                             for k in range(40)]})
_STYLE = "".join(f".c{k}{{margin:{k % 9}px;padding:{k % 7}px;color:#{k:06x}}}" for k in range(250))


def published(host: int, n: int) -> datetime:
    return EPOCH + timedelta(hours=n * 3 + host)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(9, 18))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def title(host: int, n: int) -> str:
    rng = random.Random(host * 100_003 + n)
    return f"{' '.join(rng.choice(WORDS) for _ in range(6)).capitalize()} ({host}-{n})"


def article(host: int, n: int, base: str) -> str:
    rng = random.Random(host * 1_000_003 + n)
    head = title(host, n)
    paras = "\n".join(
        f"<p>{' '.join(_sentence(rng) for _ in range(rng.randint(3, 6)))}</p>"
        for _ in range(rng.randint(12, 16))
    )
    url = f"{base}/{SECTIONS[n % len(SECTIONS)]}/{n}/story-{n}.html"
    when = published(host, n).isoformat()
    ld = json.dumps(
        {"@context": "https://schema.org", "@type": "NewsArticle", "headline": head,
         "datePublished": when, "author": [{"@type": "Person", "name": f"Reporter {n % 17}"}],
         "mainEntityOfPage": url}
    )
    nav = "".join(f'<li><a href="{base}/{s}/">{s.title()}</a></li>' for s in SECTIONS * 3)
    related = "".join(
        f'<li><a href="{base}/news/{(n + k) % 997}/story-{(n + k) % 997}.html">'
        f"{escape(title(host, (n + k) % 997))}</a></li>"
        for k in range(1, 13)
    )
    comments = "".join(
        f'<li class="comment"><b>reader{k}</b><p>{_sentence(rng)}</p></li>' for k in range(4)
    )
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{escape(head)} | Host {host} News</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="canonical" href="{url}"><meta property="og:url" content="{url}">
<meta property="og:title" content="{escape(head)}"><meta property="og:type" content="article">
<meta name="description" content="{escape(_sentence(rng))}">
<meta property="article:published_time" content="{when}">
<link rel="alternate" type="application/rss+xml" href="{base}/feed.xml">
<script type="application/ld+json">{ld}</script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}</script>
<script>window.__STATE__={_STATE}</script>
<style>{_STYLE}</style>
</head><body class="article-page">
<header class="site-header"><a class="logo" href="{base}/">Host {host} News</a>
<nav><ul>{nav}</ul></nav><div class="ad">Advertisement</div></header>
<main><article class="story"><h1>{escape(head)}</h1>
<p class="byline">By Reporter {n % 17} · <time datetime="{when}">{when[:10]}</time></p>
<div class="story-body">{paras}</div>
<div class="share"><a href="#">Share</a> <a href="#">Tweet</a></div></article>
<aside class="sidebar"><h2>Related</h2><ul>{related}</ul><div class="ad">Advertisement</div></aside>
<section class="comments"><h3>Comments</h3><ol>{comments}</ol></section></main>
<footer><ul><li><a href="{base}/about/">About</a></li><li><a href="{base}/privacy/">Privacy</a>
</li></ul><p>&copy; 2026 Host {host} News</p></footer></body></html>"""


def article_path(n: int) -> str:
    return f"/{SECTIONS[n % len(SECTIONS)]}/{n}/story-{n}.html"


def rss(host: int, base: str, ids: range) -> str:
    items = "".join(
        f"<item><title>{escape(title(host, n))}</title><link>{base}{article_path(n)}?utm_source=rss</link>"
        f"<guid>{base}{article_path(n)}</guid><pubDate>{format_datetime(published(host, n))}</pubDate></item>"
        for n in ids
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Host {host}</title>'
            f"<link>{base}/</link><description>news</description>{items}</channel></rss>")


def atom(host: int, base: str, ids: range) -> str:
    entries = "".join(
        f"<entry><title>{escape(title(host, n))}</title><link href='{base}{article_path(n)}'/>"
        f"<id>{base}{article_path(n)}</id><published>{published(host, n).isoformat()}</published>"
        f"<updated>{published(host, n).isoformat()}</updated></entry>"
        for n in ids
    )
    return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>Host {host}</title><id>{base}/</id><updated>{EPOCH.isoformat()}</updated>{entries}</feed>")


def json_feed(host: int, base: str, ids: range) -> str:
    items = [
        {"id": f"{base}{article_path(n)}", "url": f"{base}{article_path(n)}", "title": title(host, n),
         "date_published": published(host, n).isoformat()}
        for n in ids
    ]
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": f"Host {host}",
                       "home_page_url": f"{base}/", "items": items})


def sitemap_index(base: str, parts: int) -> str:
    maps = "".join(
        f"<sitemap><loc>{base}/sitemap-{k}.xml</loc><lastmod>2025-02-0{k + 1}</lastmod></sitemap>"
        for k in range(parts)
    )
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}</sitemapindex>')


def sitemap(host: int, base: str, ids: range, *, news: bool) -> str:
    def entry(n: int) -> str:
        if news:
            return (f"<url><loc>{base}{article_path(n)}</loc><news:news><news:publication>"
                    f"<news:name>Host {host}</news:name><news:language>en</news:language>"
                    f"</news:publication><news:publication_date>{published(host, n).isoformat()}"
                    f"</news:publication_date><news:title>{escape(title(host, n))}</news:title>"
                    "</news:news></url>")
        return f"<url><loc>{base}{article_path(n)}</loc><lastmod>{published(host, n).date()}</lastmod></url>"

    ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>'
            f"{''.join(entry(n) for n in ids)}</urlset>")
