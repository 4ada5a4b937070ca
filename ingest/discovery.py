"""Discovery: turn a source's entry points into candidate article URLs.

Entry points are feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed), sitemaps and
sitemap indexes (Google News sitemaps too), the ``Sitemap:`` lines of
robots.txt, and listing pages read with a link pattern.  A listing page of a
source without configured feeds or sitemaps is also searched for advertised
feeds (``<link rel=alternate>``), whose dates are better than none.

Documents are recognised by content, not by configuration: a sitemap given
as a feed is read as a sitemap.  Feeds and sitemaps are fetched with
conditional GET, so an unchanged one costs a 304; validators are saved only
once the document (and, for an index, every child) was read.  Failures are
recorded as attempts with their outcome, never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingest.attempts import AttemptRecord
from ingest.autodiscovery import feed_links
from ingest.candidates import Discovered, merge
from ingest.config import SourceConfig
from ingest.errors import FetchError
from ingest.feeds import FeedError, parse_feed
from ingest.fetching import FetchedPage, Fetcher, Validators
from ingest.outcomes import Outcome
from ingest.sitemaps import SitemapDoc, SitemapError, is_sitemap, parse_sitemap
from ingest.urls import host_of, try_canonicalize
from scrapers.encoding import decode_html
from scrapers.listing import find_links

__all__ = ["Discovered", "DiscoveryReport", "EntryPoints", "discover", "discover_entry_points"]

MAX_CHILD_SITEMAPS = 50
MAX_SITEMAP_DEPTH = 2
MAX_AUTODISCOVERED_FEEDS = 2
_INLINE_PARSE_BYTES = 1 << 20
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True)
class DiscoveryReport:
    links: list[Discovered] = field(default_factory=list)
    attempts: list[AttemptRecord] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when every entry point failed and nothing was found at all."""
        return (
            bool(self.attempts)
            and not self.links
            and all(a.outcome.is_failure for a in self.attempts)
        )


GetValidators = Callable[[str], Validators | None]
SaveValidators = Callable[[str, Validators], None]


@dataclass(frozen=True, slots=True)
class EntryPoints:
    """Where a source's article URLs come from."""

    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    robots_sitemaps: bool = False
    listings: tuple[str, ...] = ()
    link_pattern: str = "."
    autodiscover: bool = True

    @classmethod
    def of(cls, source: SourceConfig) -> EntryPoints:
        # ``sitemaps``/``robots_sitemaps`` are read with getattr so this works
        # before and after those keys exist on SourceConfig.
        sitemaps = getattr(source, "sitemaps", None) or ()
        return cls(
            feeds=tuple(source.feeds),
            sitemaps=tuple(str(u) for u in sitemaps),
            robots_sitemaps=bool(getattr(source, "robots_sitemaps", False)),
            listings=tuple(source.start_urls),
            link_pattern=source.link_pattern or ".",
        )


async def discover(
    source: SourceConfig,
    fetcher: Fetcher,
    get_validators: GetValidators,
    save_validators: SaveValidators,
) -> DiscoveryReport:
    """Read every entry point of ``source``; failures are recorded, never raised."""
    return await discover_entry_points(
        EntryPoints.of(source), fetcher, get_validators, save_validators
    )


async def discover_entry_points(
    points: EntryPoints,
    fetcher: Fetcher,
    get_validators: GetValidators,
    save_validators: SaveValidators,
) -> DiscoveryReport:
    reader = _Reader(fetcher, get_validators, save_validators)
    sitemaps = list(points.sitemaps)
    if points.robots_sitemaps:
        sitemaps += await reader.robots_sitemaps(points)
    documents = [reader.document(u, "feed") for u in points.feeds]
    documents += [reader.document(u, "sitemap") for u in dict.fromkeys(sitemaps)]
    await asyncio.gather(*documents)
    advertised: list[str] = []
    for page_url in points.listings:
        advertised += await reader.listing(page_url, points.link_pattern)
    if points.autodiscover and not points.feeds and not sitemaps:
        chosen = list(dict.fromkeys(advertised))[:MAX_AUTODISCOVERED_FEEDS]
        await asyncio.gather(*(reader.document(u, "feed") for u in chosen))
    reader.report.links = merge(reader.report.links)
    return reader.report


