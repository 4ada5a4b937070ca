"""What discovery hands to the fetch step: a candidate URL and what the feed said."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Discovered:
    """A candidate article URL (already canonical) with what its feed or sitemap said.

    ``published_at`` is only a candidate: the page's own metadata wins in
    :mod:`ingest.normalize`.
    """

    url: str
    via: str
    published_at: datetime | None = None
    title: str | None = None


def merge(links: list[Discovered]) -> list[Discovered]:
    """One entry per URL, first-seen order, keeping a date/title any duplicate knew."""
    seen: dict[str, Discovered] = {}
    for link in links:
        prior = seen.get(link.url)
        if prior is None:
            seen[link.url] = link
        elif (prior.published_at is None and link.published_at is not None) or (
            prior.title is None and link.title is not None
        ):
            seen[link.url] = Discovered(
                prior.url,
                prior.via,
                prior.published_at or link.published_at,
                prior.title or link.title,
            )
    return list(seen.values())
