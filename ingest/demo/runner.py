"""``ingest demo``: the whole service, offline, in one command.

Serves the bundled two-outlet news site on 127.0.0.1, declares one source per
outlet, runs the real pipeline over it (the same :func:`ingest.runner.run_crawls`
as ``ingest fetch``) into a fresh SQLite file, and prints what was stored.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from db import queries
from db.dedup_queries import StoryFilter
from ingest import eventloop, render
from ingest.api.views import article_item
from ingest.config import Config, config_from_dict
from ingest.dedup.report import clusters
from ingest.demo.site import DemoSite
from ingest.runner import run_crawls
from ingest.services import open_database

DEFAULT_DB = Path("ingest-demo.db")


def demo_config(site: DemoSite, database_url: str) -> Config:
    return config_from_dict(
        {
            "database": {"url": database_url},
            "fetch": {"per_host_delay": 0, "concurrency": 8, "per_host_concurrency": 4},
            "sources": site.sources(),
        },
        origin="demo",
    )


def _fresh_sqlite(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def run_demo(database_url: str | None, *, keep: bool, console: Console) -> int:
    url = database_url or _fresh_sqlite(DEFAULT_DB)
    with DemoSite() as site:
        config = demo_config(site, url)
        console.print(f"[bold]Demo site[/bold] serving {len(site.outlets)} outlets:")
        for name, base in site.outlets.items():
            console.print(f"  {name}: {base}")
        summaries = eventloop.run(config, run_crawls(config, config.sources, []))
        console.print(
            render.table(
                "Crawl",
                ["source", "status", "stored", "outcomes"],
                [
                    [s.source, s.status, s.counts.get("stored", 0), render.counts_text(s.counts)]
                    for s in summaries
                ],
            )
        )
        _print_stored(config, console)
        if keep:
            console.print("Demo site stays up; press Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    if database_url is None:
        console.print(
            f"\nStored in {DEFAULT_DB}. Query it: "
            f"INGEST_DATABASE_URL=sqlite:///{DEFAULT_DB} ingest articles list"
        )
    stored = sum(s.counts.get("stored", 0) for s in summaries)
    return 0 if stored > 0 else 1


def _print_stored(config: Config, console: Console) -> None:
    database = open_database(config)
    try:
        with database.sessions() as session:
            rows, _ = queries.list_articles(session, queries.ArticleFilter(), limit=50)
            items = [article_item(a, queries.source_names(session)) for a in rows]
            last_body = rows[-1].body if rows else ""
            stories = clusters(session, StoryFilter())
    finally:
        database.close()
    console.print(
        render.table(
            f"{len(items)} stored articles",
            ["id", "source", "published (UTC)", "authors", "title", "words"],
            [
                [i.id, i.source, render.iso(i.published_at), ", ".join(i.authors), i.title, i.word_count]
                for i in items
            ],
        )
    )
    for story in stories:
        console.print(f"\n[bold]Story {story['story_id']}[/bold]: the same news from {story['size']} outlets")
        for member in story["members"]:
            mark = "original " if member["id"] == story["earliest_id"] else "reprint  "
            console.print(
                f"  {mark} #{member['id']} {member['source']:<14} {member['published_at']}  {member['title']}",
                markup=False,
            )
        for pair in story["pairs"]:
            console.print(
                f"  #{pair['a']} ~ #{pair['b']}: containment {pair['containment']:.2f}, "
                f"jaccard {pair['jaccard']:.2f} ({pair['rule']})",
                markup=False,
            )
    if items:
        console.print(f"\n[bold]Article {items[-1].id}[/bold] as stored (chrome stripped):")
        console.print(last_body[:600] + ("…" if len(last_body) > 600 else ""), markup=False)
