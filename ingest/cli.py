"""The ``ingest`` command line (Typer).

Every failure the user can cause — a bad config, an unreachable database, a
missing file — ends as one ``error: …`` line on stderr and a non-zero exit
(2 for configuration problems), never a traceback.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from db.errors import DatabaseError
from ingest import render
from ingest.config import Config, load_config
from ingest.errors import ConfigError, IngestError

app = typer.Typer(
    help="news-ingest: crawl news sources, extract clean articles, flag near-duplicates.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
sources_app = typer.Typer(help="Configured sources and their health.", no_args_is_help=True)
articles_app = typer.Typer(help="Query stored articles.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sources_app, name="sources")
app.add_typer(articles_app, name="articles")

out = render.console()
err = render.console(stderr=True)


@dataclass
class State:
    config_path: Path | None = None
    _config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


STATE = State()


@app.callback()
def _root(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Config file (default: $INGEST_CONFIG or ./ingest.toml)."),
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging.")] = 0,
) -> None:
    STATE.config_path = config
    STATE._config = None
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


# --- sources ----------------------------------------------------------------


@sources_app.command("list")
def sources_list(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Configured sources with their state in the database."""
    from ingest.status import source_overview

    rows = source_overview(STATE.config)
    if json_out:
        print(render.dumps(rows))
        return
    out.print(
        render.table(
            "Sources",
            ["name", "schedule", "enabled", "healthy", "articles", "last run", "next run", "failures"],
            [
                [r["name"], r["schedule"], r["enabled"], r["healthy"], r["articles"],
                 r["last_run_at"], r["next_run_at"], r["consecutive_failures"]]
                for r in rows
            ],
        )
    )


