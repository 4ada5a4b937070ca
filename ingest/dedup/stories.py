"""Story clusters: connected components of the pair graph, each with a stable id.

A story's id is the smallest article id among its members.  New articles get
larger ids, so the id never changes as a story grows; when an article joins
two stories they merge into the older (smaller) id.  A rebuild in id order
therefore gives every story its id back.  The earliest member (published date,
then first seen) is the likely original; :func:`db.dedup_index.write_pairs`
keeps it in the story row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from db.dedup_index import StoryMerge


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


def plan_merges(pairs: Iterable[tuple[int, int]], story_of: Mapping[int, int | None]) -> list[StoryMerge]:
    """The story merges that new pairs make, given each member's current story.

    ``story_of`` holds every indexed article of the pairs (``None``: in no story
    yet); articles without a signature (indexed before dedup) are left out.  The
    target is the smallest id among the stories and the loose articles, so a
    story keeps its id as it grows and merges keep the older one.
    """
    comps = _Components()
    for a, b in pairs:
        comps.union(a, b)
    merges: list[StoryMerge] = []
    for group in comps.groups().values():
        members = [m for m in group if m in story_of]
        if len(members) < 2:
            continue
        stories = sorted({s for m in members if (s := story_of[m]) is not None})
        loose = sorted(m for m in members if story_of[m] is None)
        merges.append(StoryMerge(min([*stories, *loose]), stories, loose))
    return merges
