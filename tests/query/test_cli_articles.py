"""``ingest articles list|search|show`` and ``ingest export`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.cli import app

from .seed import Archive


@pytest.fixture
def cli(shared_arch: Archive, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("INGEST_DATABASE_URL", shared_arch.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("INGEST_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    return CliRunner()


def _json(cli: CliRunner, *args: str) -> object:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_pages_with_after(cli: CliRunner, shared_arch: Archive) -> None:
    first = _json(cli, "articles", "list", "--limit", "2", "--json")
    assert isinstance(first, dict)
    second = _json(cli, "articles", "list", "--limit", "2", "--after", first["next_cursor"], "--json")
    assert isinstance(second, dict)
    assert [a["id"] for a in second["items"]] == [shared_arch.ids["cricket"], shared_arch.ids["bahrain_tribune"]]


def test_search_with_filters(cli: CliRunner, shared_arch: Archive) -> None:
    body = _json(cli, "articles", "search", "pakistan", "--has-duplicates", "--author", "staff", "--json")
    assert isinstance(body, dict)
    assert [a["id"] for a in body["items"]] == [shared_arch.ids["bahrain_tribune"]]
    assert "Pakistan" in body["items"][0]["snippet"]
    table = cli.invoke(app, ["articles", "search", "marathon"])
    assert table.exit_code == 0 and "Marathon runners" in table.stdout


def test_show(cli: CliRunner, shared_arch: Archive) -> None:
    body = _json(cli, "articles", "show", str(shared_arch.ids["bahrain_dawn"]), "--json")
    assert isinstance(body, dict)
    assert body["duplicates"][0]["article"]["id"] == shared_arch.ids["bahrain_tribune"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["articles", "list", "--after", "garbage"], "not a valid cursor"),
        (["articles", "search", "---"], "no words"),
        (["articles", "show", "999999"], "no article with id 999999"),
        (["articles", "list", "--since", "soon"], "not a date"),
        (["export", "--format", "xml"], "--format"),
        (["export", "--format", "text"], "needs --output FOLDER"),
    ],
)
def test_errors_are_one_line(cli: CliRunner, args: list[str], message: str) -> None:
    from ingest.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code in (1, 2)


def test_export_command_writes_files(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    result = cli.invoke(app, ["export", "--format", "jsonl", "--output", str(out), "--language", "ur"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["title"] for line in out.read_text().splitlines()] == ["Floods hit Punjab villages"]