@sources_app.command("show")
def sources_show(name: str, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One source: its config, outcome counts per recent run, recent errors."""
    from ingest.status import source_detail

    detail = source_detail(STATE.config, name)
    if json_out:
        print(render.dumps(detail))
        return
    out.print(f"[bold]{name}[/bold]  feeds={detail['feeds']} start_urls={detail['start_urls']}")
    out.print(f"articles: {detail['articles']}  healthy: {detail['healthy']}")
    out.print(f"outcomes (all time): {render.counts_text(detail['outcomes'])}")
    out.print(
        render.table(
            "Recent runs",
            ["run", "trigger", "status", "started", "outcomes"],
            [[r["id"], r["trigger"], r["status"], r["started_at"], render.counts_text(r["counts"])]
             for r in detail["runs"]],
        )
    )
    for e in detail["errors"]:
        out.print(f"[red]{e['outcome']}[/red] {e['url']}: {e['error']}")


# --- fetch ------------------------------------------------------------------


@app.command()
def fetch(
    sources: Annotated[list[str] | None, typer.Argument(help="Source names to crawl.")] = None,
    all_sources: Annotated[bool, typer.Option("--all", help="Crawl every enabled source.")] = False,
    url: Annotated[list[str] | None, typer.Option("--url", help="Fetch this article URL (repeatable).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
) -> None:
    """Crawl now, in the foreground, with a progress bar and a summary table."""
    from ingest.runner import run_crawls

    config = STATE.config
    if not sources and not all_sources and not url:
        raise ConfigError("name a source, or give --all or --url URL")
    chosen = [s for s in config.sources if s.enabled] if all_sources else [config.source(n) for n in sources or []]
    with _progress() as bar:
        tasks: dict[str, Any] = {}

        def on_progress(event: Any) -> None:
            task = tasks.get(event.source)
            if task is None:
                task = tasks[event.source] = bar.add_task(event.source, total=None)
            if event.total is not None:
                bar.update(task, total=event.total)
            if event.outcome is not None:
                bar.advance(task)

        summaries = asyncio.run(run_crawls(config, chosen, list(url or []), on_progress))
    if json_out:
        print(render.dumps([
            {"source": s.source, "run_id": s.run_id, "status": s.status, "error": s.error,
             "seconds": round(s.seconds, 3), "counts": dict(s.counts), "stored_ids": s.stored_ids}
            for s in summaries
        ]))
    else:
        out.print(
            render.table(
                "Run summary",
                ["source", "run", "status", "stored", "seconds", "outcomes"],
                [[s.source, s.run_id, s.status if not s.error else f"{s.status}: {s.error}",
                  s.counts.get("stored", 0), f"{s.seconds:.1f}", render.counts_text(s.counts)]
                 for s in summaries],
            )
        )
    if summaries and all(s.status != "ok" for s in summaries):
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=False, disable=not err.is_terminal,
    )


# --- extract / import -------------------------------------------------------


@app.command()
def extract(
    paths: Annotated[list[str], typer.Argument(help="HTML files (.html, .html.gz) or - for stdin.")],
    url: Annotated[str | None, typer.Option("--url", help="The page's URL (chooses site rules).")] = None,
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
    source: Annotated[str, typer.Option("--source", help="Source name to file them under.")] = "import",
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import text dumps (`date YYYY-MM-DD <text>`, one article a file), cleaned of chrome."""
    from ingest.importer import import_paths
    from ingest.runner import crawl_context

    with crawl_context(STATE.config, worker="import") as ctx:
        summary = import_paths(ctx, paths, source)
    rows = [{"path": str(r.path), "outcome": r.outcome, "id": r.article_id, "error": r.error} for r in summary.results]
    if json_out:
        print(render.dumps(rows))
    else:
        out.print(render.table("Import", ["path", "outcome", "id", "error"],
                               [[r["path"], r["outcome"], r["id"], r["error"]] for r in rows]))
    if summary.results and summary.count("parse_error") == len(summary.results):
        raise typer.Exit(1)


# --- articles ---------------------------------------------------------------


def _parse_date(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--{name}: {value!r} is not a date like 2025-09-10") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@articles_app.command("list")
def articles_list(
    source: Annotated[str | None, typer.Option("--source")] = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
    author: Annotated[str | None, typer.Option("--author")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Published on or after (ISO date).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Published before (ISO date).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Newest articles first."""
    from db.queries import ArticleFilter

    flt = ArticleFilter(source, language, author, _parse_date(since, "since"), _parse_date(until, "until"))
    _print_articles(flt, limit, json_out)


@articles_app.command("search")
def articles_search(
    query: str,
    source: Annotated[str | None, typer.Option("--source")] = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
    since: Annotated[str | None, typer.Option("--since")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Articles whose title or body contain every word of QUERY."""
    from db.queries import ArticleFilter

    flt = ArticleFilter(source, language, None, _parse_date(since, "since"), _parse_date(until, "until"), query)
    _print_articles(flt, limit, json_out)


def _print_articles(flt: Any, limit: int, json_out: bool) -> None:
    from db.queries import list_articles, source_names
    from ingest.services import open_database

    database = open_database(STATE.config)
    with database.sessions() as session:
        rows, _ = list_articles(session, flt, limit=limit)
        names = source_names(session)
        data = [render.article_json(a, names.get(a.source_id or -1), full=False) for a in rows]
    database.close()
    if json_out:
        print(render.dumps(data))
        return
    out.print(render.table(
        f"{len(data)} articles",
        ["id", "published", "source", "title", "words"],
        [[d["id"], d["published_at"], d["source"], d["title"], d["word_count"]] for d in data],
    ))


@articles_app.command("show")
def articles_show(article_id: int, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One article with its full text and fields."""
    from db.queries import get_article, source_names
    from ingest.services import open_database

    database = open_database(STATE.config)
    with database.sessions() as session:
        article = get_article(session, article_id)
        data = render.article_json(article, source_names(session).get(article.source_id or -1), full=True)
    database.close()
    if json_out:
        print(render.dumps(data))
        return
    out.print(f"[bold]{data['title']}[/bold]")
    out.print(f"{data['url']}\nsource: {data['source']}  published: {data['published_at']}  "
              f"authors: {', '.join(data['authors']) or '-'}  language: {data['language']}")
    out.print()
    out.print(data["text"], markup=False, highlight=False)


# --- daemon & demo ----------------------------------------------------------


@app.command()
def run() -> None:
    """Run the daemon: scheduled crawls of every enabled source until SIGINT/SIGTERM."""
    from ingest.daemon import run_daemon

    raise typer.Exit(asyncio.run(run_daemon(STATE.config)))


@app.command()
def demo(
    database: Annotated[str | None, typer.Option("--database", help="Database URL for the demo.")] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the demo site up until Ctrl-C.")] = False,
) -> None:
    """Offline demo: serve a bundled news site on 127.0.0.1, crawl it, show what was stored."""
    from ingest.demo.runner import run_demo

    raise typer.Exit(run_demo(database, keep=keep, console=out))


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
