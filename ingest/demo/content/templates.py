"""Markup of the two demo outlets: one page template per outlet, plus their feeds.

The chrome deliberately mirrors real news sites (menus, breadcrumbs, share
bars, ads between paragraphs, newsletter boxes, story lists, comments) because
that is what the extractor has to strip.  The Daily Ledger carries metadata in
JSON-LD + OpenGraph; Riverpoint (UrduPoint-like) only in meta tags and
``<time datetime>``, so both metadata paths of the extractor get exercised.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from html import escape
from urllib.parse import quote

from ingest.demo.content import Article, Outlet, utc_iso

LEDGER = "daily-ledger"
RIVERPOINT = "riverpoint"


def absolute(base: str, path: str) -> str:
    """Join the server's base URL (``http://127.0.0.1:PORT/``) and a site path."""
    return base.rstrip("/") + path


def image_path(a: Article) -> str:
    """Where the lead image of ``a`` is served (each outlet has its own media tree)."""
    if a.outlet == LEDGER:
        return f"/media/{a.published:%Y/%m}/{a.slug}.png"
    return f"/images/news/{a.slug}.png"


def section_path(o: Outlet, section: str) -> str:
    return f"{o.section_prefix}{section.lower()}/"


def dateline(dt: datetime) -> str:
    """``November 12, 2026 | 04:40 PM``, in the outlet's local time."""
    return f"{dt:%B} {dt.day}, {dt.year} | {dt:%I:%M %p}"


def _share_bar(url: str, title: str, cls: str) -> str:
    u, t = quote(url, safe=""), quote(title, safe="")
    return (
        f'<div class="{cls}"><span>Share</span>'
        f'<a class="fb" href="https://www.facebook.com/sharer/sharer.php?u={u}">Facebook</a>'
        f'<a class="x" href="https://twitter.com/intent/tweet?url={u}&amp;text={t}">X</a>'
        f'<a class="wa" href="https://wa.me/?text={t}%20{u}">WhatsApp</a></div>'
    )


def _others(a: Article, siblings: Sequence[Article], n: int, skip: int = 0) -> list[Article]:
    rest = [s for s in siblings if s.path != a.path]
    return rest[skip : skip + n]


def _comments(o: Outlet, a: Article, cls: str) -> str:
    # rotate so neighbouring articles do not show identical threads
    k = sum(map(ord, a.slug)) % len(o.comments)
    picked = (o.comments[k], o.comments[(k + 1) % len(o.comments)])
    items = "".join(
        f'<li class="comment"><span class="comment-author">{escape(u)}</span>'
        f'<span class="comment-time">2 hours ago</span><p>{escape(t)}</p>'
        '<a href="#reply" class="reply">Reply</a></li>'
        for u, t in picked
    )
    return (
        f'<section class="{cls}" id="comments"><h3>Comments ({len(picked)})</h3>'
        f'<ol>{items}</ol><form><textarea name="comment" placeholder="Add a comment">'
        "</textarea><button>Post comment</button></form></section>"
    )


# ---------------------------------------------------------------- Daily Ledger


def _ledger_shell(o: Outlet, title: str, head: str, main: str, body_class: str) -> str:
    nav = "".join(f'<li><a href="{section_path(o, s)}">{escape(s)}</a></li>' for s in o.sections)
    return f"""<!DOCTYPE html>
<html lang="{o.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="/static/ledger.css">
<link rel="alternate" type="application/rss+xml" title="{escape(o.title)}" href="{o.feed}">
{head}
</head>
<body class="{body_class}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
<div class="masthead"><a class="logo" href="{o.home}">{escape(o.title)}</a>
<span class="tagline">{escape(o.tagline)}</span>
<a class="subscribe" href="/newsletters/">Subscribe</a> <a class="login" href="/about/">About</a></div>
<nav class="main-nav" aria-label="Sections"><ul><li><a href="{o.home}">Home</a></li>{nav}</ul></nav>
</header>
<div class="ad ad-leaderboard">Advertisement</div>
<main id="main" class="layout">
{main}
</main>
<footer class="site-footer">
<ul><li><a href="/about/">About us</a></li><li><a href="/contact/">Contact</a></li>
<li><a href="/privacy/">Privacy</a></li><li><a href="{o.feed}">RSS</a></li></ul>
<p>&copy; 2026 {escape(o.title)}. All rights reserved. Published by the Ledger Trust.</p>
</footer>
</body>
</html>
"""


