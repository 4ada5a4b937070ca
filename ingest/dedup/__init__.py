"""Near-duplicate story detection: the same story published by several outlets.

Pipeline for each new article (see :mod:`ingest.dedup.indexer`):

1. per-host boilerplate (chrome) blocks are learned and left out — :mod:`.boilerplate`
2. the rest is normalized into word shingles — :mod:`.text`
3. a one-permutation MinHash signature is cut into LSH bands — :mod:`.minhash`
4. candidates sharing a band bucket within the date window are verified with
   exact containment both ways, Jaccard and title similarity — :mod:`.verify`
5. non-text signals (cross-domain canonical, ``isBasedOn``, wire credits) — :mod:`.signals`
6. verified pairs join story clusters with a stable id — :mod:`.stories`
"""
