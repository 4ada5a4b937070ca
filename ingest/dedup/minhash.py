"""One-permutation MinHash with optimal densification, and LSH band keys.

Classic MinHash needs one hash function per value (128 passes over the
shingles).  One-permutation hashing (Li, Owen & Zhang 2012) hashes each
shingle once into one of ``bins`` bins and keeps each bin's minimum; empty
bins are filled by optimal densification (Shrivastava 2017), which keeps the
collision probability equal to the Jaccard similarity.  One vectorized pass:
~15 us an article.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from ingest.dedup.text import U32

_GOLDEN = 0x9E3779B97F4A7C15
_MIX = 0xBF58476D1CE4E5B9
_M64 = (1 << 64) - 1
_EMPTY = 1 << 32


def signature(shingle_set: U32 | Iterable[int], bins: int) -> U32:
    """The densified one-permutation MinHash of a set of 32-bit shingles (empty set: empty)."""
    values = _as_array(shingle_set)
    if not len(values):
        return np.zeros(0, dtype=np.uint32)
    shift = 64 - (bins.bit_length() - 1)
    m = values.astype(np.uint64) * np.uint64(_GOLDEN)
    which = (m >> np.uint64(shift)).astype(np.intp)
    v = (m >> np.uint64(shift - 32)) & np.uint64(0xFFFFFFFF)
    mins = np.full(bins, _EMPTY, dtype=np.uint64)
    np.minimum.at(mins, which, v)
    empty = np.flatnonzero(mins == _EMPTY)
    if len(empty):
        mins = _densify(mins, empty, bins)
    return mins.astype(np.uint32)


def _as_array(values: U32 | Iterable[int]) -> U32:
    if isinstance(values, np.ndarray):
        return values.astype(np.uint32, copy=False)
    return np.fromiter(values, dtype=np.uint32)


def _densify(mins: npt.NDArray[np.uint64], empty: npt.NDArray[np.intp], bins: int) -> npt.NDArray[np.uint64]:
    """Fill each empty bin from the first non-empty bin of its own fixed probe sequence."""
    filled = mins != _EMPTY
    out = mins.copy()
    for i in empty.tolist():
        for attempt in range(1, 8 * bins):
            j = _probe(i, attempt, bins)
            if filled[j]:
                out[i] = mins[j]
                break
        else:  # astronomically rare: fall back to the first filled bin
            out[i] = mins[np.flatnonzero(filled)[0]]
    return out


def _probe(i: int, attempt: int, bins: int) -> int:
    """The bin that empty bin ``i`` borrows from at its ``attempt``-th try (same in every process)."""
    h = ((i + 1) * _GOLDEN + attempt * _MIX) & _M64
    h = ((h ^ (h >> 31)) * _GOLDEN) & _M64
    return (h >> 32) % bins


_SALTS: dict[int, npt.NDArray[np.uint64]] = {}


def band_keys(sig: U32, rows: int) -> list[int]:
    """One signed 64-bit bucket key per band of ``rows`` consecutive values.

    Two rows fill a 64-bit key exactly: their concatenation, XORed with a
    per-band constant so equal values in different bands do not share a bucket.
    More rows are folded in by a multiply-xorshift chain.
    """
    if not len(sig):
        return []
    values = np.asarray(sig, dtype=np.uint64)
    bands = len(values) // rows
    salts = _SALTS.get(bands)
    if salts is None:
        salts = _SALTS[bands] = np.array(
            [((band + 1) * _GOLDEN * _MIX) & _M64 for band in range(bands)], dtype=np.uint64
        )
    grid = values[: bands * rows].reshape(bands, rows)
    if rows == 2:
        keys = ((grid[:, 0] << np.uint64(32)) | grid[:, 1]) ^ salts
    else:
        keys = (np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(_GOLDEN))
        for r in range(rows):
            keys = (keys ^ grid[:, r]) * np.uint64(_MIX)
            keys ^= keys >> np.uint64(31)
    return keys.view(np.int64).tolist()  # type: ignore[no-any-return]


def estimate_jaccard(a: U32, b: U32) -> float:
    """The share of equal values: an unbiased estimate of the shingle sets' Jaccard."""
    if not len(a) or len(a) != len(b):
        return 0.0
    return int(np.count_nonzero(a == b)) / len(a)


def estimate_containment(jaccard: float, size_a: int, size_b: int) -> float:
    """Containment of the smaller set in the larger, from an estimated Jaccard and the sizes."""
    small = min(size_a, size_b)
    if small == 0:
        return 0.0
    shared = jaccard * (size_a + size_b) / (1 + jaccard)
    return min(1.0, shared / small)


def pack(sig: U32) -> bytes:
    """4 bytes per bin, little-endian (the stored form)."""
    return np.asarray(sig, dtype="<u4").tobytes()


def unpack(data: bytes) -> U32:
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)
