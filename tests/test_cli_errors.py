"""User mistakes end as one ``error:`` line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, fragment: str) -> None:
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[fetch]\nconcurrency = -1\n", encoding="utf-8")
    result = run_cli("--config", str(cfg), "sources", "list")
    assert_one_line_error(result, 2, "fetch.concurrency")


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = run_cli("--config", str(tmp_path / "nope.toml"), "sources", "list")
    assert_one_line_error(result, 2, "config file not found")


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = {"INGEST_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = run_cli("articles", "list", env=env, cwd=tmp_path)
    assert_one_line_error(result, 1, "cannot connect to")


def test_sqlite_in_unwritable_place_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    env = {"INGEST_DATABASE_URL": f"sqlite:///{blocker}/sub/db.sqlite"}
    result = run_cli("articles", "list", env=env, cwd=tmp_path)
    assert_one_line_error(result, 1, "error: ")


def test_missing_input_file_for_extract(tmp_path: Path) -> None:
    result = run_cli("extract", str(tmp_path / "missing.html"))
    assert_one_line_error(result, 1, "missing.html: no such file")


def test_missing_dump_for_import(tmp_path: Path) -> None:
    env = {"INGEST_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    result = run_cli("import", str(tmp_path / "nothing"), env=env, cwd=tmp_path)
    assert_one_line_error(result, 1, "no such file or folder")


def test_unknown_source_for_fetch(tmp_path: Path) -> None:
    env = {"INGEST_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    result = run_cli("fetch", "nosuch", env=env, cwd=tmp_path)
    assert_one_line_error(result, 2, "unknown source 'nosuch'")


@pytest.mark.parametrize(
    "args",
    [[], ["db"], ["sources"], ["articles"], ["fetch", "--help"], ["extract", "--help"], ["run", "--help"]],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = run_cli(*(args or ["--help"]))
    assert "Usage" in result.stdout + result.stderr
