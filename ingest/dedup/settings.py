"""Thresholds, window and LSH shape of the near-duplicate detector (config section ``[dedup]``).

Defaults are measured, not guessed: see ``bench/dedup_quality.py`` (recall per
kind of edit, precision on unrelated and same-topic stories) and
``bench/dedup_speed.py`` (cost per insert, index size).  The reasoning behind
each value is in its ``Field`` description.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DedupSettings(BaseModel):
    """Near-duplicate detection settings; changing the signature shape needs ``ingest dedup rebuild``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    window_days: Annotated[
        int,
        Field(ge=0, le=3650, description="Candidates are articles dated at most this many days before or after. "
        "Reprints land within days; 30 keeps late re-publications and bounds the search."),
    ] = 30
    shingle_words: Annotated[
        int,
        Field(ge=1, le=12, description="Words per shingle.  5 keeps unrelated same-topic stories apart "
        "(max containment 0.27 on the AEB set) while light rewording still leaves most shingles."),
    ] = 5
    bins: Annotated[
        int,
        Field(ge=16, le=1024, description="MinHash values per signature (one-permutation hashing, a power of two)."),
    ] = 128
    rows_per_band: Annotated[
        int,
        Field(ge=1, le=8, description="MinHash values per LSH band.  2 rows x 64 bands makes a pair with Jaccard "
        "0.2 a candidate with probability 0.93 (0.25: 0.98), the low-similarity regime of reprints."),
    ] = 2
    min_containment: Annotated[
        float,
        Field(ge=0, le=1, description="Flag when this share of the shorter text's shingles occur in the longer. "
        "Reprints measure 0.5-1.0 (the seed pair 0.68); unrelated same-topic stories sharing "
        "quotes at most 0.27 on AEB."),
    ] = 0.45
    support_containment: Annotated[
        float,
        Field(ge=0, le=1, description="Lower containment accepted when another signal agrees (same wire credit, "
        "similar title)."),
    ] = 0.3
    min_title_similarity: Annotated[
        float,
        Field(ge=0, le=1, description="Title word Jaccard that counts as a supporting signal."),
    ] = 0.5
    min_shared_shingles: Annotated[
        int,
        Field(ge=1, description="A pair must share at least this many shingles, so a two-line brief "
        "cannot be 'contained' by accident."),
    ] = 8
    prefilter_containment: Annotated[
        float,
        Field(ge=0, le=1, description="Containment estimated from the signatures below which a candidate is "
        "dropped without an exact check (half the lowest rule threshold: estimation error at "
        "128 bins is about 0.04)."),
    ] = 0.15
    max_candidates: Annotated[
        int,
        Field(ge=1, description="Candidates read per article at most (most band hits first): bounds p99."),
    ] = 200
    max_bucket_rows: Annotated[
        int,
        Field(ge=1, description="Rows read per band bucket at most (the most recent first).  A bucket this "
        "crowded holds a phrase shared by many unrelated texts ('for the first time in'); a real "
        "reprint shares many other bands, so the cap costs no recall on the quality set and keeps "
        "the lookup from growing with the archive."),
    ] = 50
    max_verified: Annotated[
        int,
        Field(ge=1, description="Exact checks per article at most (highest estimate first)."),
    ] = 40
    chrome_min_articles: Annotated[
        int,
        Field(ge=2, description="A block (line) seen on this many earlier articles of one host is chrome."),
    ] = 5
    chrome_min_day_span: Annotated[
        int,
        Field(ge=0, description="... and seen on dates at least this many days apart, so one story updated "
        "five times in a day does not become chrome."),
    ] = 1
    chrome_max_chars: Annotated[
        int,
        Field(ge=10, description="Longer blocks are never counted: chrome is short, and counting every "
        "paragraph would grow the block table with the archive."),
    ] = 400

    @model_validator(mode="after")
    def _shape(self) -> DedupSettings:
        if self.bins & (self.bins - 1):
            raise ValueError(f"bins must be a power of two, not {self.bins}")
        if self.bins % self.rows_per_band:
            raise ValueError(f"bins ({self.bins}) must be a multiple of rows_per_band")
        return self

    @property
    def bands(self) -> int:
        return self.bins // self.rows_per_band

    @property
    def scheme(self) -> str:
        """Identifies the signature shape: rows built with another one need a rebuild."""
        return f"w{self.shingle_words}-b{self.bins}-r{self.rows_per_band}-v3"
