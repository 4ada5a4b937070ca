"""The ``ingest`` command line (Typer).

Every failure the user can cause — a bad config, an unreachable database, a
missing file — ends as one ``error: …`` line on stderr and a non-zero exit
(2 for configuration problems), never a traceback.
"""

from __future__ import annotations

import gzip
import logging
import sys
from datetime import tzinfo
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from db.errors import DatabaseError
from ingest import cli_articles, cli_crawl, reextract, render
from ingest.cli_common import STATE, err, out
from ingest.dedup import cli as dedup_cli
from ingest.errors import ConfigError, IngestError

app = typer.Typer(
    help="news-ingest: crawl news sources, extract clean articles, flag near-duplicates.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.callback()
def _root(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Config file (default: $INGEST_CONFIG or ./ingest.toml)."
        ),
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging.")] = 0,
) -> None:
    STATE.reset(config)
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# --- db ---------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest revision."""
    from db import migrate
    from db.session import check_connection, make_engine

    engine = make_engine(STATE.config.database.url)
    check_connection(engine)
    migrate.upgrade(engine)
    out.print(f"database at revision {migrate.current_revision(engine)}")
    engine.dispose()


# --- extract / import -------------------------------------------------------


@app.command()
def extract(
    paths: Annotated[
        list[str], typer.Argument(help="HTML files (.html, .html.gz) or - for stdin.")
    ],
    url: Annotated[
        str | None, typer.Option("--url", help="The page's URL (chooses site rules).")
    ] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
) -> None:
    """Extract articles from saved HTML; prints one JSON object per file. No DB, no network."""
    from scrapers import extract as run_extract

    results = []
    for path in paths:
        data = _read_input(path)
        article = run_extract(data, url)
        results.append(render.extracted_json(path, article))
    if jsonl:
        for row in results:
            print(render.dumps(row))
    elif len(results) == 1:
        print(render.dumps(results[0]))
    else:
        print(render.dumps(results))


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        data = Path(path).read_bytes()
        if path.endswith(".gz"):
            data = gzip.decompress(data)
    except FileNotFoundError:
        raise IngestError(f"{path}: no such file") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise IngestError(f"{path}: cannot read: {exc}") from None
    return data


@app.command("import")
def import_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Dump files or folders of them.")],
    source: Annotated[
        str, typer.Option("--source", help="Source name to file them under.")
    ] = "import",
    timezone: Annotated[
        str, typer.Option("--timezone", help="Zone of byline times that name none, e.g. Asia/Karachi.")
    ] = "UTC",
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import text dumps (`date YYYY-MM-DD <text>`, one article a file), cleaned of chrome."""
    from ingest.importer import import_paths
    from ingest.runner import crawl_context

    zone = _time_zone(timezone)
    with crawl_context(STATE.config, worker="import") as ctx:
        summary = import_paths(ctx, paths, source, zone)
    rows = [
        {"path": str(r.path), "outcome": r.outcome, "id": r.article_id, "error": r.error}
        for r in summary.results
    ]
    if json_out:
        print(render.dumps(rows))
    else:
        out.print(
            render.table(
                "Import",
                ["path", "outcome", "id", "error"],
                [[r["path"], r["outcome"], r["id"], r["error"]] for r in rows],
            )
        )
    if summary.results and summary.count("parse_error") == len(summary.results):
        raise typer.Exit(1)


def _time_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones, e.g. "America"
        raise ConfigError(f"--timezone: unknown time zone {name!r} (an IANA name such as Asia/Karachi)") from None


# --- demo -------------------------------------------------------------------


@app.command()
def demo(
    database: Annotated[
        str | None, typer.Option("--database", help="Database URL for the demo.")
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the demo site up until Ctrl-C.")
    ] = False,
) -> None:
    """Offline demo: serve a bundled news site on 127.0.0.1, crawl it, show what was stored."""
    from ingest.demo.runner import run_demo

    raise typer.Exit(run_demo(database, keep=keep, console=out))


# --- command modules --------------------------------------------------------

for _module in (cli_crawl, cli_articles, reextract, dedup_cli):
    _module.register(app)


# --- entry point ------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: map our typed errors to one line and an exit code."""
    try:
        app(args=argv, prog_name="ingest")
    except ConfigError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(2)
    except (IngestError, DatabaseError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
