"""Indexing articles: signature, band rows, candidates, verification, pairs, stories.

:meth:`Indexer.index` takes a batch in id order and gives the same result as
indexing the articles one at a time (the hook passes a crawl's stored batch, a
rebuild thousands), with a fixed number of round trips per batch:

1. chrome: each article's host lines are counted; the ones seen on enough of
   the host's articles are left out, judged from the counts this process last saw;
2. the batch is shingled, signed and banded without its chrome (in memory);
3. one round trip takes the index lock, reads the true counts and what the batch
   meets among earlier articles (exact copies, declared originals, band buckets in
   the date window, with the candidates' signatures), and writes the batch's rows
   (:func:`db.dedup_index.write_and_lookup`); if the true counts make other lines
   chrome (another daemon counted them, or they were not cached), the batch is
   signed again; the batch's articles meet each other in memory;
4. candidates ranked by band hits and estimated containment, the best verified
   exactly (bodies re-read only for those not in the recent-articles cache);
5. pairs and story merges written together (:func:`db.dedup_index.write_pairs`).

Concurrency: the lock of step 3 is held until the storing transaction commits,
so two daemons' batches are ordered and the later one meets the earlier one.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import chain
from typing import TypedDict

import numpy as np
from sqlalchemy.orm import Session

from db import dedup_index as di
from db import dedup_queries as dq
from db.dedup_index import BandRows, BlockCount, BlockRow, Candidate, IndexRows, Lookup, LookupKeys
from db.dedup_queries import ArticleText
from db.raw import Raw
from ingest.dedup import minhash
from ingest.dedup.boilerplate import BlockSighting, CountCache, Sightings
from ingest.dedup.heldbands import HeldBands
from ingest.dedup.prepared import Prepared, Reading, prepare, prepare_analysis
from ingest.dedup.settings import DedupSettings
from ingest.dedup.signals import link_targets
from ingest.dedup.stories import plan_merges
from ingest.dedup.text import U32, Analysis, analyze, key64
from ingest.dedup.verify import EXACT, Scores, decide, score

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)



def day_of(article: ArticleText) -> int:
    """Days since 1970 of the article's date (published, else first seen): the window's unit."""
    when = article.published_at or article.fetched_at
    return (when - _EPOCH).days


@dataclass
class IndexReport:
    articles: int = 0
    candidates: int = 0
    verified: int = 0
    resigned: int = 0
    """Articles signed again: the chrome the cached block counts implied was not the true one."""
    pairs: list[PairRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _New:
    article: ArticleText
    day: int
    host_key: int
    chrome: frozenset[int]
    prepared: Prepared
    targets: dict[str, str]
    """Canonical URLs this article declares as its original, by kind."""


def _readings(
    articles: Sequence[ArticleText], given: Sequence[Reading | None], settings: DedupSettings
) -> tuple[list[Analysis], list[Prepared | None]]:
    """Each article's analysis and chrome-free prepared form: from its reading where one was
    given (made with these settings), else the analysis read now and no prepared form."""
    analyses: list[Analysis] = []
    plains: list[Prepared | None] = []
    for i, a in enumerate(articles):
        found = given[i] if i < len(given) else None
        analyses.append(analyze(a.body) if found is None else found.analysis)
        plains.append(None if found is None else found.plain_for(settings))
    return analyses, plains


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch signed in memory (:meth:`Indexer.prepare`), ready to be written."""

    articles: Sequence[ArticleText]
    days: list[int]
    sightings: list[BlockSighting]
    analyses: list[Analysis]
    plains: list[Prepared | None]
    lines: Sightings
    guess: dict[tuple[int, int], BlockCount]
    """The block counts the chrome was judged from (what this process knew)."""
    chrome: list[frozenset[int]]
    new: list[_New]
    rows: IndexRows
    keys: LookupKeys


