"""Per-host boilerplate learning: a line that recurs on many of one host's articles is chrome.

Counts live in ``dedup_host_blocks`` so they survive restarts and are shared
by every daemon.  A block counts as chrome for an article when, *before* that
article, it had been seen on ``chrome_min_articles`` articles of the host
spread over ``chrome_min_day_span`` days; the same rule replayed in id order
by a rebuild therefore gives the same result.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from db import dedup_queries as dq
from db.dedup_index import BlockCount, BlockRow
from ingest.dedup.settings import DedupSettings
from ingest.dedup.text import Analysis, key64

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

    @classmethod
    def of(cls, url: str, source_id: int | None, day: int, analysis: Analysis, settings: DedupSettings
           ) -> BlockSighting:
        host = host_of(url, source_id)
        return cls(host, key64(host), day, analysis.blocks(settings.chrome_max_chars))


def is_chrome(count: BlockCount | None, settings: DedupSettings) -> bool:
    return (
        count is not None
        and count.seen >= settings.chrome_min_articles
        and count.last_day - count.first_day >= settings.chrome_min_day_span
    )


@dataclass
class Sightings:
    """What a batch adds to its blocks' counts, by (host key, block key)."""

    articles: Sequence[BlockSighting]
    added: dict[tuple[int, int], list[Any]]
    """key -> [first sighting, its text, seen, first day, last day]"""

    @classmethod
    def of(cls, articles: Sequence[BlockSighting]) -> Sightings:
        added: dict[tuple[int, int], list[Any]] = {}
        for s in articles:
            for b, text in s.blocks.items():
                found = added.get((s.host_key, b))
                if found is None:
                    added[(s.host_key, b)] = [s, text, 1, s.day, s.day]
                else:
                    found[2] += 1
                    found[3] = min(found[3], s.day)
                    found[4] = max(found[4], s.day)
        return cls(articles, added)

    def chrome(self, before: Mapping[tuple[int, int], BlockCount], settings: DedupSettings) -> list[frozenset[int]]:
        """Each article's chrome block keys, from the counts ``before`` the batch, as if the
        batch's articles came one at a time."""
        state = dict(before)
        recurring = {key for key, found in self.added.items() if found[2] > 1}  # later articles see again
        chrome: list[frozenset[int]] = []
        for s in self.articles:
            chrome.append(frozenset(b for b in s.blocks if is_chrome(state.get((s.host_key, b)), settings)))
            for b in s.blocks:
                if (s.host_key, b) in recurring:
                    state[(s.host_key, b)] = _seen_on(state.get((s.host_key, b)), s.day)
        return chrome

    def rows(self, known: Collection[tuple[int, int]]) -> list[BlockRow]:
        """The counts to add.  A block's host and sample text are kept from its second sighting
        on (``known``: blocks seen before the batch): most lines are seen once (a story's own
        paragraphs) and need only their count."""
        return [
            (h, b, s.host[:255], seen, first, final, text[:SAMPLE_CHARS])
            if seen > 1 or (h, b) in known else (h, b, "", seen, first, final, "")
            for (h, b), (s, text, seen, first, final) in self.added.items()
        ]

    def after(self, before: Mapping[tuple[int, int], BlockCount]) -> dict[tuple[int, int], BlockCount]:
        """The counts of the batch's blocks once it is added."""
        out = {}
        for key, (_, _, seen, first, final) in self.added.items():
            old = before.get(key)
            out[key] = (BlockCount(seen, first, final) if old is None else
                        BlockCount(old.seen + seen, min(old.first_day, first), max(old.last_day, final)))
        return out


class CountCache:
    """The block counts this process last saw (bounded, least recently used out).

    Lets PostgreSQL read the counts in the same round trip that writes the batch:
    the batch is signed with the chrome the cache implies, and the counts the
    database returns confirm it (they differ only when another daemon counted the
    same lines meanwhile, or the cache forgot them; then the batch is signed again).
    A prepared batch's lines are counted at once (:meth:`update`), so the next batch
    can be prepared before this one is written; the database's answer then shifts
    the cached counts by what they missed (:meth:`correct`).
    """

    def __init__(self, size: int = 200_000) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, int], tuple[int, int, int]] = OrderedDict()
        """Plain tuples: the garbage collector stops tracking them (not a NamedTuple's), so a full
        cache costs each of the process's full collections nothing."""
        self._lock = threading.Lock()  # a rebuild prepares one batch while another is written

    def known(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], BlockCount]:
        out = {}
        with self._lock:
            for key in keys:
                found = self._items.get(key)
                if found is not None:
                    out[key] = BlockCount._make(found)
        return out

    def update(self, counts: Mapping[tuple[int, int], BlockCount]) -> None:
        with self._lock:
            for key, count in counts.items():
                self._items[key] = (count.seen, count.first_day, count.last_day)
                self._items.move_to_end(key)
            self._trim()

    def correct(
        self, guessed: Mapping[tuple[int, int], BlockCount], true: Mapping[tuple[int, int], BlockCount]
    ) -> None:
        """The database's counts from before a batch were ``true``, not ``guessed``: shift the
        cached ones by the difference (they may already include a later batch's lines)."""
        with self._lock:
            for key in guessed.keys() | true.keys():
                was, real = guessed.get(key), true.get(key)
                if was == real:
                    continue
                extra = (real.seen if real else 0) - (was.seen if was else 0)
                found = self._items.get(key)
                if found is None:
                    if real is not None:
                        self._items[key] = (real.seen, real.first_day, real.last_day)
                    continue
                current = BlockCount._make(found)
                first = min(current.first_day, real.first_day) if real else current.first_day
                last = max(current.last_day, real.last_day) if real else current.last_day
                self._items[key] = (current.seen + extra, first, last)
                self._items.move_to_end(key)
            self._trim()

    def _trim(self) -> None:
        while len(self._items) > self.size:
            self._items.popitem(last=False)


def _seen_on(count: BlockCount | None, day: int) -> BlockCount:
    if count is None:
        return BlockCount(1, day, day)
    return BlockCount(count.seen + 1, min(count.first_day, day), max(count.last_day, day))


def chrome_for_host(session: Session, host: str, settings: DedupSettings) -> list[str]:
    """The chrome lines learned for a host (most frequent first), e.g. for the extractor to drop."""
    return dq.chrome_blocks(
        session, key64(host), settings.chrome_min_articles, settings.chrome_min_day_span
    )
