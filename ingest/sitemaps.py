"""XML sitemaps, sitemap indexes and Google News sitemaps.

Parsed incrementally with expat (no external entities, no DTD fetches) so a
big sitemap does not build a tree; gzip'd sitemaps (``.xml.gz``) are
inflated with the same bounded decoder as HTTP bodies.  Element names are
matched by local name, because real sitemaps get namespaces wrong.

Dates: ``news:publication_date`` is a published date; a plain ``lastmod`` is
kept as a weaker candidate (the page's own date wins in normalization).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

from ingest.candidates import Discovered
from ingest.charset import as_utf8_xml
from ingest.content_encoding import BadEncoding, BodyTooLarge, decoder_for
from ingest.feeds import parse_iso_date
from ingest.urls import try_canonicalize

MAX_URLS = 50_000
MAX_INFLATED = 64 * 1024 * 1024
_CHUNK = 64 * 1024


class SitemapError(ValueError):
    """Not a sitemap, or broken before any entry could be read."""


@dataclass(frozen=True, slots=True)
class ChildSitemap:
    url: str
    lastmod: datetime | None


@dataclass(slots=True)
class SitemapDoc:
    """A parsed sitemap: article candidates, or (for an index) child sitemaps.

    ``error`` is set when the document broke part-way; what came before is kept.
    """

    urls: list[Discovered] = field(default_factory=list)
    children: list[ChildSitemap] = field(default_factory=list)
    is_index: bool = False
    error: str | None = None


def is_sitemap(content: bytes) -> bool:
    """Cheap sniff: gzip magic, or a ``<urlset``/``<sitemapindex`` root near the top."""
    if content[:2] == b"\x1f\x8b":
        return True
    head = content[:2048].lower()
    return b"<urlset" in head or b"<sitemapindex" in head


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].split(":")[-1].lower()


def inflate(content: bytes, limit: int = MAX_INFLATED) -> bytes:
    """Gunzip a ``.xml.gz`` sitemap, at most ``limit`` bytes.  Raises :class:`SitemapError`."""
    decoder = decoder_for("gzip", limit)
    try:
        parts = [decoder.feed(content[i : i + _CHUNK]) for i in range(0, len(content), _CHUNK)]
        parts.append(decoder.flush())
    except BodyTooLarge:
        raise SitemapError(f"gzip'd sitemap inflates past {limit} bytes") from None
    except BadEncoding as exc:
        raise SitemapError(f"corrupt gzip'd sitemap: {exc}") from None
    return b"".join(parts)


def parse_sitemap(
    content: bytes, sitemap_url: str, content_type: str | None = None, *, max_urls: int = MAX_URLS
) -> SitemapDoc:
    """Read a sitemap or sitemap index.  Raises :class:`SitemapError` when nothing is readable."""
    if content[:2] == b"\x1f\x8b":
        content = inflate(content)
    if b"<!ENTITY" in content[:8192]:
        raise SitemapError("entity declarations are not allowed in a sitemap")
    doc = _parse(content, sitemap_url, max_urls)
    if doc.error and ("encoding" in doc.error.lower() or "not well-formed" in doc.error):
        retry = _parse(as_utf8_xml(content, content_type), sitemap_url, max_urls)
        if len(retry.urls) + len(retry.children) > len(doc.urls) + len(doc.children):
            doc = retry
    if doc.error and not doc.urls and not doc.children:
        raise SitemapError(f"unreadable sitemap: {doc.error}")
    return doc


def _parse(content: bytes, sitemap_url: str, max_urls: int) -> SitemapDoc:
    doc = SitemapDoc()
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    entry: dict[str, str] = {}
    root_seen = False
    try:
        for start in range(0, len(content), _CHUNK):
            parser.feed(content[start : start + _CHUNK])
            for item in parser.read_events():
                if not isinstance(item, tuple) or len(item) != 2:
                    continue
                event, elem = item
                if not isinstance(elem, ET.Element):
                    continue
                name = _local(elem.tag)
                if event == "start":
                    if not root_seen:
                        root_seen = True
                        if name not in ("urlset", "sitemapindex"):
                            raise SitemapError(f"root element <{name}> is not a sitemap")
                        doc.is_index = name == "sitemapindex"
                    if name in ("url", "sitemap"):
                        entry = {}
                    continue
                if name in ("loc", "lastmod", "publication_date", "title"):
                    entry.setdefault(name, (elem.text or "").strip())
                elif name in ("url", "sitemap"):
                    _add(doc, entry, sitemap_url)
                    elem.clear()
                    if len(doc.urls) + len(doc.children) >= max_urls:
                        doc.error = f"stopped after {max_urls} entries"
                        return doc
        parser.close()
    except ET.ParseError as exc:
        doc.error = str(exc)
    if not root_seen and doc.error is None:
        doc.error = "empty document"
    return doc


def _add(doc: SitemapDoc, entry: dict[str, str], sitemap_url: str) -> None:
    url = try_canonicalize(entry.get("loc", "")) if entry.get("loc") else None
    if url is None:
        return
    lastmod = parse_iso_date(entry.get("lastmod"))
    if doc.is_index:
        doc.children.append(ChildSitemap(url, lastmod))
        return
    published = parse_iso_date(entry.get("publication_date")) or lastmod
    doc.urls.append(Discovered(url, sitemap_url, published, entry.get("title") or None))