class PreparedCache:
    """Recently indexed articles, so a story's members are not re-shingled for every reprint."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._items: OrderedDict[int, Prepared] = OrderedDict()
        self._lock = threading.Lock()  # a rebuild writes in one thread while it prepares in another

    def get(self, article_id: int) -> Prepared | None:
        with self._lock:
            found = self._items.get(article_id)
            if found is not None:
                self._items.move_to_end(article_id)
            return found

    def put(self, article_id: int, prepared: Prepared) -> None:
        with self._lock:
            self._items[article_id] = prepared
            self._items.move_to_end(article_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Indexer:
    """Indexes batches of new articles under one set of settings."""

    def __init__(self, settings: DedupSettings, held: HeldBands | None = None) -> None:
        self.settings = settings
        self.cache = PreparedCache()
        self.counts = CountCache()
        self.held = held
        """Set by a rebuild: band rows are held in memory and written many batches at a time
        (:mod:`ingest.dedup.heldbands`); :meth:`flush` writes what is still held."""

    def index(
        self, session: Session, articles: Sequence[ArticleText], readings: Sequence[Reading | None] = ()
    ) -> IndexReport:
        """Index ``articles`` (in id order) inside the caller's transaction.

        ``readings``: their bodies already read (:func:`~ingest.dedup.prepared.read`, e.g. by an
        extraction worker), by position; the missing ones are read here.
        """
        return self.write(session, self.prepare(articles, readings))

    def prepare(self, articles: Sequence[ArticleText], readings: Sequence[Reading | None] = ()) -> PreparedBatch:
        """Steps 1-2, in memory: the batch signed with the chrome the cached counts imply.

        The cache then counts the batch's lines as written, so the next batch can be
        prepared while this one is written (a rebuild does that); :meth:`write` corrects
        both when the database's counts differ.
        """
        s = self.settings
        read, plains = _readings(articles, readings, s)
        days = [day_of(a) for a in articles]
        sightings = [BlockSighting.of(a.url, a.source_id, d, an, s) for a, d, an in zip(articles, days, read, strict=True)]
        lines = Sightings.of(sightings)
        guess = self.counts.known(lines.added)
        chrome = lines.chrome(guess, s)
        new = self._new(articles, days, sightings, chrome, read, plains)
        batch = PreparedBatch(articles, days, sightings, read, plains, lines, guess, chrome, new,
                              self._rows(new, lines.rows(guess.keys())), self._keys(new))
        self.counts.update(lines.after(guess))
        return batch

    def write(self, session: Session, batch: PreparedBatch) -> IndexReport:
        """Steps 3-5 in the caller's transaction: write and look up, verify, store pairs and stories."""
        report = IndexReport(articles=len(batch.articles))
        if not batch.articles:
            return report
        s = self.settings
        raw = Raw(session)
        new = batch.new
        keys = self._database_keys(batch.keys)
        seen = di.write_and_lookup(raw, batch.rows, keys)
        self.counts.correct(batch.guess, seen.block_counts)
        true_chrome = batch.lines.chrome(seen.block_counts, s)
        if true_chrome != batch.chrome:  # another daemon counted these lines, or the cache forgot them
            report.resigned = len(new)
            di.remove_rows(raw, batch.rows)
            new = self._new(batch.articles, batch.days, batch.sightings, true_chrome, batch.analyses, batch.plains)
            keys = self._database_keys(self._keys(new))
            seen = di.write_and_lookup(raw, self._rows(new, []), keys)
        if self.held is not None:
            self._meet_held(raw, new, seen, keys)
        candidates = self._candidates(new, seen)
        report.candidates = len(candidates)
        pairs = self._verify(session, new, candidates, seen.candidates, report)
        story_of: dict[int, int | None] = {c.article_id: c.story_id for c in seen.candidates.values()}
        story_of.update((n.article.id, None) for n in new)
        di.write_pairs(raw, pairs, plan_merges([(p["a_id"], p["b_id"]) for p in pairs], story_of))
        report.pairs = list(pairs)
        for n in new:
            self.cache.put(n.article.id, n.prepared)
        if self.held is not None:
            bands = _band_rows(new)
            self.held.hold(bands.keys, bands.days, bands.article_ids)
            if self.held.full:
                self._flush(raw)
        return report

    def flush(self, session: Session) -> None:
        """Write the band rows a rebuild still holds, in the caller's transaction."""
        self._flush(Raw(session))

    def _flush(self, raw: Raw) -> None:
        if self.held is None:
            return
        keys, days, ids = self.held.take()
        for start in range(0, len(keys), _FLUSH_CHUNK):
            end = start + _FLUSH_CHUNK
            di.insert_bands(raw, keys[start:end], days[start:end], ids[start:end])

    # --- steps ---------------------------------------------------------------

    def _new(
        self,
        articles: Sequence[ArticleText],
        days: Sequence[int],
        sightings: Sequence[BlockSighting],
        chrome: Sequence[frozenset[int]],
        read: Sequence[Analysis],
        plains: Sequence[Prepared | None],
    ) -> list[_New]:
        """Each article prepared without its chrome (its chrome-free form as given, when it has none)."""
        s = self.settings
        return [
            _New(a, d, si.host_key, c,
                 plain if plain is not None and not c else prepare_analysis(an, a.body, a.title, s, c),
                 link_targets(a.provenance, a.url))
            for a, d, si, c, an, plain in zip(articles, days, sightings, chrome, read, plains, strict=True)
        ]

    def _rows(self, new: Sequence[_New], blocks: Sequence[BlockRow]) -> IndexRows:
        scheme = self.settings.scheme
        return IndexRows(
            signatures=[
                (n.article.id, n.day, scheme, n.host_key, n.prepared.size, minhash.pack(n.prepared.signature),
                 sorted(n.chrome), sorted(n.prepared.wires))
                for n in new
            ],
            bands=_band_rows(new) if self.held is None else _NO_BANDS,
            links=[(key64(target), n.article.id, kind) for n in new for kind, target in n.targets.items()],
            blocks=blocks,
        )

    def _keys(self, new: Sequence[_New]) -> LookupKeys:
        s = self.settings
        return LookupKeys(
            hashes=[n.article.content_hash for n in new],
            urls=[t for n in new for t in n.targets.values()],
            url_keys=[key64(n.article.url) for n in new],
            bands=[k for n in new for k in n.prepared.bands],
            first_day=min(n.day for n in new) - s.window_days,
            last_day=max(n.day for n in new) + s.window_days,
            bucket_cap=s.max_bucket_rows,
            scheme=s.scheme,
        )

    def _database_keys(self, keys: LookupKeys) -> LookupKeys:
        """A rebuild looks up in the database only the band keys it may have written there."""
        if self.held is None:
            return keys
        return replace(keys, bands=self.held.database_keys(keys.bands))

    def _meet_held(self, raw: Raw, new: Sequence[_New], seen: Lookup, keys: LookupKeys) -> None:
        """Add to ``seen`` the held band rows the batch meets, as the database lookup would have
        met them written: a bucket's ``bucket_cap`` most recent rows of both, and the
        signatures of the articles they belong to."""
        assert self.held is not None
        held_keys, held_days, held_ids = self.held.meet([k for n in new for k in n.prepared.bands],
                                                        keys.first_day, keys.last_day)
        if not len(held_keys):
            return
        held: dict[int, list[tuple[int, int]]] = {}
        for key, day, article_id in zip(held_keys.tolist(), held_days.tolist(), held_ids.tolist(), strict=True):
            held.setdefault(key, []).append((day, article_id))
        stored: dict[int, list[tuple[int, int]]] = {}
        for article_id, shared in seen.band_hits.items():
            day = seen.candidates[article_id].day
            for key in shared:
                if key in held:
                    stored.setdefault(key, []).append((day, article_id))
        for key, rows in held.items():
            met = stored.get(key, [])
            if len(rows) + len(met) > keys.bucket_cap:  # most recent first: (day, id) descending
                kept = set(sorted(rows + met, reverse=True)[: keys.bucket_cap])
                for row in met:
                    if row not in kept:
                        seen.band_hits[row[1]].remove(key)
                rows = [row for row in rows if row in kept]
            for _, article_id in rows:
                seen.band_hits.setdefault(article_id, []).append(key)
        for article_id in [a for a, shared in seen.band_hits.items() if not shared]:
            del seen.band_hits[article_id]
        missing = [a for a in seen.band_hits if a not in seen.candidates]
        if missing:
            seen.candidates.update(di.candidates(raw, missing, keys.scheme))
            for article_id in missing:
                if article_id not in seen.candidates:  # gone meanwhile: nothing to verify against
                    del seen.band_hits[article_id]

    def _candidates(self, new: Sequence[_New], seen: Lookup) -> dict[tuple[int, int], str | None]:
        """Unordered pairs to look at, each with a rule already decided by a signal (or None).

        Earlier articles come from the lookup; the batch's own articles meet each
        other here, each only the ones before it (as if stored one at a time).
        """
        s = self.settings
        found: dict[tuple[int, int], str | None] = {}

        def add(a: int, b: int, rule: str | None) -> None:
            if a == b:
                return
            key = (min(a, b), max(a, b))
            if found.get(key) is None:
                found[key] = rule

        by_hash: dict[str, list[int]] = {}
        for article_id, content_hash in seen.same_content:
            by_hash.setdefault(content_hash, []).append(article_id)
        by_url = dict(seen.by_url)
        linking: dict[int, list[tuple[int, str]]] = {}  # url key -> [(article id, kind)] declaring it their original
        for url_key, article_id, kind in seen.linking:
            linking.setdefault(url_key, []).append((article_id, kind))
        band_hits = _band_meetings(new, seen, s.window_days)
        for n, hits in zip(new, band_hits, strict=True):
            me = n.article.id
            for other in by_hash.get(n.article.content_hash, []):
                add(me, other, EXACT)
            for kind, target in n.targets.items():
                if target in by_url:
                    add(me, by_url[target], kind)
            for other, kind in linking.get(key64(n.article.url), []):
                add(me, other, kind)
            for other, _ in hits.most_common(s.max_candidates):
                add(me, other, None)
            # what later articles of the batch will meet
            by_hash.setdefault(n.article.content_hash, []).append(me)
            by_url[n.article.url] = me
            for kind, target in n.targets.items():
                linking.setdefault(key64(target), []).append((me, kind))
        return found

    def _verify(
        self,
        session: Session,
        new: Sequence[_New],
        candidates: dict[tuple[int, int], str | None],
        stored: dict[int, Candidate],
        report: IndexReport,
    ) -> list[PairRow]:
        s = self.settings
        mine = {n.article.id: n.prepared for n in new}
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

    def _estimate(self, pair: tuple[int, int], mine: dict[int, Prepared], stored: dict[int, Candidate]) -> float:
        sides: list[tuple[U32, int]] = []
        for x in pair:
            if x in mine:
                sides.append((mine[x].signature, mine[x].size))
            elif x in stored:
                sides.append((minhash.unpack(stored[x].minhash), stored[x].shingle_count))
            else:
                return 0.0
        (sig_a, size_a), (sig_b, size_b) = sides
        return minhash.estimate_containment(minhash.estimate_jaccard(sig_a, sig_b), size_a, size_b)

    def _load_prepared(self, session: Session, ids: set[int], stored: dict[int, Candidate]) -> dict[int, Prepared]:
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
        for article in dq.articles(session, missing) if missing else []:
            sig = stored.get(article.id)
            chrome = frozenset(sig.chrome) if sig else frozenset()
            out[article.id] = prepare(article.body, article.title, self.settings, chrome)
            self.cache.put(article.id, out[article.id])
        return out


