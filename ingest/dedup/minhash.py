"""One-permutation MinHash with optimal densification, and LSH band keys.

Classic MinHash needs one hash function per value (128 passes over the
shingles, ~5 ms an article in Python).  One-permutation hashing (Li, Owen &
Zhang 2012) hashes each shingle once into one of ``bins`` bins and keeps each
bin's minimum; empty bins are filled by optimal densification (Shrivastava
2017), which keeps the collision probability equal to the Jaccard similarity.
One pass: ~0.15 ms an article.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from ingest.dedup.text import to_signed64

_GOLDEN = 0x9E3779B97F4A7C15
_MIX = 0xBF58476D1CE4E5B9
_M64 = (1 << 64) - 1
_EMPTY = 1 << 32


def signature(shingle_set: Iterable[int], bins: int) -> tuple[int, ...]:
    """The densified one-permutation MinHash of a set of 32-bit shingles (empty set: empty)."""
    shift = 64 - (bins.bit_length() - 1)
    mins = [_EMPTY] * bins
    for h in shingle_set:
        m = (h * _GOLDEN) & _M64
        b = m >> shift
        v = (m >> (shift - 32)) & 0xFFFFFFFF
        if v < mins[b]:
            mins[b] = v
    if all(v == _EMPTY for v in mins):
        return ()
    return _densify(mins, bins)


def _densify(mins: list[int], bins: int) -> tuple[int, ...]:
    """Fill each empty bin from the first non-empty bin of its own fixed probe sequence."""
    if _EMPTY not in mins:
        return tuple(mins)
    out = list(mins)
    for i, v in enumerate(mins):
        if v != _EMPTY:
            continue
        for attempt in range(1, 8 * bins):
            j = _probe(i, attempt, bins)
            if mins[j] != _EMPTY:
                out[i] = mins[j]
                break
        else:  # astronomically rare: fall back to the first filled bin
            out[i] = next(x for x in mins if x != _EMPTY)
    return tuple(out)


def _probe(i: int, attempt: int, bins: int) -> int:
    """The bin that empty bin ``i`` borrows from at its ``attempt``-th try (same in every process)."""
    h = ((i + 1) * _GOLDEN + attempt * _MIX) & _M64
    h = ((h ^ (h >> 31)) * _GOLDEN) & _M64
    return (h >> 32) % bins


def band_keys(sig: Sequence[int], rows: int) -> list[int]:
    """One signed 64-bit bucket key per band of ``rows`` consecutive values.

    Two 32-bit values fill a 64-bit key exactly: it is their concatenation, XORed
    with a per-band constant so equal values in different bands do not share a
    bucket (one C-level comprehension instead of a mixing loop per value).
    """
    if rows == 2:
        salts = _band_salts(len(sig) // 2)
        pairs = zip(sig[0::2], sig[1::2], salts, strict=False)
        return [to_signed64((a << 32 | b) ^ s) for a, b, s in pairs]
    keys = []
    for band, start in enumerate(range(0, len(sig), rows)):
        h = (band + 1) * _GOLDEN
        for v in sig[start : start + rows]:
            h = ((h ^ v) * _MIX) & _M64
            h ^= h >> 31
        keys.append(to_signed64(h))
    return keys


_SALTS: dict[int, list[int]] = {}


def _band_salts(bands: int) -> list[int]:
    found = _SALTS.get(bands)
    if found is None:
        found = _SALTS[bands] = [((band + 1) * _GOLDEN * _MIX) & _M64 for band in range(bands)]
    return found


def estimate_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """The share of equal values: an unbiased estimate of the shingle sets' Jaccard."""
    if not a or len(a) != len(b):
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def estimate_containment(jaccard: float, size_a: int, size_b: int) -> float:
    """Containment of the smaller set in the larger, from an estimated Jaccard and the sizes."""
    small = min(size_a, size_b)
    if small == 0:
        return 0.0
    shared = jaccard * (size_a + size_b) / (1 + jaccard)
    return min(1.0, shared / small)


def pack(sig: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(sig)}I", *sig)


def unpack(data: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(data) // 4}I", data)
