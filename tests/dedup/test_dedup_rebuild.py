"""``dedup rebuild`` gives back the flags and stories the hook produced; the CLI prints them."""

from __future__ import annotations

import json

import pytest
import typer
from dedup_helpers import Env, make_env, reprint, story, text
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


@pytest.mark.parametrize(("workers", "held_rows"), [(1, 1), (2, 1), (2, 10_000)])
def test_rebuild_reproduces_the_flags(env: Env, workers: int, held_rows: int) -> None:
    """Whether the band rows are written after every batch (held_rows=1) or held to the end."""
    _fill(env)
    before = _snapshot(env)
    assert len(before[0]) >= 6 and {p[0] for p in before[0].values()} >= {"containment", "exact"}  # type: ignore[attr-defined]
    report = rebuild(env.database.sessions, settings_of(env.config), batch=4, workers=workers, held_rows=held_rows)
    assert report.articles == 16 and report.pairs == len(before[0])  # type: ignore[arg-type]
    assert _snapshot(env) == before


@pytest.mark.parametrize("held_rows", [1, 200, 10_000])
def test_rebuild_keeps_the_bucket_cap_across_held_and_written_rows(db_url: str, held_rows: int) -> None:
    """Eight copies of a story that differ only in punctuation share every bucket: with a cap of
    3 rows a bucket, each copy meets the 3 most recent ones, whether those are held in memory,
    written, or some of each (held_rows=200 writes every fourth article's rows)."""
    env = make_env(db_url, max_bucket_rows=3)
    try:
        for i in range(8):
            env.store(f"https://o{i}.example/a", text(story(7)) + "!" * (i + 1), day=i, source=f"o{i}")
        before = _snapshot(env)
        assert len(before[0]) == 1 + 2 + 3 * 5  # type: ignore[arg-type]
        rebuild(env.database.sessions, settings_of(env.config), batch=1, workers=1, held_rows=held_rows)
        assert _snapshot(env) == before
    finally:
        env.database.close()


@pytest.mark.parametrize("held_rows", [1, 10_000])
def test_an_article_a_daemon_indexes_during_the_rebuild_meets_both_sides(env: Env, held_rows: int) -> None:
    """A daemon stores a reprint while the rebuild runs: its hook misses the rows the rebuild
    holds, and the rebuild skips the article and its keys; the catch-up at the end finds
    its pairs with the original (rebuilt before it) and a reprint (rebuilt after it)."""
    original = env.store("https://a.example/s", text(story(80)), day=0, source="a")
    env.store("https://c.example/s", text(story(81)), day=0, source="c")
    earlier_reprint = env.store("https://b.example/s", text(reprint(story(80), 91)), day=1, source="b")
    stored: list[int] = []

    def daemon_stores_one(done: int, total: int) -> None:
        if not stored:  # after the original's batch: its band rows are held or just written
            stored.append(env.store("https://d.example/s", text(reprint(story(80), 92)), day=2, source="d"))

    report = rebuild(env.database.sessions, settings_of(env.config), batch=1, workers=1, held_rows=held_rows,
                     progress=daemon_stores_one)
    assert report.reindexed == 1
    late = stored[0]
    assert set(env.pairs()) == {(original, earlier_reprint), (original, late), (earlier_reprint, late)}
    assert list(env.stories().values()) == [(original, {original, earlier_reprint, late})]
    # the late article's lines count once (its hook's sighting is taken back before the
    # catch-up counts them again): a rebuild with no daemon beside it counts the same
    after = _snapshot(env)
    rebuild(env.database.sessions, settings_of(env.config), batch=1, workers=1, held_rows=held_rows)
    assert _snapshot(env) == after


def test_held_bands_merge_in_key_order_and_meet_by_window() -> None:
    from ingest.dedup.heldbands import HeldBands

    held = HeldBands(1000, limit=6)
    held.hold([-5, 3, 9], [10, 10, 12], [1, 1, 1])
    held.hold([3, 4, 9], [20, 20, 20], [2, 2, 2])
    assert len(held) == 6 and held.full
    keys, days, ids = held.meet([9, 3, 3, 7], 9, 15)
    assert (keys.tolist(), days.tolist(), ids.tolist()) == ([3, 9], [10, 12], [1, 1])
    keys, _, ids = held.meet([3, 9], 0, 100)
    assert keys.tolist() == [3, 3, 9, 9] and sorted(ids.tolist()) == [1, 1, 2, 2]
    assert held.database_keys([3, 4]) == []  # nothing written yet: no database lookup
    written, _, _ = held.take()
    assert written.tolist() == [-5, 3, 3, 4, 9, 9] and len(held) == 0
    assert held.meet([3], 0, 100)[0].tolist() == []
    assert set(held.database_keys([-5, 3, 4, 9])) == {-5, 3, 4, 9}


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


def test_band_rows_copied_in_bulk_come_back_exactly(db_url: str) -> None:
    """A rebuild writes held band rows in bulk (PostgreSQL: binary COPY): 64-bit keys at both
    ends of the range, days and ids must come back as given."""
    from sqlalchemy import text as sql

    from db import dedup_index as di
    from db import migrate
    from db.raw import Raw
    from db.session import make_engine, session_factory, transaction

    engine = make_engine(db_url)
    migrate.upgrade(engine)
    keys = [-(2**63), -1, 0, 1, 2**63 - 1]
    days = [0, 20000, 20001, 2**31 - 1, 7]
    ids = [1, 2, 3, 4, 2**31 - 1]
    with transaction(session_factory(engine)) as session:
        di.insert_bands(Raw(session), keys, days, ids)
    with engine.connect() as conn:
        rows = conn.execute(sql("SELECT key, day, article_id FROM dedup_bands ORDER BY key")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == list(zip(keys, days, ids, strict=True))
