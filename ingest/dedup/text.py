"""Text preparation for comparison: NFKC, case folding, word tokens, shingles, blocks.

An article is read once, as arrays (:func:`analyze`): its lines (the unit chrome
is learned on), one 64-bit hash per word and a key per line.  Shingles are then
cut from the words of the lines that are not chrome, without reading the text
again.  Hashing is vectorized with NumPy: a polynomial hash over code points,
computed for every word at once from prefix sums (mod 2**64, where an odd base
has an inverse), then mixed by the SplitMix64 finalizer.  That is about ten
times cheaper than tokenizing and hashing each shingle in Python, which is
what lets the index keep up with a crawl and a rebuild run at thousands of
articles a second.

Everything here is pure and deterministic across processes and restarts (no
``hash()``: it is salted per process), because signatures are stored and
compared by other daemons later.  Word characters are those of the regular
expression ``\\w`` (letters, digits, underscore, in any script).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]

_WORD = re.compile(r"\w+")

_BASE = 0x100000001B3  # odd: invertible modulo 2**64
_BASE_INV = pow(_BASE, -1, 1 << 64)
_LINE_BASE = 0x9E3779B97F4A7C15
_LINE_BASE_INV = pow(_LINE_BASE, -1, 1 << 64)
# one odd multiplier per word position in a shingle (order matters: "a b" is not "b a")
_POSITION = [
    0xD6E8FEB86659FD93, 0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3,
    0x589965CC75374CC3, 0x1D8E4E27C47D124F, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
    0x27D4EB2F165667C5, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9, 0x9FB21C651E98DF25,
]
_POSITIONS = [np.uint64(p) for p in _POSITION]
_S30, _S27, _S31, _S32 = (np.uint64(n) for n in (30, 27, 31, 32))
_C1, _C2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_ZERO = ord("0")

_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""What ``str.splitlines`` splits on: one line of text never holds one of these."""


def fold(text: str) -> str:
    """NFKC and case folding (NFKC only when needed: checking is ~50x cheaper than normalizing)."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def tokens(text: str) -> list[str]:
    """Word tokens (Unicode ``\\w+``) of the folded text; punctuation and spacing never matter."""
    return _WORD.findall(fold(text))


def blocks(text: str) -> list[str]:
    """The non-empty lines of a body, stripped: the unit boilerplate is learned on."""
    return [s for line in text.splitlines() if (s := line.strip())]


# --- character classes ------------------------------------------------------------

_WORD_BIT, _DIGIT_BIT = 1, 2


def _class_of(cp: int) -> int:
    c = chr(cp)
    return (_WORD_BIT if c.isalnum() or c == "_" else 0) | (_DIGIT_BIT if c.isdecimal() else 0)


_BMP = np.array([_class_of(cp) for cp in range(0x10000)], dtype=np.uint8)
"""Class bits of every code point of the Basic Multilingual Plane (64 KiB, built once)."""


def _classes(cps: U32) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Word-character and decimal-digit masks of an array of code points."""
    bits = _BMP[cps & 0xFFFF]
    astral = np.flatnonzero(cps > 0xFFFF)
    if len(astral):  # emoji and rare scripts: asked one by one
        bits[astral] = [_class_of(cp) for cp in cps[astral].tolist()]
    return (bits & _WORD_BIT).astype(bool), (bits & _DIGIT_BIT).astype(bool)


# --- hashing ------------------------------------------------------------------------

_POWERS: dict[int, tuple[U64, U64]] = {}


def _powers(base: int, inverse: int, n: int) -> tuple[U64, U64]:
    """``base**k`` and ``inverse**k`` mod 2**64 for k < n (grown and cached per base)."""
    have = _POWERS.get(base)
    if have is None or len(have[0]) < n:
        size = max(n, 4096 if have is None else 2 * len(have[0]))
        up = np.full(size, base, dtype=np.uint64)
        up[0] = 1
        down = np.full(size, inverse, dtype=np.uint64)
        down[0] = 1
        have = _POWERS[base] = (np.cumprod(up, dtype=np.uint64), np.cumprod(down, dtype=np.uint64))
    return have


def mix(h: U64) -> U64:
    """SplitMix64's finalizer: every output bit depends on every input bit."""
    h = (h ^ (h >> _S30)) * _C1
    h = (h ^ (h >> _S27)) * _C2
    return h ^ (h >> _S31)


def _segment_hashes(values: U64, starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp],
                    base: int, inverse: int) -> U64:
    """Polynomial hash of each segment ``values[s:e]``, all segments at once.

    With prefix sums ``P[i] = sum(values[k] * inverse**k, k < i)``, the segment's
    hash ``sum(values[k] * base**(e-1-k))`` is ``(P[e] - P[s]) * base**(e-1)``:
    the same value wherever the segment stands.  Empty segments hash to 0.
    """
    if not len(starts):
        return np.zeros(0, dtype=np.uint64)
    up, down = _powers(base, inverse, len(values) + 1)
    prefix = np.zeros(len(values) + 1, dtype=np.uint64)
    np.cumsum(values * down[: len(values)], out=prefix[1:])
    return (prefix[ends] - prefix[starts]) * up[np.maximum(ends - 1, 0)]


