"""``ingest export``: every format, the filters, the seeds' text form, and flat memory."""

from __future__ import annotations

import csv
import json
import tracemalloc
from pathlib import Path

import pytest

from db.queries import ArticleFilter
from db.session import transaction
from ingest.export import export_articles

from .seed import Archive, add_article


def test_jsonl_has_every_field_and_honours_filters(shared_arch: Archive, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    with shared_arch.sessions() as s:
        assert export_articles(s, ArticleFilter(source="geo"), "jsonl", out) == 2
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == sorted([shared_arch.ids["flood"], shared_arch.ids["running"]])
    assert rows[0]["source"] == "geo" and rows[0]["text"].startswith("Heavy rains")
    assert rows[0]["published_at"].endswith("Z") and rows[0]["provenance"] == {"title": "json-ld", "published_at": "meta"}


def test_csv(shared_arch: Archive, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    with shared_arch.sessions() as s:
        export_articles(s, ArticleFilter(has_duplicates=True), "csv", out)
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [int(r["id"]) for r in rows] == [shared_arch.ids["bahrain_dawn"], shared_arch.ids["bahrain_tribune"]]
    assert rows[0]["authors"] == "Amir Wasim" and "\n\n" in rows[0]["text"]


def test_parquet(shared_arch: Archive, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "a.parquet"
    with shared_arch.sessions() as s:
        assert export_articles(s, ArticleFilter(), "parquet", out) == 8
    table = pq.read_table(out)
    assert table.num_rows == 8
    assert table.column("authors").to_pylist()[2] == ["Sports Desk", "Zoë Ünal"]


def test_text_files_are_in_the_seeds_form(shared_arch: Archive, tmp_path: Path) -> None:
    with shared_arch.sessions() as s:
        export_articles(s, ArticleFilter(source="dawn"), "text", tmp_path / "dump")
    files = sorted((tmp_path / "dump").iterdir())
    assert len(files) == 2
    text = files[0].read_text(encoding="utf-8")
    assert text.startswith(" date 2025-09-01 ISLAMABAD: Pakistan and Bahrain")


def test_text_export_reads_back_with_the_importer(shared_arch: Archive, tmp_path: Path, shared_dir: Path) -> None:
    from scrapers.dump import clean_dump

    seed = sorted((shared_dir / "seeds").iterdir())[0].read_text(encoding="utf-8")
    with shared_arch.sessions() as s:
        export_articles(s, ArticleFilter(source="geo"), "text", tmp_path / "dump")
    mine = sorted((tmp_path / "dump").iterdir())[0].read_text(encoding="utf-8")
    assert clean_dump(seed).dump_date is not None
    cleaned = clean_dump(mine)
    assert cleaned.dump_date is not None and cleaned.dump_date.date().isoformat() == "2025-09-03"
    assert "floods in Punjab" in cleaned.text


def test_export_memory_does_not_grow_with_the_archive(sqlite_archive: Archive, tmp_path: Path) -> None:
    body = "word " * 4000  # 20 kB a body; 1,500 of them are 30 MB
    with transaction(sqlite_archive.sessions) as s:
        for i in range(1500):
            add_article(s, "big", f"https://big.example/{i}", f"Big {i}", f"{i} {body}")
    tracemalloc.start()
    try:
        with sqlite_archive.sessions() as s:
            count = export_articles(s, ArticleFilter(source="big"), "jsonl", tmp_path / "big.jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 1500
    assert peak < 12_000_000, f"export peaked at {peak / 1e6:.1f} MB for 30 MB of articles"
