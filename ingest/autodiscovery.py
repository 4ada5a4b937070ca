"""Feed autodiscovery: the ``<link rel=alternate>`` feeds a home or section page advertises."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from ingest.urls import absolute, same_site

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "application/xml",
        "text/xml",
    }
)


def feed_links(html: str, base_url: str, *, limit: int = 3) -> list[str]:
    """Absolute URLs of the feeds ``html`` advertises, on the page's own site.

    Comment feeds (WordPress adds one per article) are skipped; a feed on
    another site is a syndication partner, not this source.
    """
    tree = LexborHTMLParser(html)
    base = base_url
    base_tag = tree.css_first("base[href]")
    if base_tag is not None:
        base = absolute(base_url, base_tag.attributes.get("href") or "") or base_url
    out: list[str] = []
    for node in tree.css("link[rel][href]"):
        attrs = node.attributes
        rels = (attrs.get("rel") or "").lower().split()
        media = (attrs.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rels or media not in FEED_TYPES:
            continue
        title = (attrs.get("title") or "").lower()
        url = absolute(base, attrs.get("href") or "")
        if url is None or "comments" in title or "/comments/" in url:
            continue
        if same_site(url, base_url) and url not in out:
            out.append(url)
        if len(out) >= limit:
            break
    return out