def _ledger_sidebar(o: Outlet, a: Article | None, siblings: Sequence[Article]) -> str:
    recent = _others(a, siblings, 4) if a else list(siblings[:4])
    rec = "".join(f'<li><a href="{r.path}">{escape(r.title)}</a></li>' for r in recent)
    section = a.section if a else o.sections[0]
    more = "".join(
        f'<li><a href="{section_path(o, section)}">{escape(h)}</a> <span class="ago">{t}</span></li>'
        for h, t in o.more_stories
    )
    return (
        '<aside class="sidebar"><div class="ad ad-box">Advertisement</div>'
        f'<section class="recent-stories"><h2>Recent Stories</h2><ul>{rec}</ul></section>'
        f'<section class="more-stories"><h2>More Stories From {escape(section)}</h2>'
        f"<ul>{more}</ul></section></aside>"
    )


def ledger_article(o: Outlet, a: Article, base: str, siblings: Sequence[Article]) -> str:
    """Article page of The Daily Ledger (JSON-LD NewsArticle + OpenGraph)."""
    url, img = absolute(base, a.path), absolute(base, image_path(a))
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a.title,
        "description": a.description,
        "image": [img],
        "datePublished": a.published.isoformat(),
        "dateModified": a.published.isoformat(),
        "author": [{"@type": "Person", "name": n} for n in a.authors],
        "publisher": {
            "@type": "Organization",
            "name": o.title,
            "logo": {"@type": "ImageObject", "url": absolute(base, "/static/logo.png")},
        },
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "articleSection": a.section,
        "keywords": list(a.tags),
        "inLanguage": o.language,
    }
    crumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "Home", "item": base},
            {
                "@type": "ListItem",
                "position": 2,
                "name": a.section,
                "item": absolute(base, section_path(o, a.section)),
            },
        ],
    }
    ld_json = json.dumps(ld, ensure_ascii=False).replace("</", "<\\/")
    crumbs_json = json.dumps(crumbs).replace("</", "<\\/")
    head = f"""<meta name="description" content="{escape(a.description)}">
<link rel="canonical" href="{url}">
<meta property="og:type" content="article">
<meta property="og:site_name" content="{escape(o.title)}">
<meta property="og:title" content="{escape(a.title)}">
<meta property="og:description" content="{escape(a.description)}">
<meta property="og:url" content="{url}">
<meta property="og:image" content="{img}">
<meta name="twitter:card" content="summary_large_image">
<script type="application/ld+json">{ld_json}</script>
<script type="application/ld+json">{crumbs_json}</script>"""
    byline = " and ".join(f'<a rel="author" href="/about/">{escape(n)}</a>' for n in a.authors)
    body: list[str] = []
    for i, p in enumerate(a.paragraphs):
        body.append(f"<p>{escape(p)}</p>")
        if i == 1:
            body.append('<div class="ad">Advertisement</div>')
    tags = "".join(
        f'<li><a href="/topics/{escape(t.lower().replace(" ", "-"))}/">{escape(t)}</a></li>'
        for t in a.tags
    )
    related = "".join(
        f'<li><a href="{r.path}">{escape(r.title)}</a></li>' for r in _others(a, siblings, 2, 2)
    )
    main = f"""<article class="story">
<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>
<li><a href="{o.home}">Home</a></li>
<li><a href="{section_path(o, a.section)}">{escape(a.section)}</a></li>
<li aria-current="page">{escape(a.title)}</li></ol></nav>
<header class="story-header">
<p class="kicker">{escape(a.section)}</p>
<h1 class="headline">{escape(a.title)}</h1>
<p class="dek">{escape(a.description)}</p>
<p class="byline">By {byline}</p>
<p class="dateline">Published {dateline(a.published)}</p>
</header>
{_share_bar(url, a.title, "share-bar")}
<figure class="lead-image"><img src="{image_path(a)}" alt="{escape(a.caption)}" width="1200"
height="675"><figcaption>{escape(a.caption)} <span class="credit">{escape(a.credit)}</span>
</figcaption></figure>
<div class="article-body">
{chr(10).join(body)}
</div>
<ul class="tags">{tags}</ul>
{_share_bar(url, a.title, "share-bar share-bar-bottom")}
<aside class="newsletter-signup"><h3>Get the Morning Ledger</h3>
<p>Our editors' pick of the day's most important stories, in your inbox at 6 a.m.</p>
<form action="/newsletters/" method="post"><input type="email" name="email"
placeholder="Your email address"><button type="submit">Sign up</button></form></aside>
<aside class="related"><h2>Related</h2><ul>{related}</ul></aside>
{_comments(o, a, "comments")}
</article>
{_ledger_sidebar(o, a, siblings)}"""
    return _ledger_shell(o, f"{a.title} | {o.title}", head, main, "article-page")


