"""The hook end to end, on SQLite and PostgreSQL: pairs, stories, exact copies, links, chrome."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dedup_helpers import DAY0, Env, make_env, reprint, story, text
from sqlalchemy import select

from db import story_queries
from db.dedup_queries import StoryFilter
from db.models import DedupHostBlock, DedupSignature
from ingest.dedup.boilerplate import chrome_for_host
from ingest.dedup.hook import settings_of
from ingest.dedup.report import clusters
from ingest.dedup.text import block_key
from ingest.importer import import_paths


def test_seed_pair_is_one_story_with_the_earlier_original(
    env: Env, shared_dir: Path, aeb_bodies: list[tuple[str, str]]
) -> None:
    unrelated = [env.store(url, body, day=10) for url, body in aeb_bodies[:12]]
    summary = import_paths(env.ctx, [shared_dir / "seeds"], "import")
    ids = {r.path.name[:3]: r.article_id for r in summary.results}
    assert all(ids.values()), summary.results
    first, second = ids["001"], ids["000"]
    pairs = env.pairs()
    assert set(pairs) == {(min(first, second), max(first, second))}
    pair = pairs[(min(first, second), max(first, second))]
    assert pair.rule == "containment"
    assert 0.25 < pair.jaccard < 0.45 and max(pair.containment_ab, pair.containment_ba) > 0.55
    [(story_id, (earliest, members))] = env.stories().items()
    assert members == {first, second} and earliest == first
    assert not set(unrelated) & members
    with env.database.sessions() as session:
        [cluster] = clusters(session, StoryFilter())
        dups = story_queries.duplicates_of(session, second)
        dup_story = story_queries.story_id_of(session, second)
    assert cluster["story_id"] == story_id
    assert [m["id"] for m in cluster["members"]] == [first, second]
    assert cluster["pairs"][0]["rule"] == "containment"
    assert [d.article.id for d in dups] == [first] and dup_story == story_id


def test_unrelated_articles_and_same_topic_stories_are_not_flagged(
    env: Env, aeb_bodies: list[tuple[str, str]]
) -> None:
    """The AEB set holds same-topic pairs (two outlets quoting one press release): not reprints."""
    for i, (url, body) in enumerate(aeb_bodies):
        env.store(url, body, day=i % 20)
    assert env.pairs() == {}


def test_reprints_form_one_story_and_stories_merge_into_the_older_id(env: Env) -> None:
    a1 = env.store("https://one.example/a", text(story(1)), day=3)
    b1 = env.store("https://two.example/b", text(story(2)), day=2)
    a2 = env.store("https://three.example/a", text(reprint(story(1), 11)), day=4)
    b2 = env.store("https://four.example/b", text(reprint(story(2), 12)), day=1)
    assert set(env.pairs()) == {(a1, a2), (b1, b2)}
    assert env.stories() == {a1: (a1, {a1, a2}), b1: (b2, {b1, b2})}
    # an article carrying both stories joins them: the older story id survives
    both = env.store("https://five.example/ab", text(story(1)[:4] + story(2)[:4]), day=5)
    assert env.stories() == {a1: (b2, {a1, a2, b1, b2, both})}


def test_exact_copy_on_another_source_is_a_cheap_exact_flag(env: Env) -> None:
    body = text(story(5))
    a = env.store("https://one.example/x", body, source="one")
    b = env.store("https://two.example/x", body, source="two")
    assert env.try_store("https://one.example/y", body, source="one") is None  # same source: not stored
    pair = env.pairs()[(a, b)]
    assert (pair.rule, pair.jaccard, pair.containment_ab) == ("exact", 1.0, 1.0)


def test_cross_domain_canonical_flags_a_rewritten_copy(env: Env) -> None:
    original = env.store("https://orig.example/story", text(story(7)), day=1)
    copy = env.store(
        "https://copy.example/story", text(story(8)), day=2, canonical="https://orig.example/story"
    )
    # the copy first: the link is found when its original arrives
    copy2 = env.store("https://x.example/s", text(story(10)), day=0, canonical="https://late.example/s")
    original2 = env.store("https://late.example/s", text(story(9)), day=3)
    pairs = env.pairs()
    assert pairs[(original, copy)].rule == "canonical"
    assert pairs[(copy2, original2)].rule == "canonical"
    assert len(pairs) == 2


def test_articles_outside_the_window_are_not_compared(db_url: str) -> None:
    env = make_env(db_url, window_days=7)
    try:
        a = env.store("https://one.example/a", text(story(1)), day=0)
        env.store("https://two.example/a", text(reprint(story(1), 3)), day=30)
        c = env.store("https://three.example/a", text(reprint(story(1), 4)), day=6)
        assert set(env.pairs()) == {(a, c)}
    finally:
        env.database.close()


def test_learned_chrome_persists_and_is_left_out(db_url: str) -> None:
    chrome = "Subscribe to the Daily Ledger newsletter for the morning briefing"
    env = make_env(db_url)
    try:
        for i in range(6):
            env.store(f"https://www.ledger.example/{i}", f"{chrome}\n\n{text(story(100 + i, 3))}", day=i)
        with env.database.sessions() as session:
            row = session.scalar(select(DedupHostBlock).where(DedupHostBlock.text == chrome))
            assert row is not None and (row.host, row.seen, row.first_day + 5) == ("ledger.example", 6, row.last_day)
    finally:
        env.database.close()
    # a new process (fresh hook, nothing in memory) knows it from the database
    env = make_env(db_url)
    try:
        new = env.store("https://www.ledger.example/new", f"{chrome}\n\n{text(story(200, 3))}", day=7)
        with env.database.sessions() as session:
            sig = session.get(DedupSignature, new)
            assert sig is not None and block_key(chrome) in sig.chrome
            assert chrome in chrome_for_host(session, "ledger.example", settings_of(env.config))
            early = session.get(DedupSignature, new - 6)
            assert early is not None and early.chrome == []  # the first articles could not know yet
    finally:
        env.database.close()


def test_a_batch_indexes_like_its_articles_one_at_a_time(db_url: str, tmp_path: Path) -> None:
    """The store writer hands the index a whole batch: its articles meet each other in memory
    and the earlier articles through one lookup, with the pairs one-at-a-time indexing gives."""
    from db.repository import insert_article
    from db.session import transaction
    from ingest.dedup.hook import article_text
    from ingest.dedup.indexer import Indexer
    from ingest.normalize import content_hash
    from ingest.pipeline import StoredArticle

    bodies = [text(story(40)), text(story(41)), text(reprint(story(40), 42)), text(reprint(story(40), 43)),
              text(story(44)), text(story(41)), text(reprint(story(41), 45))]

    def index_all(url: str, batch: int) -> set[tuple[str, str, str]]:
        env = make_env(url)
        try:
            settings = settings_of(env.config)
            indexer = Indexer(settings)
            urls: dict[int, str] = {}
            for start in range(0, len(bodies), batch):
                with transaction(env.database.sessions) as session:
                    stored = []
                    for i in range(start, min(len(bodies), start + batch)):
                        values = {"url": f"https://o{i}.example/a", "fetched_url": None, "title": None,
                                  "authors": [], "published_at": None, "body": bodies[i],
                                  "content_hash": content_hash(bodies[i]), "word_count": 1, "provenance": {},
                                  "flags": [], "source_id": None,
                                  "fetched_at": DAY0 + timedelta(days=i)}
                        article_id = insert_article(session, values, None)
                        assert article_id is not None
                        urls[article_id] = values["url"]
                        stored.append(StoredArticle(article_id, values))
                    indexer.index(session, [article_text(a) for a in stored])
            return {(urls[a], urls[b], p.rule) for (a, b), p in env.pairs().items()}
        finally:
            env.database.close()

    one_by_one = index_all(f"sqlite:///{tmp_path / 'single.db'}", 1)
    assert len(one_by_one) == 6 and ("https://o1.example/a", "https://o5.example/a", "exact") in one_by_one
    assert index_all(db_url, len(bodies)) == one_by_one


def test_bodies_signed_ahead_give_the_rows_the_indexer_makes(db_url: str, tmp_path: Path) -> None:
    """A reading made outside the store writer (extraction worker, rebuild pool) gives the rows the
    indexer makes itself; once a host's chrome is learned its chrome-free form is not used, and a
    reading made with another signature shape is ignored."""
    from db.models import DedupBand
    from db.repository import insert_article
    from db.session import transaction
    from ingest.dedup.hook import article_text
    from ingest.dedup.indexer import Indexer
    from ingest.dedup.prepared import read
    from ingest.dedup.settings import DedupSettings
    from ingest.normalize import content_hash
    from ingest.pipeline import StoredArticle

    chrome = "Subscribe to the Daily Ledger newsletter for the morning briefing"
    bodies = [f"{chrome}\n\n{text(story(300 + i, 3))}" for i in range(8)] + [text(reprint(story(303, 3), 9))]

    def index_all(url: str, reader: DedupSettings | None) -> tuple[object, ...]:
        env = make_env(url)
        try:
            settings = settings_of(env.config)
            indexer = Indexer(settings)
            for i, body in enumerate(bodies):
                with transaction(env.database.sessions) as session:
                    values = {"url": f"https://www.ledger.example/{i}", "fetched_url": None, "title": f"Story {i}",
                              "authors": [], "published_at": DAY0 + timedelta(days=i), "body": body,
                              "content_hash": content_hash(body), "word_count": 1, "provenance": {}, "flags": [],
                              "source_id": None, "fetched_at": DAY0 + timedelta(days=i)}
                    article_id = insert_article(session, values, None)
                    assert article_id is not None
                    reading = None if reader is None else read(body, values["title"], reader)
                    indexer.index(session, [article_text(StoredArticle(article_id, values))], [reading])
            with env.database.sessions() as session:
                sigs = [(s.minhash, s.chrome, s.shingle_count, s.wires)
                        for s in session.scalars(select(DedupSignature).order_by(DedupSignature.article_id))]
                bands = sorted((b.key, b.day) for b in session.scalars(select(DedupBand)))
            pairs = sorted((p.containment_ab, p.rule) for p in env.pairs().values())
            return sigs, bands, pairs
        finally:
            env.database.close()

    itself = index_all(f"sqlite:///{tmp_path / 'itself.db'}", None)
    sigs = itself[0]
    assert isinstance(sigs, list) and not sigs[0][1] and sigs[-2][1]  # chrome learned on the way
    assert itself[2]  # the reprint is flagged
    assert index_all(db_url, DedupSettings()) == itself
    assert index_all(f"sqlite:///{tmp_path / 'other.db'}", DedupSettings(shingle_words=4)) == itself
