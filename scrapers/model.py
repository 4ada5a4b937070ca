"""Data produced by the scrapers: what an extracted article looks like.

These types are the contract between ``scrapers`` (pure, HTML in, data out)
and ``ingest`` (which normalizes and stores them).  They are plain frozen
dataclasses so they cross process and thread boundaries cheaply.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class ExtractionFlag(enum.StrEnum):
    """Why a result is empty or partial; an extraction never raises for bad input."""

    EMPTY_INPUT = "empty_input"
    NOT_HTML = "not_html"
    TRUNCATED = "truncated"
    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    NO_ARTICLE = "no_article"
    SHORT_BODY = "short_body"
    PAYWALLED = "paywalled"
    DECODE_ERRORS = "decode_errors"
    EXTRACTOR_ERROR = "extractor_error"


@dataclass(frozen=True, slots=True)
class FieldSource:
    """Where a metadata value was read from, e.g. ``json-ld``, ``og``, ``meta:author``."""

    field: str
    origin: str


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """One page turned into an article.

    ``text`` is the body: paragraphs (and subheadings) in order, separated by a
    blank line.  Datetimes are timezone-aware (UTC) or ``None`` when the page
    does not carry them.
    """

    url: str | None
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    text: str = ""
    canonical_url: str | None = None
    site_name: str | None = None
    lead_image: str | None = None
    description: str | None = None
    rule: str | None = None
    provenance: dict[str, str] = field(default_factory=dict)
    flags: tuple[ExtractionFlag, ...] = ()

    @property
    def paragraphs(self) -> list[str]:
        """The body split into its paragraphs."""
        return [p for p in self.text.split("\n\n") if p.strip()]

    @property
    def word_count(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True, slots=True)
class CleanedDump:
    """A text dump (``date YYYY-MM-DD <text>``) with its chrome removed."""

    text: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    dump_date: datetime | None = None
    removed: tuple[str, ...] = ()
