"""An article reduced to what comparison needs: shingles, signature, band keys, title, wires.

:func:`read` does the part of that which needs nothing from the database (the
body's analysis, and its prepared form as if none of its lines were chrome) so
that it can run outside the store writer: in a crawl's extraction workers, in a
rebuild's process pool.  The indexer then only prepares again the articles
whose host chrome it leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.dedup import minhash
from ingest.dedup.settings import DedupSettings
from ingest.dedup.signals import wire_agencies
from ingest.dedup.text import U32, Analysis, analyze, shingles, title_words


@dataclass(frozen=True, slots=True, eq=False)
class Prepared:
    shingles: U32
    """Sorted distinct 32-bit shingle hashes."""
    signature: U32
    bands: tuple[int, ...]
    title: frozenset[str]
    wires: frozenset[str]

    @property
    def size(self) -> int:
        return len(self.shingles)

    def __reduce__(self) -> tuple[type[Prepared], tuple[object, ...]]:
        # by position: a slotted dataclass's own pickling looks its fields up for every object
        return Prepared, (self.shingles, self.signature, self.bands, self.title, self.wires)


def prepare(
    body: str, title: str | None, settings: DedupSettings, chrome: frozenset[int] = frozenset()
) -> Prepared:
    """Shingle the body without its host's chrome lines; sign and band it."""
    return prepare_analysis(analyze(body), body, title, settings, chrome)


def prepare_analysis(
    analysis: Analysis, body: str, title: str | None, settings: DedupSettings, chrome: frozenset[int]
) -> Prepared:
    """:func:`prepare` of a body already read by :func:`~ingest.dedup.text.analyze`."""
    shingle_set = shingles(analysis.words_without(chrome), settings.shingle_words)
    sig = minhash.signature(shingle_set, settings.bins)
    bands = tuple(minhash.band_keys(sig, settings.rows_per_band))
    kept = analysis.text_without(chrome) if chrome else body
    return Prepared(shingle_set, sig, bands, title_words(title), wire_agencies(kept))


@dataclass(frozen=True, slots=True, eq=False)
class Reading:
    """A body read for the index ahead of time (see the module docstring)."""

    analysis: Analysis
    plain: Prepared
    """Prepared with no line left out as chrome."""
    scheme: str
    """The signature shape ``plain`` was made with (:attr:`DedupSettings.scheme`)."""

    def __reduce__(self) -> tuple[type[Reading], tuple[object, ...]]:
        return Reading, (self.analysis, self.plain, self.scheme)  # see Prepared.__reduce__

    def plain_for(self, settings: DedupSettings) -> Prepared | None:
        """``plain``, if it was made with these settings' signature shape."""
        return self.plain if self.scheme == settings.scheme else None


def read(body: str, title: str | None, settings: DedupSettings) -> Reading:
    """Analyse ``body`` and prepare it without chrome (pure: runs in any process)."""
    analysis = analyze(body)
    return Reading(analysis, prepare_analysis(analysis, body, title, settings, frozenset()), settings.scheme)
