"""CLI: ``ingest duplicates`` and ``ingest dedup rebuild`` (wired in by :func:`register`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from db.dedup_queries import StoryFilter
from ingest import render
from ingest.cli_common import STATE, err, out, parse_date

dedup_app = typer.Typer(help="Near-duplicate index.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``duplicates`` and the ``dedup`` group to the main app."""
    app.command("duplicates")(duplicates)
    app.add_typer(dedup_app, name="dedup")


def duplicates(
    since: Annotated[str | None, typer.Option("--since", help="Stories with a member dated on or after (ISO date).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Stories with a member from this source.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 100,
    json_out: Annotated[bool, typer.Option("--json", help="Print a JSON list of clusters.")] = False,
) -> None:
    """Stories published by several outlets: members (earliest first) and pair scores."""
    from ingest.dedup.report import clusters
    from ingest.services import open_database

    database = open_database(STATE.config)
    try:
        with database.sessions() as session:
            rows = clusters(session, StoryFilter(parse_date(since, "since"), source, limit))
    finally:
        database.close()
    if json_out:
        print(render.dumps(rows))
        return
    if not rows:
        out.print("no near-duplicate stories")
    for story in rows:
        out.print(f"[bold]story {story['story_id']}[/bold]  {story['size']} articles, "
                  f"earliest #{story['earliest_id']}")
        out.print(render.table(
            None,
            ["id", "published", "source", "title", "url"],
            [[m["id"], m["published_at"], m["source"], m["title"], m["url"]] for m in story["members"]],
        ))
        out.print(render.table(
            None,
            ["a", "b", "containment", "jaccard", "rule"],
            [[p["a"], p["b"], f"{p['containment']:.2f}", f"{p['jaccard']:.2f}", p["rule"]] for p in story["pairs"]],
        ))


@dedup_app.command("rebuild")
def rebuild_cmd(
    batch: Annotated[int, typer.Option("--batch", min=1, max=100_000, help="Articles per transaction.")] = 1000,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Shingling processes (default: CPUs).")] = None,
) -> None:
    """Recompute signatures, chrome, pairs and stories (after a settings change)."""
    from ingest.dedup.hook import settings_of
    from ingest.dedup.rebuild import rebuild
    from ingest.services import open_database

    database = open_database(STATE.config)
    bar = Progress(
        TextColumn("rebuild"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err, disable=not err.is_terminal,
    )
    try:
        with bar:
            task = bar.add_task("rebuild", total=None)

            def on_progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = rebuild(
                database.sessions, settings_of(STATE.config), batch=batch, workers=workers, progress=on_progress
            )
    finally:
        database.close()
    out.print(
        f"rebuilt {report.articles} articles in {report.seconds:.1f}s "
        f"({report.rate:.0f}/s): {report.pairs} near-duplicate pairs"
        + (f"; {report.reindexed} articles a daemon indexed meanwhile indexed again" if report.reindexed else "")
    )
