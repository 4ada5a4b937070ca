"""CLI commands about crawling: ``sources list|show``, ``fetch`` and the daemon ``run``."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from ingest import render
from ingest.cli_common import STATE, out, progress_bar
from ingest.errors import ConfigError

sources_app = typer.Typer(help="Configured sources and their health.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
    app.command()(fetch)
    app.command()(run)


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
            [
                "name",
                "schedule",
                "enabled",
                "healthy",
                "articles",
                "last run",
                "next run",
                "failures",
            ],
            [
                [
                    r["name"],
                    r["schedule"],
                    r["enabled"],
                    r["healthy"],
                    r["articles"],
                    r["last_run_at"],
                    r["next_run_at"],
                    r["consecutive_failures"],
                ]
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
            [
                [
                    r["id"],
                    r["trigger"],
                    r["status"],
                    r["started_at"],
                    render.counts_text(r["counts"]),
                ]
                for r in detail["runs"]
            ],
        )
    )
    for e in detail["errors"]:
        out.print(f"[red]{e['outcome']}[/red] {e['url']}: {e['error']}")


def fetch(
    sources: Annotated[list[str] | None, typer.Argument(help="Source names to crawl.")] = None,
    all_sources: Annotated[bool, typer.Option("--all", help="Crawl every enabled source.")] = False,
    url: Annotated[
        list[str] | None, typer.Option("--url", help="Fetch this article URL (repeatable).")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the run summary as JSON.")
    ] = False,
) -> None:
    """Crawl now, in the foreground, with a progress bar and a summary table."""
    from ingest.runner import run_crawls

    config = STATE.config
    if not sources and not all_sources and not url:
        raise ConfigError("name a source, or give --all or --url URL")
    chosen = (
        [s for s in config.sources if s.enabled]
        if all_sources
        else [config.source(n) for n in sources or []]
    )
    with progress_bar() as bar:
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
        print(
            render.dumps(
                [
                    {
                        "source": s.source,
                        "run_id": s.run_id,
                        "status": s.status,
                        "error": s.error,
                        "seconds": round(s.seconds, 3),
                        "counts": dict(s.counts),
                        "stored_ids": s.stored_ids,
                    }
                    for s in summaries
                ]
            )
        )
    else:
        out.print(
            render.table(
                "Run summary",
                ["source", "run", "status", "stored", "seconds", "outcomes"],
                [
                    [
                        s.source,
                        s.run_id,
                        s.status if not s.error else f"{s.status}: {s.error}",
                        s.counts.get("stored", 0),
                        f"{s.seconds:.1f}",
                        render.counts_text(s.counts),
                    ]
                    for s in summaries
                ],
            )
        )
    if summaries and all(s.status != "ok" for s in summaries):
        raise typer.Exit(1)


def run() -> None:
    """Run the daemon: scheduled crawls of every enabled source until SIGINT/SIGTERM."""
    from ingest.daemon import run_daemon

    raise typer.Exit(asyncio.run(run_daemon(STATE.config)))