_NO_BANDS = BandRows([], [], [], [])
_FLUSH_CHUNK = 100_000
"""Held band rows per statement when they are written."""


def _band_rows(new: Sequence[_New]) -> BandRows:
    """The batch's band rows in key order, so a batch's inserts walk the band index once
    instead of jumping about (NumPy for a batch; one article's keys are simply sorted)."""
    if len(new) == 1:
        n = new[0]
        keys = sorted(set(n.prepared.bands))
        return BandRows(keys, [n.day] * len(keys), [n.article.id] * len(keys), [1] * len(keys))
    counts = [len(n.prepared.bands) for n in new]
    total = sum(counts)
    keys_a = np.fromiter(chain.from_iterable(n.prepared.bands for n in new), dtype=np.int64, count=total)
    owner = np.repeat(np.arange(len(new)), counts)
    order = np.lexsort((owner, keys_a))
    keys_a, owner = keys_a[order], owner[order]
    if total > 1:  # a key twice in one article (two bands alike) is one row
        keep = np.r_[True, (keys_a[1:] != keys_a[:-1]) | (owner[1:] != owner[:-1])]
        keys_a, owner = keys_a[keep], owner[keep]
    days = np.array([n.day for n in new], dtype=np.int64)[owner]
    ids = np.array([n.article.id for n in new], dtype=np.int64)[owner]
    return BandRows(keys_a.tolist(), days.tolist(), ids.tolist(), (owner + 1).tolist())


