"""CLI commands that read the archive: ``articles list|search|show``, ``export`` and ``serve``.

They use the same query layer (:mod:`db.queries`) and JSON shapes
(:mod:`ingest.api.schemas`) as the HTTP API.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ingest import render
from ingest.cli_common import STATE, out, parse_date
from ingest.errors import ConfigError

articles_app = typer.Typer(help="Query stored articles.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(articles_app, name="articles")
    app.command("export")(export)
    app.command("serve")(serve)


# --- shared options -------------------------------------------------------------

SourceOpt = Annotated[str | None, typer.Option("--source", help="Source name.")]
LanguageOpt = Annotated[str | None, typer.Option("--language", help="Language code, e.g. en.")]
AuthorOpt = Annotated[str | None, typer.Option("--author", help="Part of an author's name.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Published on or after (ISO date).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Published before (ISO date).")]
DupOpt = Annotated[
    bool | None,
    typer.Option("--has-duplicates/--no-duplicates", help="Only articles with / without near-duplicates."),
]
AfterOpt = Annotated[
    str | None, typer.Option("--after", metavar="CURSOR", help="Continue after this cursor (printed below a page).")
]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=200, help="Page size.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON: {items, next_cursor}.")]


@dataclass(frozen=True)
class _Filters:
    source: str | None
    language: str | None
    author: str | None
    since: str | None
    until: str | None
    has_duplicates: bool | None

    def build(self) -> Any:
        from db.queries import ArticleFilter

        return ArticleFilter(
            self.source, self.language, self.author,
            parse_date(self.since, "since"), parse_date(self.until, "until"), self.has_duplicates,
        )


def _run_page(query: str | None, filters: _Filters, limit: int, after: str | None) -> tuple[list[Any], str | None]:
    from db import queries
    from ingest.api import views
    from ingest.services import open_database

    flt = filters.build()
    database = open_database(STATE.config)
    try:
        with database.sessions() as session:
            if query is None:
                page = queries.list_article_rows(session.connection(), flt, limit=limit, after=after)
                items = [views.row_item(r) for r in page.items]
            else:
                page = queries.search_articles(session, query, flt, limit=limit, after=after)
                items = [_with_plain_snippet(views.search_item(h), h.snippet) for h in page.items]
    finally:
        database.close()
    return items, page.next_cursor


def _with_plain_snippet(item: Any, raw: str) -> Any:
    from ingest.api.views import snippet_plain

    return item.model_copy(update={"snippet": snippet_plain(raw)})


def _print_page(items: list[Any], next_cursor: str | None, json_out: bool, searching: bool) -> None:
    if json_out:
        print(render.dumps({"items": [i.model_dump(mode="json") for i in items], "next_cursor": next_cursor}))
        return
    columns = ["id", "published", "source", "title", "words"]
    rows = [
        [i.id, render.iso(i.published_at), i.source, i.title, i.word_count] for i in items
    ]
    out.print(render.table(f"{len(items)} articles", columns, rows))
    if searching:
        from ingest.api.views import snippet_plain

        for i in items:
            text = escape(i.snippet or "")
            out.print(f"[dim]{i.id}[/dim] " + snippet_plain(text, "[bold yellow]", "[/bold yellow]"))
    if next_cursor:
        out.print(f"next page: --after {next_cursor}", markup=False, highlight=False)


@articles_app.command("list")
def articles_list(
    source: SourceOpt = None,
    language: LanguageOpt = None,
    author: AuthorOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    has_duplicates: DupOpt = None,
    after: AfterOpt = None,
    limit: LimitOpt = 20,
    json_out: JsonOpt = False,
) -> None:
    """Newest articles first (undated ones last)."""
    filters = _Filters(source, language, author, since, until, has_duplicates)
    items, nxt = _run_page(None, filters, limit, after)
    _print_page(items, nxt, json_out, searching=False)


@articles_app.command("search")
def articles_search(
    query: Annotated[str, typer.Argument(help='Words, "a phrase", -exclude, a OR b.')],
    source: SourceOpt = None,
    language: LanguageOpt = None,
    author: AuthorOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    has_duplicates: DupOpt = None,
    after: AfterOpt = None,
    limit: LimitOpt = 20,
    json_out: JsonOpt = False,
) -> None:
    """Full-text search over title and body, best match first, with highlighted snippets."""
    filters = _Filters(source, language, author, since, until, has_duplicates)
    items, nxt = _run_page(query, filters, limit, after)
    _print_page(items, nxt, json_out, searching=True)


@articles_app.command("show")
def articles_show(article_id: int, json_out: JsonOpt = False) -> None:
    """One article with its full text, field provenance and near-duplicates."""
    from db import queries, story_queries
    from ingest.api import views
    from ingest.services import open_database

    database = open_database(STATE.config)
    try:
        with database.sessions() as session:
            article = queries.get_article(session, article_id)
            detail = views.article_detail(
                article, story_queries.story_id_of(session, article_id),
                story_queries.duplicates_of(session, article_id),
            )
    finally:
        database.close()
    if json_out:
        print(render.dumps(detail.model_dump(mode="json")))
        return
    out.print(f"[bold]{escape(detail.title or '(no title)')}[/bold]")
    out.print(
        f"{detail.url}\nsource: {detail.source}  published: {render.iso(detail.published_at)}  "
        f"authors: {', '.join(detail.authors) or '-'}  language: {detail.language}",
        markup=False, highlight=False,
    )
    if detail.provenance:
        out.print("provenance: " + ", ".join(f"{k}={v}" for k, v in sorted(detail.provenance.items())), markup=False)
    for dup in detail.duplicates:
        out.print(
            f"near-duplicate: #{dup.article.id} {dup.article.source} ({dup.rule}, jaccard {dup.jaccard:.2f})",
            markup=False, highlight=False,
        )
    out.print()
    out.print(detail.text, markup=False, highlight=False)


# --- export ------------------------------------------------------------------------


def export(
    format_: Annotated[str, typer.Option("--format", "-f", help="jsonl, csv, parquet or text.")] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File (jsonl/csv/parquet; stdout if omitted) or folder (text)."),
    ] = None,
    source: SourceOpt = None,
    language: LanguageOpt = None,
    author: AuthorOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    has_duplicates: DupOpt = None,
) -> None:
    """Stream matching articles out (oldest id first) in constant memory.

    ``text`` writes one file per article, ``date YYYY-MM-DD <body>``, the form
    ``ingest import`` reads back.
    """
    from ingest.export import FORMATS, export_articles
    from ingest.services import open_database

    if format_ not in FORMATS:
        raise ConfigError(f"--format: {format_!r} is not one of {', '.join(FORMATS)}")
    flt = _Filters(source, language, author, since, until, has_duplicates).build()
    database = open_database(STATE.config)
    try:
        with database.sessions() as session:
            count = export_articles(session, flt, format_, output)
    finally:
        database.close()
    if output is not None:
        out.print(f"exported {count} articles to {output}", markup=False, highlight=False)


# --- serve -------------------------------------------------------------------------


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Default: api.host (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", min=0, max=65535, help="Default: api.port (8000).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
) -> None:
    """Serve the HTTP API and web page (FastAPI on uvicorn) until Ctrl-C."""
    import os

    import uvicorn

    from ingest.api.settings import api_settings
    from ingest.services import open_database

    config = STATE.config
    settings = api_settings(config)
    open_database(config).close()  # fail fast (one line) and migrate before the workers start
    bind_host = host or settings.host
    bind_port = settings.port if port is None else port
    if workers == 1:
        from ingest.api.app import create_app

        uvicorn.run(create_app(config), host=bind_host, port=bind_port, log_level=log_level)
        return
    if config.path is not None:
        os.environ["INGEST_CONFIG"] = str(config.path.resolve())
    uvicorn.run(
        "ingest.api.app:app_from_environment", factory=True, host=bind_host, port=bind_port,
        workers=workers, log_level=log_level,
    )
