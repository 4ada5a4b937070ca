"""Fixtures of the near-duplicate tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from dedup_helpers import Env, make_env


@pytest.fixture
def env(db_url: str) -> Iterator[Env]:
    environment = make_env(db_url)
    yield environment
    environment.database.close()



@pytest.fixture
def aeb_bodies(shared_dir: Path) -> list[tuple[str, str]]:
    """(url, body) of the AEB articles with a real body (read from ../shared, never copied)."""
    data = json.loads((shared_dir / "eval" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    return [(v["url"], v["articleBody"]) for _, v in sorted(data.items()) if len(v["articleBody"].split()) > 150]