def ledger_listing(
    o: Outlet, heading: str, arts: Sequence[Article], base: str, siblings: Sequence[Article]
) -> str:
    """Front, "latest" and section pages: article cards with relative links."""
    cards = "".join(
        f"""<li class="story-card"><a class="thumb" href="{a.path}"><img src="{image_path(a)}"
alt=""></a><h2><a href="{a.path}">{escape(a.title)}</a></h2><p class="dek">{escape(a.description)}</p>
<p class="meta">By {escape(", ".join(a.authors))} &middot; {a.published:%b} {a.published.day}</p></li>"""
        for a in arts
    )
    main = f"""<section class="listing"><h1>{escape(heading)}</h1>
<ul class="story-list">{cards}</ul>
<p class="pagination"><a href="{o.listing}?page=2">Older stories</a></p>
<aside class="promo"><a href="/newsletters/">Sign up for our newsletters</a>
<a href="/podcasts/the-ledger-weekly/">Listen: The Ledger Weekly</a></aside>
</section>
{_ledger_sidebar(o, None, siblings)}"""
    head = f'<link rel="canonical" href="{absolute(base, o.listing)}">'
    return _ledger_shell(o, f"{heading} | {o.title}", head, main, "listing-page")


def ledger_page(o: Outlet, title: str, text: str) -> str:
    """Static page (about, contact, 404...) in the Ledger's chrome."""
    main = f'<section class="page"><h1>{escape(title)}</h1><p>{escape(text)}</p></section>'
    return _ledger_shell(o, f"{title} | {o.title}", "", main, "static-page")


