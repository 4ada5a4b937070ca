"""Per-host boilerplate learning: a line that recurs on many of one host's articles is chrome.

Counts live in ``dedup_host_blocks`` so they survive restarts and are shared
by every daemon.  A block counts as chrome for an article when, *before* that
article, it had been seen on ``chrome_min_articles`` articles of the host
spread over ``chrome_min_day_span`` days; the same rule replayed in id order
by a rebuild therefore gives the same result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from db import dedup_queries as dq
from db.dedup_queries import BlockCount
from ingest.dedup.settings import DedupSettings
from ingest.dedup.text import block_key, blocks, key64

SAMPLE_CHARS = 300


def host_of(url: str, source_id: int | None) -> str:
    """The host of an article's URL; imported files (``file://``) fall back to their source."""
    host = (urlsplit(url).hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    return host or f"source:{source_id}"


@dataclass(frozen=True, slots=True)
class BlockSighting:
    """The countable blocks of one article."""

    host: str
    host_key: int
    day: int
    blocks: dict[int, str]


def sighting(host: str, day: int, body: str, settings: DedupSettings) -> BlockSighting:
    found: dict[int, str] = {}
    for block in blocks(body):
        if len(block) <= settings.chrome_max_chars:
            found.setdefault(block_key(block), block)
    return BlockSighting(host, key64(host), day, found)


def is_chrome(count: BlockCount | None, settings: DedupSettings) -> bool:
    return (
        count is not None
        and count.seen >= settings.chrome_min_articles
        and count.last_day - count.first_day >= settings.chrome_min_day_span
    )


def learn(
    session: Session, sightings: Sequence[BlockSighting], settings: DedupSettings, *, lock: bool = False
) -> list[frozenset[int]]:
    """Each article's chrome block keys (as known before it), then count its blocks.

    Works on a batch in order, as if the articles came one at a time: one read
    and one upsert whatever the batch size.  ``lock``: the read also takes the
    index lock (:func:`db.dedup_queries.block_counts`).
    """
    keys = [(s.host_key, b) for s in sightings for b in s.blocks]
    state = dq.block_counts(session, keys, lock=lock)
    added: dict[tuple[int, int], tuple[BlockSighting, str, BlockCount]] = {}
    chrome: list[frozenset[int]] = []
    for s in sightings:
        chrome.append(frozenset(b for b in s.blocks if is_chrome(state.get((s.host_key, b)), settings)))
        for b, text in s.blocks.items():
            key = (s.host_key, b)
            state[key] = _seen_on(state.get(key), s.day)
            previous = added.get(key)
            added[key] = (s, text, _seen_on(previous[2] if previous else None, s.day))
    dq.add_block_counts(
        session,
        [
            {"host_key": s.host_key, "block_key": b, "host": s.host[:255], "text": text[:SAMPLE_CHARS],
             "seen": c.seen, "first_day": c.first_day, "last_day": c.last_day}
            for (_, b), (s, text, c) in added.items()
        ],
    )
    return chrome


def _seen_on(count: BlockCount | None, day: int) -> BlockCount:
    if count is None:
        return BlockCount(1, day, day)
    return BlockCount(count.seen + 1, min(count.first_day, day), max(count.last_day, day))


def chrome_for_host(session: Session, host: str, settings: DedupSettings) -> list[str]:
    """The chrome lines learned for a host (most frequent first), e.g. for the extractor to drop."""
    return dq.chrome_blocks(
        session, key64(host), settings.chrome_min_articles, settings.chrome_min_day_span
    )
