"""Several writers at once never miss a pair between their own new articles, nor store one twice."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from dedup_helpers import Env, reprint, story, text

from db import dedup_index


def test_two_writers_storing_a_pair_at_once_flag_it_once(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    real = dedup_index.write_and_lookup

    def slow_lookup(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.05)  # widen the window in which the other writer's batch is uncommitted
        return real(*args, **kwargs)

    monkeypatch.setattr(dedup_index, "write_and_lookup", slow_lookup)
    rounds = 6
    ids: dict[int, list[int]] = {r: [] for r in range(rounds)}
    errors: list[BaseException] = []
    for r in range(rounds):
        original, copy = text(story(300 + r)), text(reprint(story(300 + r), 400 + r))
        barrier = threading.Barrier(2)

        def write(url: str, body: str, source: str, r: int = r, barrier: threading.Barrier = barrier) -> None:
            try:
                barrier.wait()
                ids[r].append(env.store(url, body, source=source, day=r))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=write, args=(f"https://one.example/{r}", original, "one")),
            threading.Thread(target=write, args=(f"https://two.example/{r}", copy, "two")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    pairs = env.pairs()
    expected = {(min(v), max(v)) for v in ids.values()}
    assert set(pairs) == expected  # every pair found, none between rounds
    stories = env.stories()
    assert sorted(members for _, members in stories.values()) == sorted(set(v) for v in ids.values())
