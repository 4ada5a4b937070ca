"""``ingest extract`` is a contract other checks rely on: its keys and its robustness."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

CONTRACT_KEYS = {"path", "url", "title", "authors", "published_at", "language", "text"}

PAGE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Rain returns to the valley | The Ledger</title>
<meta property="og:title" content="Rain returns to the valley">
<meta name="author" content="Ada Byline">
<meta property="article:published_time" content="2025-09-10T16:40:00+05:00">
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Rain returns to the valley</h1>
<p>After eleven weeks without a drop, steady rain fell across the valley on Tuesday, filling reservoirs that had sunk to their lowest level in a decade and lifting the spirits of farmers.</p>
<p>The regional water board said the storage lakes rose by four percent overnight, and that further showers were expected through the weekend, easing the rationing that began in July.</p>
<p>Farmers in the lower districts said the rain came just in time for the winter sowing, although some fields along the river were briefly flooded where drainage channels had silted up.</p>
</article><aside><h3>Recent Stories</h3><ul><li><a href="/a">Another story</a></li></ul></aside></body></html>"""


def run_extract(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ingest", "extract", *args],
        input=stdin,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_extract_file_gz_and_stdin(tmp_path: Path) -> None:
    plain = tmp_path / "page.html"
    plain.write_bytes(PAGE)
    packed = tmp_path / "page.html.gz"
    packed.write_bytes(gzip.compress(PAGE))
    result = run_extract("--jsonl", "--url", "https://ledger.example/world/rain", str(plain), str(packed), "-", stdin=PAGE)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["path"] for r in rows] == [str(plain), str(packed), "-"]
    for row in rows:
        assert set(row) >= CONTRACT_KEYS
        assert row["title"] == "Rain returns to the valley"
        assert row["authors"] == ["Ada Byline"]
        assert row["published_at"] == "2025-09-10T11:40:00Z"
        assert row["language"] == "en"
        paragraphs = row["text"].split("\n\n")
        assert len(paragraphs) == 3
        assert paragraphs[0].startswith("After eleven weeks")
        assert "Recent Stories" not in row["text"]


def test_extract_survives_junk(tmp_path: Path) -> None:
    junk = tmp_path / "junk.html"
    junk.write_bytes(bytes(range(256)) * 50)
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    result = run_extract("--jsonl", str(junk), str(empty))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(rows) == 2
    assert all(set(r) >= CONTRACT_KEYS for r in rows)
    assert rows[1]["text"] == ""


def test_extract_runs_on_every_aeb_page(shared_dir: Path) -> None:
    pages = sorted((shared_dir / "eval" / "aeb" / "html").glob("*.html.gz"))
    assert len(pages) == 181
    result = run_extract("--jsonl", *map(str, pages))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(rows) == len(pages)
    assert all(set(r) >= CONTRACT_KEYS for r in rows)
    assert sum(1 for r in rows if len(r["text"].split()) > 50) > 170
