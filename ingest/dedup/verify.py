"""Verifying a candidate pair: exact scores, then the rule that makes it a near-duplicate.

MinHash only nominates candidates; the decision uses the exact shingle sets.
Containment (share of one text's shingles found in the other) is the main
score because reprints add and cut text: a reprint cut to half its length has
Jaccard 0.5 but containment 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.dedup.prepared import Prepared
from ingest.dedup.settings import DedupSettings

EXACT = "exact"
TEXT = "containment"
WIRE = "wire+containment"
TITLE = "title+containment"


@dataclass(frozen=True, slots=True)
class Scores:
    """Scores of a pair (a, b): ``containment_ab`` is the share of a's shingles found in b."""

    containment_ab: float
    containment_ba: float
    jaccard: float
    title_similarity: float | None
    shared: int

    @property
    def containment(self) -> float:
        """Containment of the shorter text in the longer: the headline score."""
        return max(self.containment_ab, self.containment_ba)


def score(a: Prepared, b: Prepared) -> Scores:
    shared = int(np.intersect1d(a.shingles, b.shingles, assume_unique=True).size)
    union = a.size + b.size - shared
    title = None
    if a.title and b.title:
        title = len(a.title & b.title) / len(a.title | b.title)
    return Scores(
        containment_ab=shared / a.size if a.size else 0.0,
        containment_ba=shared / b.size if b.size else 0.0,
        jaccard=shared / union if union else 0.0,
        title_similarity=title,
        shared=shared,
    )


def decide(scores: Scores, a: Prepared, b: Prepared, settings: DedupSettings) -> str | None:
    """The rule that fires for a verified pair, or ``None`` when it is not a near-duplicate."""
    if scores.shared < settings.min_shared_shingles:
        return None
    if scores.containment >= settings.min_containment:
        return TEXT
    if scores.containment < settings.support_containment:
        return None
    if a.wires & b.wires:
        return WIRE
    if scores.title_similarity is not None and scores.title_similarity >= settings.min_title_similarity:
        return TITLE
    return None
