"""Reading the index for people: story clusters with members and scores, an article's duplicates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from db import dedup_queries as dq
from db.dedup_queries import StoryFilter


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _member(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "source": row.name,
        "title": row.title,
        "published_at": _iso(row.published_at),
        "fetched_at": _iso(row.fetched_at),
    }


def _age(member: dict[str, Any]) -> tuple[str, str, int]:
    return (member["published_at"] or member["fetched_at"] or "", member["fetched_at"] or "", member["id"])


def pair_json(row: Row[Any]) -> dict[str, Any]:
    return {
        "a": row.a_id,
        "b": row.b_id,
        "containment": max(row.containment_ab, row.containment_ba),
        "containment_ab": row.containment_ab,
        "containment_ba": row.containment_ba,
        "jaccard": row.jaccard,
        "title_similarity": row.title_similarity,
        "rule": row.rule,
    }


def clusters(session: Session, flt: StoryFilter) -> list[dict[str, Any]]:
    """Stories (newest activity first), each with its members oldest first and its pairs."""
    stories = dq.stories(session, flt)
    by_story: dict[int, list[dict[str, Any]]] = {s.id: [] for s in stories}
    member_rows = dq.members_of(session, list(by_story))
    for row in member_rows:
        by_story[row.story_id].append(_member(row))
    pairs: dict[int, list[dict[str, Any]]] = {s.id: [] for s in stories}
    story_of = {row.id: row.story_id for row in member_rows}
    for row in dq.pairs_among(session, list(story_of)):
        sid = story_of.get(row.a_id)
        if sid is not None:
            pairs[sid].append(pair_json(row))
    return [
        {
            "story_id": s.id,
            "earliest_id": s.earliest_article_id,
            "size": s.size,
            "updated_at": _iso(s.updated_at),
            "members": sorted(by_story[s.id], key=_age),
            "pairs": sorted(pairs[s.id], key=lambda p: (p["a"], p["b"])),
        }
        for s in stories
    ]