class _Reader:
    """Fetches and parses entry points, appending links and attempts to one report."""

    def __init__(
        self, fetcher: Fetcher, get_validators: GetValidators, save_validators: SaveValidators
    ) -> None:
        self.fetcher = fetcher
        self.get_validators = get_validators
        self.save_validators = save_validators
        self.report = DiscoveryReport()

    async def robots_sitemaps(self, points: EntryPoints) -> list[str]:
        """``Sitemap:`` lines of robots.txt of every host the source names."""
        origins: dict[str, str] = {}
        for url in (*points.feeds, *points.sitemaps, *points.listings):
            origins.setdefault(host_of(url), url)
        found: list[str] = []
        for url in origins.values():
            try:
                found += await self.fetcher.sitemaps_in_robots(url)
            except FetchError as exc:
                self.report.attempts.append(AttemptRecord.from_error(exc, "robots"))
        return [u for u in found if u.startswith(("http://", "https://"))]

    async def document(self, url: str, kind: str, depth: int = 0) -> bool:
        """Read a feed or sitemap; True when it was read fully (or is unchanged)."""
        try:
            page = await self.fetcher.fetch(
                url, kind=kind, validators=self.get_validators(url)
            )
        except FetchError as exc:
            self.report.attempts.append(AttemptRecord.from_error(exc, kind))
            return False
        if page.not_modified:
            self.report.attempts.append(AttemptRecord.from_page(page, kind, Outcome.NOT_MODIFIED))
            return True
        if is_sitemap(page.content):
            ok = await self._sitemap(page, depth)
        else:
            ok = self._feed(page)
        validators = page.validators
        if ok and (validators.etag or validators.last_modified):
            self.save_validators(url, validators)
        return ok

    def _feed(self, page: FetchedPage) -> bool:
        try:
            links = parse_feed(page.content, page.final_url, page.content_type)
        except FeedError as exc:
            self.report.attempts.append(
                AttemptRecord.from_page(page, "feed", Outcome.PARSE_ERROR, error=str(exc))
            )
            return False
        self.report.links.extend(links)
        self.report.attempts.append(AttemptRecord.from_page(page, "feed", Outcome.DISCOVERED))
        return True

    async def _sitemap(self, page: FetchedPage, depth: int) -> bool:
        args = (page.content, page.final_url, page.content_type)
        try:
            if len(page.content) > _INLINE_PARSE_BYTES:  # keep the event loop responsive
                doc = await asyncio.to_thread(parse_sitemap, *args)
            else:
                doc = parse_sitemap(*args)
        except SitemapError as exc:
            self.report.attempts.append(
                AttemptRecord.from_page(page, "sitemap", Outcome.PARSE_ERROR, error=str(exc))
            )
            return False
        self.report.links.extend(_newest_first(doc))
        outcome = Outcome.PARSE_ERROR if doc.error else Outcome.DISCOVERED
        self.report.attempts.append(
            AttemptRecord.from_page(page, "sitemap", outcome, error=doc.error)
        )
        if not doc.children:
            return doc.error is None
        if depth + 1 > MAX_SITEMAP_DEPTH:
            return False
        children = sorted(doc.children, key=lambda c: c.lastmod or _OLDEST, reverse=True)
        results = await asyncio.gather(
            *(self.document(c.url, "sitemap", depth + 1) for c in children[:MAX_CHILD_SITEMAPS])
        )
        return doc.error is None and all(results)

    async def listing(self, url: str, pattern: str) -> list[str]:
        """Read a listing page; returns the feeds it advertises."""
        try:
            page = await self.fetcher.fetch(url, kind="listing")
        except FetchError as exc:
            self.report.attempts.append(AttemptRecord.from_error(exc, "listing"))
            return []
        html, _ = decode_html(page.content, page.content_type)
        found = (try_canonicalize(u) for u in find_links(html, page.final_url, pattern))
        self.report.links.extend(Discovered(u, url) for u in found if u is not None)
        self.report.attempts.append(AttemptRecord.from_page(page, "listing", Outcome.DISCOVERED))
        return feed_links(html, page.final_url)


def _newest_first(doc: SitemapDoc) -> list[Discovered]:
    """Sitemap URLs, newest candidate date first (big sitemaps list oldest first)."""
    return sorted(doc.urls, key=lambda d: d.published_at or _OLDEST, reverse=True)