def rss_feed(o: Outlet, base: str, items: Sequence[Article]) -> str:
    """RSS 2.0 with ``pubDate`` (RFC 822, local offset) and ``dc:creator`` per item."""
    entries = "".join(
        f"""
<item>
<title>{escape(a.title)}</title>
<link>{absolute(base, a.path)}</link>
<guid isPermaLink="true">{absolute(base, a.path)}</guid>
<pubDate>{format_datetime(a.published)}</pubDate>
<dc:creator>{escape(", ".join(a.authors))}</dc:creator>
<category>{escape(a.section)}</category>
<description>{escape(a.description)}</description>
</item>"""
        for a in items
    )
    newest = max(a.published for a in items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{escape(o.title)} - All Stories</title>
<link>{base}</link>
<atom:link href="{absolute(base, o.feed)}" rel="self" type="application/rss+xml"/>
<description>{escape(o.tagline)}</description>
<language>{o.language.lower()}</language>
<lastBuildDate>{format_datetime(newest)}</lastBuildDate>
<ttl>15</ttl>{entries}
</channel>
</rss>
"""


# ------------------------------------------------------------------ Riverpoint


def _rp_shell(o: Outlet, title: str, head: str, main: str, side: str) -> str:
    nav = "".join(f'<li><a href="{section_path(o, s)}">{escape(s)}</a></li>' for s in o.sections)
    return f"""<!DOCTYPE html>
<html lang="{o.language}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="/en/assets/css/main.css">
<link rel="alternate" type="application/atom+xml" title="{escape(o.title)}" href="{o.feed}">
{head}
</head>
<body>
<div class="top_bar"><span class="today">Sunday 15 November 2026</span>
<a href="/en/videos/">Videos</a> <a href="/en/about-us.html">About</a></div>
<header class="header"><a class="logo" href="{o.home}">{escape(o.title)}</a>
<span class="slogan">{escape(o.tagline)}</span>
<ul class="menu"><li><a href="{o.home}">Home</a></li><li><a href="{o.listing}">Latest</a></li>
{nav}<li><a href="/en/videos/">Videos</a></li></ul></header>
<div class="ad">Advertisement</div>
<div class="container"><div class="main_col">
{main}
</div>
<div class="side_col">{side}</div></div>
<footer class="footer"><ul><li><a href="/en/about-us.html">About Us</a></li>
<li><a href="/en/contact-us.html">Contact Us</a></li>
<li><a href="/en/privacy-policy.html">Privacy Policy</a></li></ul>
<p class="copyright">Copyright &copy; 2026 {escape(o.title)}. All Rights Reserved.</p></footer>
</body>
</html>
"""


def _rp_side(o: Outlet, a: Article | None, siblings: Sequence[Article], base: str) -> str:
    recent = _others(a, siblings, 5) if a else list(siblings[:5])
    rec = "".join(
        f'<li><a href="{absolute(base, r.path)}">{escape(r.title)}</a></li>' for r in recent
    )
    section = a.section if a else o.sections[0]
    more = "".join(
        f'<li><a href="{absolute(base, section_path(o, section))}">{escape(h)}</a>'
        f'<span class="time_ago">{t}</span></li>'
        for h, t in o.more_stories
    )
    return (
        '<div class="ad">Advertisement</div>'
        f'<div class="recent_stories"><h3>Recent Stories</h3><ul>{rec}</ul></div>'
        f'<div class="more_stories"><h3>More Stories From {escape(section)}</h3>'
        f"<ul>{more}</ul></div>"
        '<div class="ad">Advertisement</div>'
    )


def riverpoint_article(o: Outlet, a: Article, base: str, siblings: Sequence[Article]) -> str:
    """Article page of Riverpoint: OpenGraph/meta tags and ``<time>`` only, no JSON-LD."""
    url, img = absolute(base, a.path), absolute(base, image_path(a))
    head = f"""<meta name="description" content="{escape(a.description)}">
<meta name="keywords" content="{escape(", ".join(a.tags))}">
<meta name="author" content="{escape(", ".join(a.authors))}">
<link rel="canonical" href="{url}">
<meta property="og:locale" content="en_PK">
<meta property="og:type" content="article">
<meta property="og:site_name" content="{escape(o.title)}">
<meta property="og:title" content="{escape(a.title)}">
<meta property="og:description" content="{escape(a.description)}">
<meta property="og:url" content="{url}">
<meta property="og:image" content="{img}">
<meta property="article:published_time" content="{a.published.isoformat()}">
<meta property="article:section" content="{escape(a.section)}">
""" + "\n".join(f'<meta property="article:tag" content="{escape(t)}">' for t in a.tags)
    body: list[str] = []
    for i, p in enumerate(a.paragraphs):
        body.append(f"<p>{escape(p)}</p>")
        if i == 2:
            body.append('<div class="ad">Advertisement</div>')
    related = "".join(
        f'<li><a href="{absolute(base, r.path)}">{escape(r.title)}</a></li>'
        for r in _others(a, siblings, 3, 1)
    )
    tags = ", ".join(escape(t) for t in a.tags)
    main = f"""<ul class="breadcrumb"><li><a href="{o.home}">Home</a></li>
<li><a href="{section_path(o, a.section)}">{escape(a.section)}</a></li>
<li class="active">{escape(a.title)}</li></ul>
<div class="news_detail">
<h1 class="news_title">{escape(a.title)}</h1>
<div class="news_info"><span class="author">{escape(", ".join(a.authors))}</span>
<span class="date"><time datetime="{a.published.isoformat()}">Published {dateline(a.published)}</time></span></div>
{_share_bar(url, a.title, "share_btns")}
<h2 class="sub_title">{escape(a.title)}</h2>
<figure class="news_img"><img src="{absolute(base, image_path(a))}" alt="{escape(a.title)}">
<figcaption>{escape(a.caption)} <span class="img_credit">{escape(a.credit)}</span></figcaption></figure>
<div class="detail_txt">
{chr(10).join(body)}
</div>
<div class="tags_box"><strong>Tags:</strong> {tags}</div>
</div>
<div class="related_news"><h3>Related</h3><ul>{related}</ul></div>
<div class="newsletter_box"><h3>Subscribe to our newsletter</h3>
<p>Get the latest news delivered to your inbox every morning.</p>
<form><input type="email" name="email" placeholder="Enter your email"><button>Subscribe</button>
</form></div>
{_comments(o, a, "comments_box")}"""
    return _rp_shell(o, f"{a.title} - {o.title}", head, main, _rp_side(o, a, siblings, base))


def riverpoint_listing(
    o: Outlet, heading: str, arts: Sequence[Article], base: str, siblings: Sequence[Article]
) -> str:
    """Latest-news and section pages: absolute links, like UrduPoint's lists."""
    items = "".join(
        f"""<li><a href="{absolute(base, a.path)}"><img src="{absolute(base, image_path(a))}" alt="">
<h2>{escape(a.title)}</h2></a><p>{escape(a.description)}</p>
<span class="time">{dateline(a.published)}</span></li>"""
        for a in arts
    )
    main = f"""<ul class="breadcrumb"><li><a href="{o.home}">Home</a></li>
<li class="active">{escape(heading)}</li></ul>
<h1 class="page_title">{escape(heading)}</h1>
<ul class="news_list">{items}</ul>
<div class="video_box"><h3>Latest Videos</h3>
<a href="{absolute(base, "/en/videos/kohsar-falcons-final-highlights-7712004.html")}">Highlights:
Kohsar Falcons vs Coastal Rangers, T20 Final</a></div>
<div class="pagination"><a href="{o.listing}?page=2">Next &raquo;</a></div>"""
    head = f'<link rel="canonical" href="{absolute(base, o.listing)}">'
    return _rp_shell(o, f"{heading} - {o.title}", head, main, _rp_side(o, None, siblings, base))


def riverpoint_page(o: Outlet, title: str, text: str) -> str:
    """Static page (about, videos, 404...) in Riverpoint's chrome."""
    main = f'<h1 class="page_title">{escape(title)}</h1><div class="page_txt"><p>{escape(text)}</p></div>'
    return _rp_shell(o, f"{title} - {o.title}", "", main, '<div class="ad">Advertisement</div>')


def atom_feed(o: Outlet, base: str, items: Sequence[Article]) -> str:
    """Atom 1.0 with ``published``/``updated`` carrying the local offset."""
    entries = "".join(
        f"""
<entry>
<title>{escape(a.title)}</title>
<link rel="alternate" type="text/html" href="{absolute(base, a.path)}"/>
<id>{absolute(base, a.path)}</id>
<published>{a.published.isoformat()}</published>
<updated>{a.published.isoformat()}</updated>
<author><name>{escape(", ".join(a.authors))}</name></author>
<category term="{escape(a.section)}"/>
<summary type="html">{escape(a.description)}</summary>
</entry>"""
        for a in items
    )
    newest = max(a.published for a in items)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{o.language}">
<title>{escape(o.title)} - Latest News</title>
<subtitle>{escape(o.tagline)}</subtitle>
<link rel="self" type="application/atom+xml" href="{absolute(base, o.feed)}"/>
<link rel="alternate" type="text/html" href="{absolute(base, o.listing)}"/>
<id>{absolute(base, o.home)}</id>
<updated>{utc_iso(newest)}</updated>{entries}
</feed>
"""
