"""Story clusters: connected components of the pair graph, each with a stable id.

A story's id is the smallest article id among its members.  New articles get
larger ids, so the id never changes as a story grows; when an article joins
two stories they merge into the older (smaller) id.  A rebuild in id order
therefore gives every story its id back.  The earliest member (published date,
then first seen) is the likely original.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from db import dedup_queries as dq


class _Components:
    """Union-find over article ids."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for x in list(self.parent):
            out.setdefault(self.find(x), []).append(x)
        return out


def update_stories(session: Session, pairs: Iterable[tuple[int, int]]) -> set[int]:
    """Merge the articles of new pairs into stories; returns the ids of the stories touched."""
    comps = _Components()
    for a, b in pairs:
        comps.union(a, b)
    if not comps.parent:
        return set()
    current = dq.story_ids(session, list(comps.parent))
    touched: set[int] = set()
    for group in comps.groups().values():
        members = [m for m in group if m in current]  # articles indexed before dedup have no row
        if len(members) < 2:
            continue
        stories = sorted({s for m in members if (s := current.get(m)) is not None})
        loose = sorted(m for m in members if current.get(m) is None)
        target = min([*stories, *loose])
        dq.move_to_story(session, target, [s for s in stories if s != target], loose)
        _refresh(session, target)
        touched.add(target)
    return touched


def _refresh(session: Session, story_id: int) -> None:
    rows = dq.story_members(session, story_id)
    earliest = min(rows, key=_age)[0]
    dq.save_story(session, story_id, earliest, len(rows))


def _age(row: tuple[int, datetime | None, datetime]) -> tuple[datetime, datetime, int]:
    article_id, published, fetched = row
    return (published or fetched, fetched, article_id)
