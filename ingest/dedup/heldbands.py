"""A rebuild's band rows, held in memory in key order and written many batches at a time.

A rebuild writes the band rows of the whole archive.  Written a batch per
transaction, a batch's rows land all over the band index (their keys are
hashes), so each commit rewrites nearly every page of it and a batch costs more
the bigger the archive is (SQLite: 2,300 articles/s over 20k articles, 1,600/s
over 100k).  Held here and written in key order once ``limit`` rows are held,
each page of the index is rewritten once per flush instead of once per batch.

The rebuild's lookups read the held rows here (:meth:`HeldBands.meet`) and the
written ones in the database, which they skip for keys the rebuild has never
written (a Bloom filter, :class:`~ingest.dedup.keyfilter.KeyFilter`): most of an
article's 64 buckets hold no other article.  Held rows are not in the database
yet, so a daemon indexing next to a rebuild does not meet them; the rebuild
indexes that daemon's articles again at its end (:mod:`ingest.dedup.rebuild`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ingest.dedup.keyfilter import KeyFilter

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
Rows = tuple[I64, I32, I32]
"""(keys, days, article ids), in key order."""

DEFAULT_LIMIT = 4_000_000
"""Rows held before they are written (16 bytes each: 64 MB, twice that while a batch is merged
in; the check follows each batch, so a batch's rows more at most)."""


def _empty() -> Rows:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32)


class HeldBands:
    """Band rows not written yet, sorted by key, and a filter of the keys written so far."""

    def __init__(self, expected_keys: int, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.written = KeyFilter(expected_keys)
        """Keys of the rows written to the database so far (only those need a database lookup)."""
        self._keys, self._days, self._ids = _empty()

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def full(self) -> bool:
        return len(self._keys) >= self.limit

    def hold(self, keys: Sequence[int], days: Sequence[int], ids: Sequence[int]) -> None:
        """Add rows given in key order (a batch's band rows)."""
        if not len(keys):
            return
        new_keys = np.asarray(keys, dtype=np.int64)
        at = np.searchsorted(self._keys, new_keys, "right")  # non-decreasing: the merge stays sorted
        self._keys = np.insert(self._keys, at, new_keys)
        self._days = np.insert(self._days, at, np.asarray(days, dtype=np.int32))
        self._ids = np.insert(self._ids, at, np.asarray(ids, dtype=np.int32))

    def meet(self, keys: Sequence[int], first_day: int, last_day: int) -> Rows:
        """The held rows of these keys dated within ``[first_day, last_day]``, in key order."""
        if not len(self._keys) or not len(keys):
            return _empty()
        wanted = np.unique(np.asarray(keys, dtype=np.int64))
        lo = np.searchsorted(self._keys, wanted, "left")
        counts = np.searchsorted(self._keys, wanted, "right") - lo
        found = counts > 0
        if not found.any():
            return _empty()
        lo, counts = lo[found], counts[found]
        starts = np.cumsum(counts) - counts
        at = np.arange(int(counts.sum())) - np.repeat(starts, counts) + np.repeat(lo, counts)
        days = self._days[at]
        at = at[(days >= first_day) & (days <= last_day)]
        return self._keys[at], self._days[at], self._ids[at]

    def take(self) -> Rows:
        """Every held row, to be written now (their keys join :attr:`written`)."""
        rows = (self._keys, self._days, self._ids)
        self._keys, self._days, self._ids = _empty()
        if len(rows[0]):
            self.written.add(rows[0])
        return rows

    def database_keys(self, keys: Sequence[int]) -> list[int]:
        """The keys that may have rows in the database (every written one is among them)."""
        return self.written.maybe(keys)
