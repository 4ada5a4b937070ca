"""``dedup rebuild`` gives back the flags and stories the hook produced; the CLI prints them."""

from __future__ import annotations

import json

import pytest
import typer
from dedup_helpers import Env, reprint, story, text
from sqlalchemy import func, select
from typer.testing import CliRunner

from db.models import DedupBand, DedupHostBlock
from ingest.cli_common import STATE
from ingest.dedup.cli import register
from ingest.dedup.hook import settings_of
from ingest.dedup.rebuild import rebuild


def _fill(env: Env) -> None:
    chrome = "Read more stories like this on our home page every day"
    for i in range(5):
        env.store(f"https://a.example/{i}", text(story(i)) + f"\n{chrome}", day=2 * i, source="a")
        env.store(f"https://b.example/{i}", text(reprint(story(i), 50 + i)), day=2 * i + 1, source="b")
        env.store(f"https://c.example/{i}", text(story(70 + i)) + f"\n{chrome}", day=2 * i, source="c")
    env.store("https://d.example/copy", text(story(3)) + f"\n{chrome}", day=9, source="d")  # exact copy


def _snapshot(env: Env) -> tuple[object, ...]:
    pairs = {k: (p.rule, p.containment_ab, p.containment_ba, p.jaccard) for k, p in env.pairs().items()}
    with env.database.sessions() as session:
        bands = session.scalar(select(func.count()).select_from(DedupBand))
        blocks = sorted((r[0], r[1]) for r in session.execute(select(DedupHostBlock.block_key, DedupHostBlock.seen)))
    return pairs, env.stories(), bands, blocks


@pytest.mark.parametrize("workers", [1, 2])
def test_rebuild_reproduces_the_flags(env: Env, workers: int) -> None:
    _fill(env)
    before = _snapshot(env)
    assert len(before[0]) >= 6 and {p[0] for p in before[0].values()} >= {"containment", "exact"}  # type: ignore[attr-defined]
    report = rebuild(env.database.sessions, settings_of(env.config), batch=4, workers=workers)
    assert report.articles == 16 and report.pairs == len(before[0])  # type: ignore[arg-type]
    assert _snapshot(env) == before


def test_rebuild_applies_new_thresholds(env: Env) -> None:
    _fill(env)
    strict = settings_of(env.config).model_copy(update={"min_containment": 0.99, "support_containment": 0.99})
    rebuild(env.database.sessions, strict, workers=1)
    assert {p.rule for p in env.pairs().values()} == {"exact"}


def test_duplicates_cli_json(env: Env) -> None:
    _fill(env)
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    STATE._config = env.config
    try:
        result = CliRunner().invoke(app, ["duplicates", "--json"])
        assert result.exit_code == 0, result.output
        clusters = json.loads(result.output)
        only_d = json.loads(CliRunner().invoke(app, ["duplicates", "--json", "--source", "d"]).output)
        table = CliRunner().invoke(app, ["duplicates"])
    finally:
        STATE._config = None
    assert len(clusters) == 5
    for cluster in clusters:
        assert set(cluster) >= {"story_id", "members", "pairs"}
        assert {"id", "url", "source", "title", "published_at"} <= set(cluster["members"][0])
        assert {"a", "b", "containment", "jaccard", "rule"} <= set(cluster["pairs"][0])
        assert cluster["story_id"] == min(m["id"] for m in cluster["members"])
    assert len(only_d) == 1 and {m["source"] for m in only_d[0]["members"]} == {"a", "b", "d"}
    assert table.exit_code == 0 and "containment" in table.output
