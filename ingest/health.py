"""Per-source extraction health, and drift detection over its history.

A site redesign rarely makes fetches fail; it makes the extractor quietly
return less: shorter bodies, missing dates or bylines, menus and share bars
in the text, or pages rejected as "not an article".  Each run of a source
leaves one :class:`Sample`; :func:`drift` compares the last few runs with the
source's own earlier baseline and names what moved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from sqlalchemy.orm import Session

from db import daemon_queries as dq
from db.models_daemon import ExtractionSample

CHROME_RE = re.compile(
    r"\b(share (on|this)|facebook|twitter|whatsapp|linkedin|subscribe|newsletter|sign (up|in)"
    r"|log ?in|cookies?|advertisement|sponsored|related (stories|articles|news)|read more"
    r"|more stories|most (popular|read)|trending|follow us|all rights reserved|copyright"
    r"|click here|comments?|privacy policy|terms of (use|service)|skip to)\b|©",
    re.IGNORECASE,
)
CHROME_MAX_WORDS = 30
"""Only short paragraphs can be chrome; a long one mentioning Twitter is prose."""

ARTICLE_PAGE_OUTCOMES = ("stored", "duplicate_content", "not_article", "parse_error", "paywalled")
REJECTED_OUTCOMES = ("not_article", "parse_error")

RECENT_RUNS = 3
BASELINE_RUNS = 20
MIN_BASELINE_ARTICLES = 10
MIN_RECENT_ARTICLES = 3
MIN_PAGES = 5


@dataclass(frozen=True, slots=True)
class ArticleFacts:
    """What health needs of one stored article."""

    words: int
    has_date: bool
    has_author: bool
    body: str


@dataclass(frozen=True, slots=True)
class Sample:
    """Extraction health of one run: means and shares over its article pages."""

    pages: int = 0
    articles: int = 0
    mean_words: float = 0.0
    missing_date: float = 0.0
    missing_author: float = 0.0
    chrome_share: float = 0.0
    rejected_share: float = 0.0


@dataclass(frozen=True, slots=True)
class Drift:
    flagged: bool
    reasons: list[str] = field(default_factory=list)
    recent: Sample | None = None
    baseline: Sample | None = None


def chrome_share(body: str) -> float:
    """Share of the body's characters in short paragraphs that read like page chrome."""
    paragraphs = [p.strip() for p in body.split("\n") if p.strip()]
    total = sum(len(p) for p in paragraphs)
    if total == 0:
        return 0.0
    chrome = sum(
        len(p) for p in paragraphs if len(p.split()) <= CHROME_MAX_WORDS and CHROME_RE.search(p)
    )
    return chrome / total


def sample(articles: Sequence[ArticleFacts], counts: Mapping[str, int]) -> Sample | None:
    """One run's sample, or ``None`` when the run fetched no article page at all."""
    pages = sum(int(counts.get(o, 0)) for o in ARTICLE_PAGE_OUTCOMES)
    if pages == 0 and not articles:
        return None
    n = len(articles)
    rejected = sum(int(counts.get(o, 0)) for o in REJECTED_OUTCOMES)
    if n == 0:
        return Sample(pages=pages, rejected_share=rejected / pages if pages else 0.0)
    return Sample(
        pages=pages,
        articles=n,
        mean_words=sum(a.words for a in articles) / n,
        missing_date=sum(not a.has_date for a in articles) / n,
        missing_author=sum(not a.has_author for a in articles) / n,
        chrome_share=sum(chrome_share(a.body) for a in articles) / n,
        rejected_share=rejected / pages if pages else 0.0,
    )


def combine(samples: Iterable[Sample]) -> Sample:
    """Article-weighted means of article numbers, page-weighted rejected share."""
    items = list(samples)
    pages = sum(s.pages for s in items)
    n = sum(s.articles for s in items)

    def mean(attr: str) -> float:
        return sum(getattr(s, attr) * s.articles for s in items) / n if n else 0.0

    return Sample(
        pages=pages,
        articles=n,
        mean_words=mean("mean_words"),
        missing_date=mean("missing_date"),
        missing_author=mean("missing_author"),
        chrome_share=mean("chrome_share"),
        rejected_share=sum(s.rejected_share * s.pages for s in items) / pages if pages else 0.0,
    )


def drift(history: Sequence[Sample]) -> Drift:
    """Compare the last :data:`RECENT_RUNS` samples (oldest first) with the ones before.

    Thresholds are deliberately coarse: a redesign that breaks a rule moves
    these numbers a lot, ordinary news variation does not.
    """
    if len(history) <= RECENT_RUNS:
        return Drift(False)
    recent = combine(history[-RECENT_RUNS:])
    base = combine(history[-RECENT_RUNS - BASELINE_RUNS : -RECENT_RUNS])
    reasons: list[str] = []
    enough_pages = base.pages >= MIN_PAGES and recent.pages >= MIN_PAGES
    if enough_pages and recent.rejected_share - base.rejected_share >= 0.4:
        reasons.append(f"rejected pages {base.rejected_share:.0%} -> {recent.rejected_share:.0%}")
    if base.articles >= MIN_BASELINE_ARTICLES and recent.articles >= MIN_RECENT_ARTICLES:
        if base.mean_words > 0 and recent.mean_words < 0.5 * base.mean_words:
            reasons.append(f"body words {base.mean_words:.0f} -> {recent.mean_words:.0f}")
        for attr, label in (("missing_date", "missing date"), ("missing_author", "missing author")):
            before, now = getattr(base, attr), getattr(recent, attr)
            if now - before >= 0.4:
                reasons.append(f"{label} {before:.0%} -> {now:.0%}")
        if recent.chrome_share - base.chrome_share >= 0.15:
            reasons.append(f"chrome text {base.chrome_share:.0%} -> {recent.chrome_share:.0%}")
    return Drift(bool(reasons), reasons, recent, base)


HISTORY = RECENT_RUNS + BASELINE_RUNS
KEEP_SAMPLES = 200
MAX_ARTICLES_SAMPLED = 200


def _from_row(row: ExtractionSample) -> Sample:
    return Sample(
        pages=row.pages,
        articles=row.articles,
        mean_words=row.mean_words,
        missing_date=row.missing_date,
        missing_author=row.missing_author,
        chrome_share=row.chrome_share,
        rejected_share=row.rejected_share,
    )


def source_drift(session: Session, source_id: int) -> Drift:
    """Drift of a source over its stored samples."""
    return drift([_from_row(r) for r in dq.recent_samples(session, source_id, HISTORY)])


def record_run(
    session: Session,
    source_id: int,
    run_id: int | None,
    counts: Mapping[str, int],
    stored_ids: Sequence[int],
) -> Drift | None:
    """Store one run's sample (in the caller's transaction) and return the source's drift."""
    facts = [
        ArticleFacts(words, published is not None, bool(authors), body)
        for words, published, authors, body in dq.article_facts(session, stored_ids[:MAX_ARTICLES_SAMPLED])
    ]
    found = sample(facts, counts)
    if found is None:
        return None
    dq.add_sample(session, source_id, run_id, asdict(found))
    session.flush()
    dq.prune_samples(session, source_id, KEEP_SAMPLES)
    return source_drift(session, source_id)
