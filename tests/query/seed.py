"""A small, known archive for the query tests: three sources, dated and undated articles, a story."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session, sessionmaker

from db import repository as repo
from db.migrate import upgrade
from db.models import Article, DedupPair, DedupSignature, DedupStory, Run
from db.session import make_engine, session_factory, transaction

T0 = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)

STORY_BODY = [
    "ISLAMABAD: Pakistan and Bahrain agreed on Thursday to set up a joint working group.",
    "The group will cover counter-terrorism, narcotics control and immigration.",
    "Officials said the visa abolition agreement would help diplomats travel.",
]


@dataclass
class Archive:
    engine: Engine
    sessions: sessionmaker[Session]
    ids: dict[str, int]

    def close(self) -> None:
        self.engine.dispose()


def article_values(url: str, title: str, body: str, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "url": url,
        "title": title,
        "authors": [],
        "body": body,
        "content_hash": hashlib.sha256(body.encode()).hexdigest(),
        "word_count": len(body.split()),
        "provenance": {"title": "json-ld", "published_at": "meta"},
        "flags": [],
        "language": "en",
    }
    values.update(extra)
    return values


def add_article(session: Session, source: str | None, url: str, title: str, body: str, **extra: Any) -> int:
    source_id = repo.get_or_create_source(session, source).id if source else None
    article_id = repo.insert_article(session, article_values(url, title, body, source_id=source_id, **extra), None)
    assert article_id is not None
    return article_id


def add_story(session: Session, member_ids: Sequence[int]) -> int:
    """Record ``member_ids`` as one near-duplicate story, the way the dedup index does."""
    story_id = min(member_ids)
    session.execute(
        insert(DedupStory).values(id=story_id, earliest_article_id=story_id, size=len(member_ids))
    )
    for aid in member_ids:
        session.execute(
            insert(DedupSignature).values(
                article_id=aid, day=0, scheme="test", host_key=aid, shingle_count=1,
                minhash=b"\x00", chrome=[], wires=[], story_id=story_id,
            )
        )
    for other in member_ids:
        if other != story_id:
            session.execute(
                insert(DedupPair).values(
                    a_id=story_id, b_id=other, containment_ab=0.9, containment_ba=0.8,
                    jaccard=0.75, title_similarity=0.9, rule="test",
                )
            )
    return story_id


def build(url: str) -> Archive:
    """Migrate a fresh database at ``url`` and fill it with the test archive."""
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    ids: dict[str, int] = {}
    with transaction(sessions) as s:
        ids["bahrain_dawn"] = add_article(
            s, "dawn", "https://dawn.example/bahrain", "Pakistan, Bahrain agree on working group",
            "\n\n".join(STORY_BODY), published_at=T0, authors=["Amir Wasim"],
        )
        ids["bahrain_tribune"] = add_article(
            s, "tribune", "https://tribune.example/bahrain", "Pakistan and Bahrain to form working group",
            "\n\n".join([*STORY_BODY[:2], "The interior minister hosted the delegation in Islamabad."]),
            published_at=T0 + timedelta(hours=2), authors=["Staff Reporter"],
        )
        ids["cricket"] = add_article(
            s, "dawn", "https://dawn.example/cricket", "Cricket: Pakistan win the series",
            "Pakistan won the cricket series after a thrilling final over in Lahore.",
            published_at=T0 + timedelta(days=1), authors=["Sports Desk", "Zoë Ünal"],
        )
        ids["flood"] = add_article(
            s, "geo", "https://geo.example/flood", "Floods hit Punjab villages",
            "Heavy rains caused floods in Punjab; thousands of villagers were moved to safety.",
            published_at=T0 + timedelta(days=2), language="ur",
        )
        ids["running"] = add_article(
            s, "geo", "https://geo.example/marathon", "Marathon runners in Karachi",
            "Runners were running through Karachi streets for the city marathon.",
            published_at=T0 + timedelta(days=3),
        )
        for n in range(3):
            ids[f"undated{n}"] = add_article(
                s, "tribune", f"https://tribune.example/undated{n}", f"Undated note {n}",
                f"An undated note number {n} about budget talks.",
            )
        add_story(s, [ids["bahrain_dawn"], ids["bahrain_tribune"]])
        source_id = repo.get_or_create_source(s, "dawn").id
        s.add(Run(source_id=source_id, trigger="schedule", status="ok", counts={"stored": 2}))
    return Archive(engine, sessions, ids)


@contextmanager
def archive(url: str) -> Iterator[Archive]:
    built = build(url)
    try:
        yield built
    finally:
        built.close()


def bulk_articles(sessions: sessionmaker[Session], n: int, *, source: str = "bulk", start: int = 0) -> list[int]:
    """``n`` dated articles one minute apart (newest has the highest id)."""
    ids = []
    with transaction(sessions) as s:
        for i in range(start, start + n):
            ids.append(
                add_article(
                    s, source, f"https://bulk.example/{i}", f"Bulk story {i}",
                    f"Bulk body {i} mentions economy and budget.",
                    published_at=T0 + timedelta(minutes=i),
                )
            )
    return ids


__all__ = ["Archive", "Article", "archive", "build", "bulk_articles"]
