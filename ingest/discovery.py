"""Discovery: turn a source's feeds and listing pages into candidate article URLs.

Feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed) are read with feedparser and fetched
with conditional GET, so an unchanged feed costs a 304.  Feed dates are kept
as candidate published dates for the normalizer.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from ingest.attempts import AttemptRecord
from ingest.config import SourceConfig
from ingest.errors import FetchError
from ingest.fetching import FetchedPage, Fetcher, Validators
from ingest.outcomes import Outcome
from ingest.urls import canonicalize
from scrapers.encoding import decode_html
from scrapers.listing import find_links


@dataclass(frozen=True, slots=True)
class Discovered:
    """A candidate article URL with what the feed said about it."""

    url: str
    via: str
    published_at: datetime | None = None
    title: str | None = None


@dataclass(slots=True)
class DiscoveryReport:
    links: list[Discovered] = field(default_factory=list)
    attempts: list[AttemptRecord] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when every entry point failed (nothing was read at all)."""
        return bool(self.attempts) and all(a.outcome.is_failure for a in self.attempts)


GetValidators = Callable[[str], Validators | None]
SaveValidators = Callable[[str, Validators], None]


def _struct_to_dt(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def parse_feed(content: bytes, feed_url: str) -> list[Discovered]:
    """Entries of a feed, newest first as the feed lists them.

    Raises ``ValueError`` when the document is not a feed at all.
    """
    parsed = feedparser.parse(content)
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no feed entries"
        raise ValueError(f"not a readable feed: {reason}")
    out: list[Discovered] = []
    for entry in entries:
        link = entry.get("link") or ""
        if not link:
            candidate = entry.get("id") or ""
            link = candidate if re.match(r"^https?://", candidate) else ""
        if not re.match(r"^https?://", link):
            continue
        published = _struct_to_dt(entry.get("published_parsed") or entry.get("updated_parsed"))
        out.append(Discovered(canonicalize(link), feed_url, published, entry.get("title")))
    return out


async def discover(
    source: SourceConfig,
    fetcher: Fetcher,
    get_validators: GetValidators,
    save_validators: SaveValidators,
) -> DiscoveryReport:
    """Read every feed and listing page of ``source``; failures are recorded, never raised."""
    report = DiscoveryReport()
    for feed_url in source.feeds:
        await _read_feed(feed_url, fetcher, report, get_validators, save_validators)
    for page_url in source.start_urls:
        await _read_listing(page_url, source.link_pattern or ".", fetcher, report)
    seen: dict[str, Discovered] = {}
    for link in report.links:
        prior = seen.get(link.url)
        if prior is None or (prior.published_at is None and link.published_at is not None):
            seen[link.url] = link
    report.links = list(seen.values())
    return report


async def _read_feed(
    url: str,
    fetcher: Fetcher,
    report: DiscoveryReport,
    get_validators: GetValidators,
    save_validators: SaveValidators,
) -> None:
    try:
        page = await fetcher.fetch(url, kind="feed", validators=get_validators(url))
    except FetchError as exc:
        report.attempts.append(AttemptRecord.from_error(exc, "feed"))
        return
    if page.not_modified:
        report.attempts.append(AttemptRecord.from_page(page, "feed", Outcome.NOT_MODIFIED))
        return
    try:
        links = parse_feed(page.content, page.final_url)
    except ValueError as exc:
        report.attempts.append(
            AttemptRecord.from_page(page, "feed", Outcome.PARSE_ERROR, error=str(exc))
        )
        return
    report.links.extend(links)
    report.attempts.append(AttemptRecord.from_page(page, "feed", Outcome.DISCOVERED))
    if page.validators.etag or page.validators.last_modified:
        save_validators(url, page.validators)


async def _read_listing(url: str, pattern: str, fetcher: Fetcher, report: DiscoveryReport) -> None:
    try:
        page: FetchedPage = await fetcher.fetch(url, kind="listing")
    except FetchError as exc:
        report.attempts.append(AttemptRecord.from_error(exc, "listing"))
        return
    html, _ = decode_html(page.content, page.content_type)
    links = [canonicalize(u) for u in find_links(html, page.final_url, pattern)]
    report.links.extend(Discovered(u, url) for u in links)
    report.attempts.append(AttemptRecord.from_page(page, "listing", Outcome.DISCOVERED))
