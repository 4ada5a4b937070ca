"""``ingest demo`` — the README's first command — stores the site and flags its two shared stories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_demo_stores_articles_and_flags_the_shared_stories(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "ingest", "demo", "--database", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "12 stored articles" in result.stdout
    assert result.stdout.count("the same news from 2 outlets") == 2

    env["INGEST_DATABASE_URL"] = f"sqlite:///{db}"
    stories = json.loads(
        subprocess.run(
            [sys.executable, "-m", "ingest", "duplicates", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        ).stdout
    )
    titles = sorted(" / ".join(sorted(m["source"] for m in s["members"])) for s in stories)
    assert titles == ["daily-ledger / riverpoint", "daily-ledger / riverpoint"]
    for story in stories:
        earliest = min(story["members"], key=lambda m: m["published_at"])
        assert story["earliest_id"] == earliest["id"]
        assert earliest["source"] == "daily-ledger"
