"""CLI commands that query the archive: ``articles list|search|show``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ingest import render
from ingest.cli_common import STATE, out, parse_date

articles_app = typer.Typer(help="Query stored articles.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(articles_app, name="articles")


@articles_app.command("list")
def articles_list(
    source: Annotated[str | None, typer.Option("--source")] = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
    author: Annotated[str | None, typer.Option("--author")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Published on or after (ISO date).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Published before (ISO date).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Newest articles first."""
    from db.queries import ArticleFilter

    flt = ArticleFilter(
        source, language, author, parse_date(since, "since"), parse_date(until, "until")
    )
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

    flt = ArticleFilter(
        source, language, None, parse_date(since, "since"), parse_date(until, "until"), query
    )
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
    out.print(
        render.table(
            f"{len(data)} articles",
            ["id", "published", "source", "title", "words"],
            [[d["id"], d["published_at"], d["source"], d["title"], d["word_count"]] for d in data],
        )
    )


@articles_app.command("show")
def articles_show(
    article_id: int, json_out: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """One article with its full text and fields."""
    from db.queries import get_article, source_names
    from ingest.services import open_database

    database = open_database(STATE.config)
    with database.sessions() as session:
        article = get_article(session, article_id)
        data = render.article_json(
            article, source_names(session).get(article.source_id or -1), full=True
        )
    database.close()
    if json_out:
        print(render.dumps(data))
        return
    out.print(f"[bold]{data['title']}[/bold]")
    out.print(
        f"{data['url']}\nsource: {data['source']}  published: {data['published_at']}  "
        f"authors: {', '.join(data['authors']) or '-'}  language: {data['language']}"
    )
    out.print()
    out.print(data["text"], markup=False, highlight=False)
