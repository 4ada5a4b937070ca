"""Normalization: an extracted page becomes the row we store.

Decides the canonical URL, the published date (page metadata first, then the
feed's date), the language, and the content hash used for exact duplicates.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.types import utcnow
from ingest.urls import canonicalize, same_site
from scrapers import ExtractedArticle

_SPACE = re.compile(r"\s+")


def content_hash(text: str) -> str:
    """SHA-256 of the body after NFKC, case folding and whitespace folding.

    ``split()``/``join`` folds exactly the runs ``\\s+`` matches (both use
    ``str.isspace``) at a fraction of the regex's cost.
    """
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def clean_authors(authors: tuple[str, ...] | list[str]) -> list[str]:
    out: list[str] = []
    for name in authors:
        name = _SPACE.sub(" ", name).strip(" ,;|")
        if name and len(name) <= 200 and name.casefold() not in (a.casefold() for a in out):
            out.append(name)
    return out


@dataclass(frozen=True, slots=True)
class Hints:
    """What discovery knew about a URL before fetching it."""

    requested_url: str
    final_url: str
    feed_published_at: datetime | None = None
    feed_title: str | None = None
    source_language: str | None = None


def choose_url(article: ExtractedArticle, hints: Hints) -> tuple[str, str]:
    """The canonical URL and where it came from.

    A page's ``rel=canonical`` is trusted only on its own site: a cross-domain
    canonical is a syndication signal (kept in provenance), not our identity.
    """
    declared = article.canonical_url
    if declared and re.match(r"^https?://", declared) and same_site(declared, hints.final_url):
        return canonicalize(declared), "canonical"
    return canonicalize(hints.final_url), "final-url"


def article_values(article: ExtractedArticle, hints: Hints, source_id: int | None) -> dict[str, Any]:
    """Column values for :class:`db.models.Article` (without the raw page)."""
    url, url_origin = choose_url(article, hints)
    provenance: dict[str, Any] = dict(article.provenance)
    provenance["url"] = url_origin
    if article.canonical_url and url_origin != "canonical":
        provenance["declared_canonical"] = article.canonical_url
    published = article.published_at
    if published is None and hints.feed_published_at is not None:
        published = hints.feed_published_at
        provenance["published_at"] = "feed"
    title = article.title or hints.feed_title
    if not article.title and hints.feed_title:
        provenance["title"] = "feed"
    language = article.language or hints.source_language
    if not article.language and hints.source_language:
        provenance["language"] = "source-config"
    return {
        "source_id": source_id,
        "url": url,
        "fetched_url": canonicalize(hints.requested_url),
        "title": title,
        "authors": clean_authors(article.authors),
        "published_at": published,
        "modified_at": article.modified_at,
        "fetched_at": utcnow(),
        "language": language,
        "site_name": article.site_name,
        "lead_image": article.lead_image,
        "description": article.description,
        "body": article.text,
        "content_hash": content_hash(article.text),
        "word_count": article.word_count,
        "rule": article.rule,
        "provenance": provenance,
        "flags": [str(f) for f in article.flags],
    }


def raw_page_values(url: str, content: bytes, content_type: str | None) -> dict[str, Any]:
    """The compressed page for re-extraction (gzip level 1: stdlib, ~4x on HTML, 5x faster than 6)."""
    return {
        "url": url,
        "fetched_at": utcnow(),
        "content_type": content_type,
        "compression": "gzip",
        "size": len(content),
        "data": gzip.compress(content, compresslevel=1),
    }