def _band_meetings(new: Sequence[_New], seen: Lookup, window: int) -> list[Counter[int]]:
    """For each new article (by position), how many band keys it shares with each article it
    meets within ``window`` days: the earlier ones from the lookup, and the batch's own
    articles before it.

    The batch's keys are sorted once (NumPy), so finding who holds a key is a binary
    search and the batch meets itself through runs of equal keys, instead of a dict
    entry per key and article.
    """
    hits: list[Counter[int]] = [Counter() for _ in new]
    if len(new) == 1:  # every key the lookup returned is this article's own
        for other, shared in seen.band_hits.items():
            if abs(seen.candidates[other].day - new[0].day) <= window:
                hits[0][other] = len(set(shared))
        return hits
    counts = [len(n.prepared.bands) for n in new]
    if not sum(counts):
        return hits
    keys = np.fromiter(chain.from_iterable(n.prepared.bands for n in new), dtype=np.int64, count=sum(counts))
    owner = np.repeat(np.arange(len(new)), counts)
    order = np.argsort(keys, kind="stable")  # stable: within a key, the batch's order
    keys, owner = keys[order], owner[order]
    new_days = [n.day for n in new]
    for other, other_keys in seen.band_hits.items():
        day = seen.candidates[other].day
        wanted = np.unique(np.asarray(other_keys, dtype=np.int64))
        lo, hi = np.searchsorted(keys, wanted, "left"), np.searchsorted(keys, wanted, "right")
        for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
            for i in set(owner[a:b].tolist()):
                if abs(day - new_days[i]) <= window:
                    hits[i][other] += 1
    same = np.flatnonzero(keys[1:] == keys[:-1])
    if len(same):
        starts = same[np.r_[True, same[1:] != same[:-1] + 1]]  # first index of each run of equal keys
        for start in starts.tolist():
            end = start + 1
            while end < len(keys) and keys[end] == keys[start]:
                end += 1
            members = sorted(set(owner[start:end].tolist()))
            for j, later in enumerate(members):
                for earlier in members[:j]:
                    if abs(new_days[later] - new_days[earlier]) <= window:
                        hits[later][new[earlier].article.id] += 1
    return hits


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
