"""Indexing articles: signature, band rows, candidates, verification, pairs, stories.

:func:`index_articles` takes a batch in id order and gives the same result as
indexing the articles one at a time (the hook passes one, a rebuild a
thousand), with a fixed number of statements per batch.

Insert-then-query: the batch's own band rows are written before candidates
are read, so two articles of one batch find each other; across daemons
:func:`db.dedup_queries.block_counts` (called with ``lock=True``) takes a transaction
advisory lock on PostgreSQL that orders the transactions.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypedDict

from sqlalchemy.orm import Session

from db import dedup_queries as dq
from db.dedup_queries import ArticleText, StoredSignature
from ingest.dedup import minhash
from ingest.dedup.boilerplate import host_of, learn, sighting
from ingest.dedup.prepared import Prepared, prepare
from ingest.dedup.settings import DedupSettings
from ingest.dedup.signals import link_targets
from ingest.dedup.stories import update_stories
from ingest.dedup.text import key64
from ingest.dedup.verify import EXACT, Scores, decide, score

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

PrepareJob = tuple[str, str | None, frozenset[int]]
Mapper = Callable[[Callable[[PrepareJob], Prepared], Sequence[PrepareJob]], Iterable[Prepared]]


def day_of(article: ArticleText) -> int:
    """Days since 1970 of the article's date (published, else first seen): the window's unit."""
    when = article.published_at or article.fetched_at
    return (when - _EPOCH).days


@dataclass
class IndexReport:
    articles: int = 0
    candidates: int = 0
    verified: int = 0
    pairs: list[PairRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _New:
    article: ArticleText
    day: int
    host_key: int
    chrome: frozenset[int]
    prepared: Prepared


class PreparedCache:
    """Recently verified articles, so a story's members are not re-shingled for every reprint."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[int, Prepared] = OrderedDict()

    def get(self, article_id: int) -> Prepared | None:
        found = self._items.get(article_id)
        if found is not None:
            self._items.move_to_end(article_id)
        return found

    def put(self, article_id: int, prepared: Prepared) -> None:
        self._items[article_id] = prepared
        self._items.move_to_end(article_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


class Indexer:
    """Indexes batches of new articles under one set of settings."""

    def __init__(self, settings: DedupSettings, mapper: Mapper | None = None) -> None:
        self.settings = settings
        self.cache = PreparedCache()
        self._map: Mapper = mapper or (lambda fn, jobs: map(fn, jobs))

    def index(self, session: Session, articles: Sequence[ArticleText]) -> IndexReport:
        """Index ``articles`` (in id order) inside the caller's transaction."""
        report = IndexReport(articles=len(articles))
        if not articles:
            return report
        s = self.settings
        days = [day_of(a) for a in articles]
        sightings = [
            sighting(host_of(a.url, a.source_id), d, a.body, s) for a, d in zip(articles, days, strict=True)
        ]
        chrome = learn(session, sightings, s, lock=True)  # the index lock comes with the first read
        jobs = [(a.body, a.title, c) for a, c in zip(articles, chrome, strict=True)]
        prepared = list(self._map(prepare_job(s), jobs))
        new = [
            _New(a, d, si.host_key, c, p)
            for a, d, si, c, p in zip(articles, days, sightings, chrome, prepared, strict=True)
        ]
        self._write(session, new)
        candidates = self._candidates(session, new)
        report.candidates = len(candidates)
        pairs = self._verify(session, new, candidates, report)
        dq.insert_pairs(session, pairs)
        update_stories(session, [(p["a_id"], p["b_id"]) for p in pairs])
        report.pairs = list(pairs)
        for n in new:
            self.cache.put(n.article.id, n.prepared)
        return report

    # --- steps ---------------------------------------------------------------

    def _write(self, session: Session, new: Sequence[_New]) -> None:
        scheme = self.settings.scheme
        dq.write_index(
            session,
            [
                {"article_id": n.article.id, "day": n.day, "scheme": scheme, "host_key": n.host_key,
                 "shingle_count": n.prepared.size, "minhash": minhash.pack(n.prepared.signature),
                 "chrome": sorted(n.chrome), "wires": sorted(n.prepared.wires), "story_id": None}
                for n in new
            ],
            [(k, n.day, n.article.id) for n in new for k in sorted(set(n.prepared.bands))],
            [
                {"url_key": key64(target), "article_id": n.article.id, "kind": kind}
                for n in new
                for kind, target in link_targets(n.article.provenance, n.article.url).items()
            ],
        )

    def _candidates(self, session: Session, new: Sequence[_New]) -> dict[tuple[int, int], str | None]:
        """Unordered pairs to look at, each with a rule already decided by a signal (or None)."""
        s = self.settings
        found: dict[tuple[int, int], str | None] = {}
        ids = {n.article.id for n in new}

        def add(a: int, b: int, rule: str | None) -> None:
            if a == b:
                return
            key = (min(a, b), max(a, b))
            if found.get(key) is None:
                found[key] = rule

        # one read: exact copies (content hash, no window), declared originals both ways,
        # LSH band buckets within the date window
        targets = {n.article.id: link_targets(n.article.provenance, n.article.url) for n in new}
        url_keys = {key64(n.article.url): n.article.id for n in new}
        lo = min(n.day for n in new) - s.window_days
        hi = max(n.day for n in new) + s.window_days
        seen = dq.lookup(
            session,
            [n.article.content_hash for n in new],
            [t for ts in targets.values() for t in ts.values()],
            list(url_keys),
            [k for n in new for k in n.prepared.bands],
            lo,
            hi,
            s.max_bucket_rows,
        )
        by_hash: dict[str, list[int]] = {}
        for article_id, content_hash in seen.same_content:
            by_hash.setdefault(content_hash, []).append(article_id)
        for n in new:
            for other in by_hash.get(n.article.content_hash, []):
                add(n.article.id, other, EXACT)
        for n in new:
            for kind, target in targets[n.article.id].items():
                if target in seen.by_url:
                    add(n.article.id, seen.by_url[target], kind)
        for url_key, article_id, kind in seen.linking:
            add(url_keys[url_key], article_id, kind)
        by_key: dict[int, list[tuple[int, int]]] = {}
        for key, day, article_id in seen.bands:
            by_key.setdefault(key, []).append((day, article_id))
        for n in new:
            hits: Counter[int] = Counter()
            for key in set(n.prepared.bands):
                for day, other in by_key.get(key, ()):
                    if other != n.article.id and abs(day - n.day) <= s.window_days:
                        if other in ids and other > n.article.id:
                            continue  # the later article of the batch finds this pair
                        hits[other] += 1
            for other, _ in hits.most_common(s.max_candidates):
                add(n.article.id, other, None)
        return found

    def _verify(
        self,
        session: Session,
        new: Sequence[_New],
        candidates: dict[tuple[int, int], str | None],
        report: IndexReport,
    ) -> list[PairRow]:
        s = self.settings
        mine = {n.article.id: n.prepared for n in new}
        others = {x for pair in candidates for x in pair if x not in mine}
        stored = dq.signatures(session, sorted(others))
        chosen: list[tuple[float, tuple[int, int], str | None]] = []
        for pair, rule in candidates.items():
            estimate = self._estimate(pair, mine, stored)
            if rule is not None or estimate >= s.prefilter_containment:
                chosen.append((estimate, pair, rule))
        chosen.sort(key=lambda c: (c[2] is None, -c[0]))
        per_article: Counter[int] = Counter()
        verified: list[tuple[tuple[int, int], str | None]] = []
        for _, pair, rule in chosen:
            owner = pair[1] if pair[1] in mine else pair[0]
            if rule is None and per_article[owner] >= s.max_verified:
                continue
            per_article[owner] += 1
            verified.append((pair, rule))
        rows = [_pair_row(a, b, _EXACT_SCORES, EXACT) for (a, b), rule in verified if rule == EXACT]
        verified = [(pair, rule) for pair, rule in verified if rule != EXACT]
        loaded = self._load_prepared(session, {x for pair, _ in verified for x in pair if x not in mine}, stored)
        loaded.update(mine)
        for (a, b), signal in verified:
            pa, pb = loaded.get(a), loaded.get(b)
            if pa is None or pb is None:
                continue
            report.verified += 1
            scores = score(pa, pb)
            rule = signal or decide(scores, pa, pb, s)
            if rule is not None:
                rows.append(_pair_row(a, b, scores, rule))
        return rows

    def _estimate(
        self, pair: tuple[int, int], mine: dict[int, Prepared], stored: dict[int, StoredSignature]
    ) -> float:
        sides: list[tuple[Sequence[int], int]] = []
        for x in pair:
            if x in mine:
                sides.append((mine[x].signature, mine[x].size))
            elif x in stored:
                sides.append((minhash.unpack(stored[x].minhash), stored[x].shingle_count))
            else:
                return 0.0
        (sig_a, size_a), (sig_b, size_b) = sides
        return minhash.estimate_containment(minhash.estimate_jaccard(sig_a, sig_b), size_a, size_b)

    def _load_prepared(
        self, session: Session, ids: set[int], stored: dict[int, StoredSignature]
    ) -> dict[int, Prepared]:
        """Prepared forms of indexed articles: from the cache, else re-shingled from the body
        without the chrome that was left out when they were indexed."""
        out: dict[int, Prepared] = {}
        missing = []
        for x in ids:
            cached = self.cache.get(x)
            if cached is not None:
                out[x] = cached
            else:
                missing.append(x)
        for article in dq.articles(session, missing):
            sig = stored.get(article.id)
            chrome = frozenset(sig.chrome) if sig else frozenset()
            out[article.id] = prepare(article.body, article.title, self.settings, chrome)
            self.cache.put(article.id, out[article.id])
        return out


def prepare_job(settings: DedupSettings) -> Callable[[PrepareJob], Prepared]:
    return _PrepareJob(settings)


class _PrepareJob:
    """A picklable ``prepare`` for process pools."""

    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings

    def __call__(self, job: PrepareJob) -> Prepared:
        return prepare(job[0], job[1], self.settings, job[2])


_EXACT_SCORES = Scores(1.0, 1.0, 1.0, None, 0)


class PairRow(TypedDict):
    a_id: int
    b_id: int
    containment_ab: float
    containment_ba: float
    jaccard: float
    title_similarity: float | None
    rule: str


def _pair_row(a: int, b: int, scores: Scores, rule: str) -> PairRow:
    return {
        "a_id": a,
        "b_id": b,
        "containment_ab": round(scores.containment_ab, 4),
        "containment_ba": round(scores.containment_ba, 4),
        "jaccard": round(scores.jaccard, 4),
        "title_similarity": None if scores.title_similarity is None else round(scores.title_similarity, 4),
        "rule": rule,
    }
