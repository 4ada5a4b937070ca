"""Configuration: TOML + environment, and one clear message naming the key on any problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config import ConfigError, load_config, parse_interval


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "ingest.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_use_embedded_sqlite(tmp_path: Path) -> None:
    config = load_config(None, env={"XDG_DATA_HOME": str(tmp_path)})
    assert config.database.url == f"sqlite:///{tmp_path / 'news-ingest' / 'ingest.db'}"
    assert config.sources == []


def test_sources_and_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[fetch]
concurrency = 4
[[sources]]
name = "dawn"
feeds = ["https://example.com/feed.xml"]
schedule = "*/15 * * * *"
[[sources]]
name = "point"
start_urls = ["https://example.org/pakistan/"]
link_pattern = "/news/\\\\d+"
schedule = "1h30m"
""",
    )
    env = {"INGEST_DATABASE_URL": "postgresql://u@h/db", "INGEST_FETCH__PER_HOST_DELAY": "0.5"}
    config = load_config(path, env=env)
    assert config.database.url == "postgresql://u@h/db"
    assert config.fetch.concurrency == 4
    assert config.fetch.per_host_delay == 0.5
    assert [s.name for s in config.sources] == ["dawn", "point"]
    assert config.source("point").link_pattern == "/news/\\d+"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[fetch]\nconcurency = 3\n", "fetch.concurency: unknown key"),
        ("[fetch]\nconcurrency = 'many'\n", "fetch.concurrency: Input should be a valid integer"),
        (
            "[[sources]]\nname='a'\nfeeds=['https://x/f']\nschedule='5 parsecs'\n",
            "sources[0].schedule: '5 parsecs' is not an interval",
        ),
        ("[[sources]]\nname='a'\nfeeds=['ftp://x/f']\n", "sources[0].feeds: 'ftp://x/f' is not an http(s) URL"),
        ("[[sources]]\nname='a'\n", "sources[0]: a source needs at least one of 'feeds', 'sitemaps' or 'start_urls'"),
        (
            "[[sources]]\nname='a'\nstart_urls=['https://x/']\nlink_pattern='(['\n",
            "sources[0].link_pattern: '([' is not a valid regular expression",
        ),
        (
            "[[sources]]\nname='a'\nfeeds=['https://x/f']\n[[sources]]\nname='a'\nfeeds=['https://x/g']\n",
            "source name 'a' is declared twice",
        ),
        ("[fetch\n", "invalid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", env={})


def test_config_from_env_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "[[sources]]\nname='x'\nfeeds=['https://e.com/f']\n")
    assert load_config(None, env={"INGEST_CONFIG": str(path)}).sources[0].name == "x"


def test_unknown_source_lists_known(tmp_path: Path) -> None:
    path = write(tmp_path, "[[sources]]\nname='x'\nfeeds=['https://e.com/f']\n")
    with pytest.raises(ConfigError, match=r"unknown source 'y' \(known: x\)"):
        load_config(path, env={}).source("y")


@pytest.mark.parametrize(("text", "seconds"), [("15m", 900), ("1h30m", 5400), ("90s", 90), ("1d", 86400)])
def test_parse_interval(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "15", "0m", "1x"])
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(text)


def test_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "ingest.toml"
    config = load_config(example, env={})
    assert [s.name for s in config.sources] == ["example-daily", "example-point"]
    assert config.dedup.window_days == 30
