"""The demo outlets' articles, kept as data (``articles.toml``) apart from the markup.

Prose lives in TOML so it can be edited without touching code; this module
turns it into typed records and derives ``expected.json`` (what a correct
extractor should recover from each page).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

CONTENT_DIR = Path(__file__).parent
ARTICLES_PATH = CONTENT_DIR / "articles.toml"
EXPECTED_PATH = CONTENT_DIR / "expected.json"


@dataclass(frozen=True, slots=True)
class Outlet:
    """Site-wide settings and the filler shown around every article."""

    name: str
    title: str
    tagline: str
    language: str
    sections: tuple[str, ...]
    home: str
    section_prefix: str
    listing: str
    feed: str
    feed_limit: int
    schedule: str
    link_pattern: str  # relative to the base URL, which the server only knows once bound
    pages: tuple[tuple[str, str, str], ...]  # (path, title, text) of non-article pages
    more_stories: tuple[tuple[str, str], ...]  # (headline, relative time)
    comments: tuple[tuple[str, str], ...]  # (commenter, text)


@dataclass(frozen=True, slots=True)
class Article:
    """One article page; ``wire`` names a story that both outlets carry."""

    outlet: str
    path: str
    section: str
    title: str
    description: str
    authors: tuple[str, ...]
    published: datetime
    caption: str
    credit: str
    tags: tuple[str, ...]
    paragraphs: tuple[str, ...]
    wire: str | None = None

    @property
    def slug(self) -> str:
        """Last path segment without extension, used for image names."""
        return self.path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")


@cache
def _raw() -> dict[str, Any]:
    with ARTICLES_PATH.open("rb") as fh:
        return tomllib.load(fh)


def load_outlets() -> dict[str, Outlet]:
    """Outlet settings keyed by outlet name, in file order."""
    return {
        name: Outlet(
            name=name,
            title=o["title"],
            tagline=o["tagline"],
            language=o["language"],
            sections=tuple(o["sections"]),
            home=o["home"],
            section_prefix=o["section_prefix"],
            listing=o["listing"],
            feed=o["feed"],
            feed_limit=o["feed_limit"],
            schedule=o["schedule"],
            link_pattern=o["link_pattern"],
            pages=tuple((p, t, x) for p, t, x in o["pages"]),
            more_stories=tuple((h, t) for h, t in o["more_stories"]),
            comments=tuple((u, c) for u, c in o["comments"]),
        )
        for name, o in _raw()["outlet"].items()
    }


def _article(a: dict[str, Any]) -> Article:
    return Article(
        outlet=a["outlet"],
        path=a["path"],
        section=a["section"],
        title=a["title"],
        description=a["description"],
        authors=tuple(a["authors"]),
        published=datetime.fromisoformat(a["published"]),
        caption=a.get("caption", ""),
        credit=a.get("credit", ""),
        tags=tuple(a.get("tags", ())),
        paragraphs=tuple(a.get("paragraphs", ())),
        wire=a.get("wire"),
    )


def load_articles() -> list[Article]:
    """All articles, newest first (the order listing pages and feeds use)."""
    arts = [_article(a) for a in _raw()["article"]]
    return sorted(arts, key=lambda a: a.published, reverse=True)


def load_feed_only() -> list[Article]:
    """Feed items whose page is gone (404), so a crawl records a failure."""
    return [_article(a) for a in _raw().get("feed_only", [])]


def utc_iso(dt: datetime) -> str:
    """``2026-11-12T21:40:00Z``: the form ``expected.json`` uses."""
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def build_expected() -> dict[str, dict[str, object]]:
    """What extraction should yield per article path (derived, so it cannot drift)."""
    return {
        a.path: {
            "outlet": a.outlet,
            "title": a.title,
            "authors": list(a.authors),
            "published": utc_iso(a.published),
            "first_paragraph": a.paragraphs[0],
            "last_paragraph": a.paragraphs[-1],
            "paragraph_count": len(a.paragraphs),
            "wire": a.wire,
        }
        for a in sorted(load_articles(), key=lambda a: (a.outlet, a.path))
    }


def load_expected() -> dict[str, dict[str, object]]:
    """The committed ``expected.json`` (tests compare it with :func:`build_expected`)."""
    data: dict[str, dict[str, object]] = json.loads(EXPECTED_PATH.read_text("utf-8"))
    return data


def write_expected() -> None:
    """Regenerate ``expected.json`` after editing ``articles.toml``::

    python -c "from ingest.demo.content import write_expected; write_expected()"
    """
    text = json.dumps(build_expected(), indent=2, ensure_ascii=False) + "\n"
    EXPECTED_PATH.write_text(text, "utf-8")
