"""CLI commands about crawling: ``sources list|show|reload``, ``fetch``, ``run`` and ``status``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ingest import eventloop, render
from ingest.cli_common import STATE, err, out, progress_bar
from ingest.errors import ConfigError

if TYPE_CHECKING:
    from ingest.config import SourceConfig
    from ingest.pipeline import RunSummary

sources_app = typer.Typer(help="Configured sources and their health.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
    app.command()(fetch)
    app.command()(run)
    app.command()(status)


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
                "interval",
                "failures",
                "extraction",
            ],
            [
                [
                    r["name"],
                    r["schedule"],
                    r["enabled"],
                    r["healthy"] if r["healthy"] else "[red]UNHEALTHY[/red]",
                    r["articles"],
                    r["last_run_at"],
                    r["next_run_at"],
                    _seconds(r["interval_seconds"]),
                    r["consecutive_failures"],
                    "[yellow]DRIFT: " + "; ".join(r["drift_reasons"]) + "[/yellow]"
                    if r["drift"]
                    else "ok",
                ]
                for r in rows
            ],
        )
    )


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    value = int(value)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if (value >= size and value % size == 0) or value >= 10 * size:
            return f"{value // size}{unit}"
    return f"{value}s"


@sources_app.command("reload")
def sources_reload() -> None:
    """Ask every running daemon to re-read its config file (like SIGHUP, across machines)."""
    from ingest.control import request_reload

    asked = request_reload(STATE.config)
    if asked:
        out.print(f"asked {asked} running daemon(s) to reload their config")
    else:
        out.print("no daemon is running; the next `ingest run` reads the config anyway")


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
    now: Annotated[
        bool,
        typer.Option(
            "--now", help="Ask a running daemon to crawl these sources now (else crawl here)."
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="With --now: seconds to wait for the daemon.")
    ] = 600.0,
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
    remote: list[Any] = []
    if now:
        remote, chosen = _ask_daemon(chosen, timeout)
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

        summaries = remote
        if chosen or url:
            summaries += eventloop.run(config, run_crawls(config, chosen, list(url or []), on_progress))
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


def _ask_daemon(
    chosen: list[SourceConfig], timeout: float
) -> tuple[list[RunSummary], list[SourceConfig]]:
    """Queue a request per source a live daemon serves, wait for them; return the rest."""
    from collections import Counter

    from ingest.control import daemon_running, request_fetch, wait_for_request
    from ingest.pipeline import RunSummary
    from ingest.services import open_database

    config = STATE.config
    database = open_database(config)
    try:
        served = [s for s in chosen if daemon_running(config, s.name, sessions=database.sessions)]
        queued = [request_fetch(config, s.name, sessions=database.sessions) for s in served]
    finally:
        database.close()
    for q in queued:
        err.print(f"asked the running daemon to crawl {q.source} (request {q.request_id})")
    summaries = []
    for q in queued:
        state = wait_for_request(config, q.request_id, timeout=timeout)
        summary = RunSummary(q.source, state.run_id or 0, Counter(state.counts))
        summary.status = state.run_status or state.status
        summary.error = state.error
        summaries.append(summary)
    names = {s.name for s in served}
    return summaries, [s for s in chosen if s.name not in names]


def status(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Running daemons and what they crawl, last and next run per source, recent errors."""
    from ingest.status import daemon_status

    info = daemon_status(STATE.config)
    if json_out:
        print(render.dumps(info))
        return
    out.print(
        render.table(
            "Daemons",
            ["worker", "state", "started", "heartbeat", "crawling", "sources"],
            [
                [d["worker"], d["state"], d["started_at"], d["heartbeat_at"],
                 ", ".join(d["crawling"]) or "-", d["sources"]]
                for d in info["daemons"]
            ],
        )
    )
    out.print(
        render.table(
            "Sources",
            ["name", "healthy", "last run", "next run", "interval", "leased by", "failures", "extraction"],
            [
                [r["name"], r["healthy"], r["last_run_at"], r["next_run_at"],
                 _seconds(r["interval_seconds"]), r["lease_owner"] or "-", r["consecutive_failures"],
                 "DRIFT: " + "; ".join(r["drift_reasons"]) if r["drift"] else "ok"]
                for r in info["sources"]
            ],
        )
    )
    out.print(f"pending manual requests: {info['pending_requests']}")
    for r in info["failed_runs"]:
        out.print(f"[red]run {r['run']} {r['status']}[/red] {r['source']} {r['at']}: {r['error']}")
    for e in info["fetch_errors"]:
        out.print(f"[red]{e['outcome']}[/red] {e['source']} {e['url']}: {e['error']}")


def run(
    api: Annotated[
        bool, typer.Option("--api", help="Also serve the HTTP API and web page ([api] host and port).")
    ] = False,
) -> None:
    """Run the daemon: scheduled crawls of every enabled source until SIGINT/SIGTERM."""
    if STATE.config.daemon.log_json:
        from ingest.logs import use_json_lines

        use_json_lines()  # before the daemon's imports, which log too
    from ingest.daemon import run_daemon

    raise typer.Exit(eventloop.run(STATE.config, run_daemon(STATE.config, api=api)))