# --- an article as arrays -------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Analysis:
    """One read of a body: its lines, each line's key, and every word's hash and line."""

    lines: list[str]
    line_keys: list[int]
    """Signed 64-bit key per line (digits masked, so 'Updated 10:42' recurs); 0: no words."""
    word_hashes: U64
    word_lines: npt.NDArray[np.intp]

    def __reduce__(self) -> tuple[type[Analysis], tuple[object, ...]]:
        # by position: a slotted dataclass's own pickling looks its fields up for every object
        return Analysis, (self.lines, self.line_keys, self.word_hashes, self.word_lines)

    def blocks(self, max_chars: int) -> dict[int, str]:
        """Countable blocks: key -> first line text, for lines of words no longer than ``max_chars``."""
        found: dict[int, str] = {}
        for key, line in zip(self.line_keys, self.lines, strict=True):
            if key and len(line) <= max_chars:
                found.setdefault(key, line)
        return found

    def text_without(self, drop: frozenset[int]) -> str:
        """The body without the lines whose key is in ``drop``."""
        return "\n".join(line for key, line in zip(self.line_keys, self.lines, strict=True) if key not in drop)

    def words_without(self, drop: frozenset[int]) -> U64:
        """Word hashes of the lines not in ``drop``, in order."""
        if not drop:
            return self.word_hashes
        dropped = [i for i, key in enumerate(self.line_keys) if key in drop]
        if not dropped:
            return self.word_hashes
        keep = ~np.isin(self.word_lines, dropped)
        return self.word_hashes[keep]


def analyze(body: str) -> Analysis:
    """Read a body once: lines, line keys, word hashes (see the module docstring)."""
    lines = blocks(body)
    if not lines:
        return Analysis([], [], np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.intp))
    folded = fold("\n".join(lines))
    if folded.count("\n") != len(lines) - 1 or any(c in folded for c in _LINE_BREAKS[1:]):
        # folding made or moved a line break (never seen in practice): fold line by line
        folded = "\n".join(_single_line(fold(line)) for line in lines)
    cps = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
    if not len(cps):
        empty = np.zeros(0, dtype=np.uint64)
        return Analysis(lines, [0] * len(lines), empty, np.zeros(0, dtype=np.intp))
    word, digit = _classes(cps)
    padded = np.zeros(len(word) + 2, dtype=np.int8)
    padded[1:-1] = word
    flips = np.flatnonzero(padded[1:] != padded[:-1])  # word starts and ends alternate
    starts, ends = flips[0::2], flips[1::2]
    values = cps.astype(np.uint64)
    hashes = mix(_segment_hashes(values, starts, ends, _BASE, _BASE_INV))
    # line of each word: count the line breaks before it
    breaks = np.flatnonzero(cps == 10)
    word_lines = np.searchsorted(breaks, starts)
    # line keys: the words' hashes with digits masked, hashed per line
    masked = np.where(digit, np.uint64(_ZERO), values)
    masked_words = mix(_segment_hashes(masked, starts, ends, _BASE, _BASE_INV)) if digit.any() else hashes
    line_starts = np.searchsorted(word_lines, np.arange(len(lines)))
    line_ends = np.append(line_starts[1:], len(word_lines))
    keys = mix(_segment_hashes(masked_words, line_starts, line_ends, _LINE_BASE, _LINE_BASE_INV))
    keys[keys == 0] = 1  # a line of words never gets the 'no words' key
    keys[line_starts == line_ends] = 0
    return Analysis(lines, keys.view(np.int64).tolist(), hashes, word_lines)


def _single_line(text: str) -> str:
    for c in _LINE_BREAKS:
        text = text.replace(c, " ")
    return text


def shingles(word_hashes: U64, size: int) -> U32:
    """Sorted distinct 32-bit hashes of each run of ``size`` consecutive words.

    A text shorter than ``size`` words is one shingle.  32 bits are plenty: two
    unrelated 800-word texts share a false shingle with probability ~1e-4, far
    below what any threshold reacts to.
    """
    n = len(word_hashes)
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    runs = max(1, n - size + 1)
    width = min(size, n)
    acc = word_hashes[:runs] * _POSITIONS[0]
    for i in range(1, width):
        acc += word_hashes[i : i + runs] * _POSITIONS[i]
    return distinct((mix(acc) >> _S32).astype(np.uint32))


def distinct(values: U32) -> U32:
    """Sorted distinct values (``np.unique`` is ten times slower on arrays this small)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def block_key(block: str) -> int:
    """The key of one line, as :func:`analyze` computes it (0: a line without words)."""
    keys = analyze(block).line_keys
    return keys[0] if len(keys) == 1 else 0


def without_blocks(text: str, drop: Iterable[int]) -> str:
    """``text`` minus the lines whose :func:`block_key` is in ``drop``."""
    dropped = frozenset(drop)
    if not dropped:
        return text
    return analyze(text).text_without(dropped)


def key64(value: str) -> int:
    """A signed 64-bit key of a string (URLs, hosts), for indexed integer columns."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "little", signed=True)


def title_words(title: str | None) -> frozenset[str]:
    """The set of title words longer than one letter (title similarity is their Jaccard)."""
    if not title:
        return frozenset()
    return frozenset(w for w in tokens(title) if len(w) > 1)
