"""An article reduced to what comparison needs: shingles, signature, band keys, title, wires."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.dedup import minhash
from ingest.dedup.settings import DedupSettings
from ingest.dedup.signals import wire_agencies
from ingest.dedup.text import shingles, title_words, without_blocks, word_bytes


@dataclass(frozen=True, slots=True)
class Prepared:
    shingles: frozenset[int]
    signature: tuple[int, ...]
    bands: tuple[int, ...]
    title: frozenset[str]
    wires: frozenset[str]

    @property
    def size(self) -> int:
        return len(self.shingles)


def prepare(
    body: str, title: str | None, settings: DedupSettings, chrome: frozenset[int] = frozenset()
) -> Prepared:
    """Shingle the body without its host's chrome lines; sign and band it."""
    text = without_blocks(body, chrome)
    shingle_set = frozenset(shingles(word_bytes(text), settings.shingle_words))
    sig = minhash.signature(shingle_set, settings.bins)
    bands = tuple(minhash.band_keys(sig, settings.rows_per_band)) if sig else ()
    return Prepared(shingle_set, sig, bands, title_words(title), wire_agencies(text))
