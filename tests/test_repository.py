"""Persistence on both databases: UTC round trips, unique URLs, leases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from db import daemon_queries as dq
from db import repository as repo
from db.migrate import upgrade
from db.models import Article, FetchAttempt, RawPage, Source
from db.session import make_engine, session_factory, transaction


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def article(url: str, **extra: object) -> dict[str, object]:
    values: dict[str, object] = {
        "url": url,
        "title": "T",
        "authors": ["A"],
        "body": "body text",
        "content_hash": "h" * 64,
        "word_count": 2,
        "provenance": {},
        "flags": [],
    }
    values.update(extra)
    return values


def test_datetimes_come_back_aware_utc(sessions: sessionmaker[Session]) -> None:
    karachi = timezone(timedelta(hours=5))
    published = datetime(2025, 9, 10, 16, 40, tzinfo=karachi)
    with transaction(sessions) as s:
        aid = repo.insert_article(s, article("https://e.com/a", published_at=published), None)
    with sessions() as s:
        row = s.get(Article, aid)
        assert row is not None and row.published_at is not None
        assert row.published_at == published
        assert row.published_at.tzinfo is not None
        assert row.published_at.utcoffset() == timedelta(0)
        assert row.published_at.hour == 11


def test_naive_datetime_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(Exception, match="naive datetime"), transaction(sessions) as s:
        repo.insert_article(s, article("https://e.com/n", published_at=datetime(2025, 1, 1)), None)


def test_same_url_is_stored_once_and_raw_page_not_orphaned(sessions: sessionmaker[Session]) -> None:
    raw = {"url": "u", "compression": "gzip", "size": 1, "data": b"x"}
    with transaction(sessions) as s:
        first = repo.insert_article(s, article("https://e.com/a"), raw)
    with transaction(sessions) as s:
        second = repo.insert_article(s, article("https://e.com/a", title="other"), raw)
    assert first is not None
    assert second is None
    with sessions() as s:
        assert s.scalars(select(Article.title)).all() == ["T"]
        assert len(s.scalars(select(RawPage.id)).all()) == 1


def test_known_urls_matches_canonical_and_fetched(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        repo.insert_article(s, article("https://e.com/canon", fetched_url="https://e.com/feed-link"), None)
    with sessions() as s:
        found = repo.known_urls(s, ["https://e.com/canon", "https://e.com/feed-link", "https://e.com/new"])
    assert found == {"https://e.com/canon", "https://e.com/feed-link"}


def test_get_or_create_source_is_idempotent(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        a = repo.get_or_create_source(s, "dawn").id
    with transaction(sessions) as s:
        b = repo.get_or_create_source(s, "dawn").id
    assert a == b


def test_lease_is_exclusive_until_expiry(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        sid = repo.get_or_create_source(s, "src").id
    with transaction(sessions) as s:
        assert dq.claim_source(s, sid, "daemon-a", 60, due_by=None)
    with transaction(sessions) as s:
        assert not dq.claim_source(s, sid, "daemon-b", 60, due_by=None)
        assert dq.claim_source(s, sid, "daemon-a", 60, due_by=None)  # renewing one's own lease
    with transaction(sessions) as s:
        s.get(Source, sid).lease_expires_at = datetime.now(UTC) - timedelta(seconds=1)  # type: ignore[union-attr]
    with transaction(sessions) as s:
        assert dq.claim_source(s, sid, "daemon-b", 60, due_by=None)
    with transaction(sessions) as s:
        dq.release_lease(s, sid, "daemon-a")  # not the holder: no effect
        assert not dq.claim_source(s, sid, "daemon-a", 60, due_by=None)
        dq.release_lease(s, sid, "daemon-b")
    with transaction(sessions) as s:
        assert dq.claim_source(s, sid, "daemon-a", 60, due_by=None)


def test_validators_upsert(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        repo.save_validators(s, "https://e.com/feed", '"v1"', None)
    with transaction(sessions) as s:
        repo.save_validators(s, "https://e.com/feed", '"v2"', "Mon, 01 Sep 2025 00:00:00 GMT")
    with sessions() as s:
        assert repo.load_validators(s, "https://e.com/feed") == ('"v2"', "Mon, 01 Sep 2025 00:00:00 GMT")
        assert repo.load_validators(s, "https://e.com/other") is None


def test_batch_insert_keeps_order_skips_known_urls_and_round_trips(sessions: sessionmaker[Session]) -> None:
    """insert_articles (PostgreSQL: one fixed statement per table, see db.bulk): ids in the order
    given, None for a URL stored meanwhile (its raw page removed again), values stored as given,
    left-out columns filled with their defaults."""
    karachi = timezone(timedelta(hours=5))

    def raw(n: int) -> dict[str, object]:
        return {"url": f"u{n}", "compression": "gzip", "size": n, "data": bytes([n]) * 3}

    with transaction(sessions) as s:
        repo.insert_article(s, article("https://e.com/taken"), raw(9))
    values = [
        article("https://e.com/1", authors=["Ann Lee", 'Bo "B" Li'], provenance={"title": "json-ld"},
                published_at=datetime(2025, 9, 10, 16, 40, tzinfo=karachi)),
        article("https://e.com/taken", title="loser", published_at=None),
        article("https://e.com/3", title=None, published_at=None),
    ]
    for v in values:  # every row has the same keys, as the pipeline's do
        del v["flags"]  # a default the insert must fill
    with transaction(sessions) as s:
        ids = repo.insert_articles(s, values, [raw(1), raw(2), raw(3)])
    assert ids[1] is None and ids[0] is not None and ids[2] is not None and ids[0] < ids[2]
    with sessions() as s:
        first, third = s.get(Article, ids[0]), s.get(Article, ids[2])
        assert first is not None and third is not None
        assert first.authors == ["Ann Lee", 'Bo "B" Li'] and first.provenance == {"title": "json-ld"}
        assert first.flags == [] and third.flags == [] and third.title is None
        assert first.published_at == datetime(2025, 9, 10, 11, 40, tzinfo=UTC)
        assert first.raw_page is not None and first.raw_page.data == b"\x01\x01\x01"
        assert third.raw_page is not None and third.raw_page.size == 3
        assert sorted(s.scalars(select(RawPage.size)).all()) == [1, 3, 9]  # the loser's page is gone
        assert s.scalars(select(Article.title).where(Article.url == "https://e.com/taken")).one() == "T"
        linked = s.scalars(text("SELECT n.name FROM article_authors aa JOIN author_names n ON n.id = aa.author_id "
                                "WHERE aa.article_id = :id"), {"id": ids[0]}).all()
        assert sorted(linked) == ["ann lee", 'bo "b" li']  # the author index's triggers ran


def test_batch_insert_stores_a_url_given_twice_once(sessions: sessionmaker[Session]) -> None:
    """Two pages of one batch with the same canonical URL: the first is stored, the second
    comes back as None and its raw page is removed again."""
    raws = [{"url": f"u{n}", "compression": "gzip", "size": n, "data": b"x"} for n in (1, 2, 3)]
    values = [article("https://e.com/same", title="first"), article("https://e.com/same", title="second"),
              article("https://e.com/other")]
    with transaction(sessions) as s:
        ids = repo.insert_articles(s, values, raws)
    assert ids[0] is not None and ids[1] is None and ids[2] is not None
    with sessions() as s:
        assert s.scalars(select(Article.title).where(Article.url == "https://e.com/same")).all() == ["first"]
        assert sorted(s.scalars(select(RawPage.size)).all()) == [1, 3]


def test_batch_insert_refuses_a_naive_datetime(sessions: sessionmaker[Session]) -> None:
    raw = {"url": "u", "compression": "gzip", "size": 1, "data": b"x"}
    with pytest.raises(Exception, match="naive datetime"), transaction(sessions) as s:
        repo.insert_articles(s, [article("https://e.com/n", published_at=datetime(2025, 1, 1))], [raw])
    with sessions() as s:
        assert s.scalars(select(Article.id)).all() == []


def test_attempts_batch_round_trips(sessions: sessionmaker[Session]) -> None:
    started = datetime(2025, 9, 10, 6, 0, tzinfo=UTC)
    rows = [{"url": f"https://e.com/{n}", "final_url": None, "kind": "article", "status_code": 200 + n,
             "outcome": "stored", "error": None if n else "x\tb\nc\\d é", "started_at": started, "elapsed_ms": 1.5,
             "bytes_received": n, "article_id": None} for n in range(3)]
    with transaction(sessions) as s:
        sid = repo.get_or_create_source(s, "src").id
        repo.record_attempts(s, None, sid, rows)
    with sessions() as s:
        got = s.execute(select(FetchAttempt.url, FetchAttempt.status_code, FetchAttempt.error,
                               FetchAttempt.started_at, FetchAttempt.source_id).order_by(FetchAttempt.id)).all()
    assert [tuple(r) for r in got] == [(f"https://e.com/{n}", 200 + n, None if n else "x\tb\nc\\d é", started, sid)
                                       for n in range(3)]
