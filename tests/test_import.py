"""``ingest import``: text dumps cleaned of chrome and stored through the normal store step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SEED_001_START = "ISLAMABAD, (UrduPoint / Pakistan Point News - 10th Sep, 2025)"
SEED_001_END = "Islamabad’s Chief Commissioner and Inspector General."


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    env["INGEST_DATABASE_URL"] = db_url
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_import_seeds_and_show_full_text(db_url: str, shared_dir: Path) -> None:
    seeds = shared_dir / "seeds"
    result = cli(db_url, "import", "--json", str(seeds))
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["outcome"] for r in rows] == ["stored", "stored"]
    by_name = {Path(r["path"]).name[:3]: r["id"] for r in rows}

    shown = cli(db_url, "articles", "show", str(by_name["001"]), "--json")
    assert shown.returncode == 0, shown.stderr
    art = json.loads(shown.stdout)
    assert art["url"] == (seeds / "001_e3f54c7560fdb9b9.txt").resolve().as_uri()
    assert art["text"].startswith(SEED_001_START)
    assert art["text"].endswith(SEED_001_END)
    assert "Recent Stories" not in art["text"]
    assert "More Stories From" not in art["text"]
    assert "Muhammad Irfan" not in art["text"]
    assert art["authors"] == ["Muhammad Irfan"]
    assert art["published_at"].startswith("2025-09-10")
    assert art["title"].lower().startswith("pakistan, bahrain pledge stronger cooperation")
    assert all(p.strip() == p and p for p in art["text"].split("\n\n"))

    clean = json.loads(cli(db_url, "articles", "show", str(by_name["000"]), "--json").stdout)
    original = (seeds / "000_84ae7cdcf94803b8.txt").read_text(encoding="utf-8")
    body = original.split(" ", 3)[3].strip()  # drop " date 2025-09-11 "
    assert clean["text"] == body
    assert clean["published_at"].startswith("2025-09-11")

    again = cli(db_url, "import", "--json", str(seeds))
    assert {r["outcome"] for r in json.loads(again.stdout)} == {"duplicate_url"}


def test_import_bad_dump_is_counted_not_fatal(tmp_path: Path, sqlite_url: str) -> None:
    good = tmp_path / "a.txt"
    good.write_text(" date 2025-01-02 " + "A sentence of the story body goes here. " * 20, encoding="utf-8")
    bad = tmp_path / "b.txt"
    bad.write_text("no date prefix here", encoding="utf-8")
    result = cli(sqlite_url, "import", "--json", str(tmp_path))
    assert result.returncode == 0, result.stderr
    outcomes = {Path(r["path"]).name: r["outcome"] for r in json.loads(result.stdout)}
    assert outcomes == {"a.txt": "stored", "b.txt": "parse_error"}


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00junk"])
def test_import_only_bad_files_exits_1(tmp_path: Path, sqlite_url: str, content: bytes) -> None:
    bad = tmp_path / "x.txt"
    bad.write_bytes(content)
    result = cli(sqlite_url, "import", str(bad))
    assert result.returncode == 1


def test_import_reads_zoneless_byline_times_in_the_given_zone(sqlite_url: str, shared_dir: Path) -> None:
    seed = shared_dir / "seeds" / "001_e3f54c7560fdb9b9.txt"
    result = cli(sqlite_url, "import", "--json", "--timezone", "Asia/Karachi", str(seed))
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    shown = json.loads(cli(sqlite_url, "articles", "show", str(row["id"]), "--json").stdout)
    # the byline says 04:40 PM with no zone: Pakistan time is UTC+5
    assert shown["published_at"].startswith("2025-09-10T11:40")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "America", "../etc"])
def test_import_rejects_an_unknown_time_zone(tmp_path: Path, sqlite_url: str, zone: str) -> None:
    dump = tmp_path / "a.txt"
    dump.write_text(" date 2025-01-02 " + "A sentence of the story body goes here. " * 20, encoding="utf-8")
    result = cli(sqlite_url, "import", "--timezone", zone, str(dump))
    assert result.returncode == 2, result.stderr
    assert f"unknown time zone {zone!r}" in result.stderr
    assert "Traceback" not in result.stderr
