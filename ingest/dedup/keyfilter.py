"""A Bloom filter of band keys, so a rebuild only looks up buckets that can hold a candidate.

A rebuild writes every band row itself, in id order, so it knows which keys the
index holds so far.  Most of a new article's 64 bucket keys are in no other
article; asking the database about them is most of a rebuild's lookup work.  The
filter answers "certainly absent" for those (a few false "maybe"s cost a wasted
probe, never a missed pair).  Vectorized with NumPy: a batch's keys are tested and
added with a handful of array operations.

A daemon keeps no such filter.  Tried: loaded from the band table and kept exact by
reading the signatures committed since, it let a daemon ask PostgreSQL about 11
of an article's 64 keys, yet the article cost no less (1.64 -> 2.01 ms at 1M): the
article's own 64 band rows are inserted at the same index leaves its lookups read,
so skipping a lookup saves only the executor's work (about 0.13 ms), and learning
other daemons' keys cost more client time than that.  (A rebuild holds its band
rows and writes them later, in key order: there the skipped lookups are pure gain.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_MULTIPLIERS = [np.uint64(m) for m in (
    0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
    0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3,
)]
_MULTIPLIER_COLUMN = np.array(_MULTIPLIERS, dtype=np.uint64)[:, None]
MAX_BITS_LOG2 = 31
"""At most 256 MiB of bits; a bigger archive only raises the false-positive rate."""


class KeyFilter:
    """Bloom filter over signed 64-bit keys (already hashes, so one multiply per probe)."""

    def __init__(self, expected_keys: int, bits_per_key: int = 10) -> None:
        want = max(1 << 16, expected_keys * bits_per_key)
        self.bits_log2 = min(MAX_BITS_LOG2, int(want - 1).bit_length())
        self._bytes = np.zeros(1 << (self.bits_log2 - 3), dtype=np.uint8)
        self._shift = np.uint64(64 - self.bits_log2)

    @property
    def size_bytes(self) -> int:
        return int(self._bytes.nbytes)

    def _bits(self, keys: Sequence[int] | npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
        """The keys' bit numbers, one row per hash: ``(hashes, len(keys))``."""
        values = np.asarray(keys, dtype=np.int64).view(np.uint64)
        return (values[None, :] * _MULTIPLIER_COLUMN) >> self._shift

    @staticmethod
    def _slot(bit: npt.NDArray[np.uint64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.uint8]]:
        """Byte number and bit mask of each bit number."""
        return (bit >> np.uint64(3)).astype(np.intp), np.uint8(1) << (bit & np.uint64(7)).astype(np.uint8)

    def add(self, keys: Sequence[int] | npt.NDArray[np.int64]) -> None:
        if not len(keys):
            return
        for bit in self._bits(keys):  # one hash at a time: a row of bit numbers
            # sorted, each byte's masks are OR-ed in one run and the byte written once
            # (about three times as fast as ``np.bitwise_or.at`` on millions of keys)
            index, mask = self._slot(np.sort(bit))
            starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
            self._bytes[index[starts]] |= np.bitwise_or.reduceat(mask, starts)

    def maybe(self, keys: Sequence[int]) -> list[int]:
        """The keys that may have been added (every added key is among them)."""
        if not len(keys):
            return []
        index, mask = self._slot(self._bits(keys))
        hit = ((self._bytes[index] & mask) != 0).all(axis=0)
        return np.asarray(keys, dtype=np.int64)[hit].tolist()  # type: ignore[no-any-return]
