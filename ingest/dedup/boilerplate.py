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
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from db import dedup_index as di
from db import dedup_queries as dq
from db.dedup_index import BlockCount, BlockRow
from db.raw import Raw
from ingest.dedup.settings import DedupSettings
from ingest.dedup.text import key64

SAMPLE_CHARS = 300


def host_of(url: str, source_id: int | None) -> str:
    """The host of an article's URL; imported files (``file://``) fall back to their source."""
    host = (urlsplit(url).hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    return host or f"source:{source_id}"


@dataclass(frozen=True, slots=True)
class BlockSighting:
    """The countable blocks of one article: block key -> the line's text."""

    host: str
    host_key: int
    day: int
    blocks: dict[int, str]


def is_chrome(count: BlockCount | None, settings: DedupSettings) -> bool:
    return (
        count is not None
        and count.seen >= settings.chrome_min_articles
        and count.last_day - count.first_day >= settings.chrome_min_day_span
    )


def learn(
    raw: Raw, sightings: Sequence[BlockSighting], settings: DedupSettings, *, lock: bool = False
) -> tuple[list[frozenset[int]], list[BlockRow]]:
    """Each article's chrome block keys (as known before it), and the counts its blocks add.

    Works on a batch in order, as if the articles came one at a time: one read
    whatever the batch size (``lock``: it takes the index lock first, see
    :func:`db.dedup_index.read_blocks`); the returned rows are written with the
    batch's index rows (:func:`db.dedup_index.write_and_lookup`).
    """
    added: dict[tuple[int, int], list[Any]] = {}  # key -> [sighting, text, seen, first day, last day]
    for s in sightings:
        for b, text in s.blocks.items():
            found = added.get((s.host_key, b))
            if found is None:
                added[(s.host_key, b)] = [s, text, 1, s.day, s.day]
            else:
                found[2] += 1
                found[3] = min(found[3], s.day)
                found[4] = max(found[4], s.day)
    state = di.read_blocks(raw, added.keys(), lock=lock)
    before = set(state)
    recurring = {key for key, found in added.items() if found[2] > 1}  # blocks later articles see again
    chrome: list[frozenset[int]] = []
    for s in sightings:
        chrome.append(frozenset(b for b in s.blocks if is_chrome(state.get((s.host_key, b)), settings)))
        for b in s.blocks:
            if (s.host_key, b) in recurring:
                state[(s.host_key, b)] = _seen_on(state.get((s.host_key, b)), s.day)
    # a block's host and sample text are kept from its second sighting on: most lines are
    # seen once (a story's own paragraphs) and need only their count
    rows = [
        (h, b, s.host[:255], seen, first, final, text[:SAMPLE_CHARS])
        if seen > 1 or (h, b) in before else (h, b, "", seen, first, final, "")
        for (h, b), (s, text, seen, first, final) in added.items()
    ]
    return chrome, rows


def _seen_on(count: BlockCount | None, day: int) -> BlockCount:
    if count is None:
        return BlockCount(1, day, day)
    return BlockCount(count.seen + 1, min(count.first_day, day), max(count.last_day, day))


def chrome_for_host(session: Session, host: str, settings: DedupSettings) -> list[str]:
    """The chrome lines learned for a host (most frequent first), e.g. for the extractor to drop."""
    return dq.chrome_blocks(
        session, key64(host), settings.chrome_min_articles, settings.chrome_min_day_span
    )
