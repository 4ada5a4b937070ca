"""The web page: server-rendered Jinja2 templates, no JavaScript build.

Search box and recent articles (``/``), an article (``/ui/articles/{id}``),
stories and the story view with outlets side by side (``/ui/stories…``), and
source health (``/ui/sources``).  Same query layer as the JSON API.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from db import queries, story_queries
from db.cursors import InvalidCursor
from db.queries import ArticleFilter
from db.search_syntax import InvalidQuery
from ingest.api import story_diff, views
from ingest.api.deps import AppConfig, DbSession
from ingest.api.params import MAX_ID, After, QueryText, article_filter

TEMPLATES = Jinja2Templates(directory=str(FsPath(__file__).parent / "templates"))
PAGE_SIZE = 25

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def _filter_params(flt: ArticleFilter, q: str | None) -> dict[str, str]:
    params = {
        "q": q, "source": flt.source, "language": flt.language, "author": flt.author,
        "since": flt.since.date().isoformat() if flt.since else None,
        "until": flt.until.date().isoformat() if flt.until else None,
        "has_duplicates": None if flt.has_duplicates is None else str(flt.has_duplicates).lower(),
    }
    return {k: v for k, v in params.items() if v}


@router.get("/")
def index(
    request: Request,
    session: DbSession,
    flt: Annotated[ArticleFilter, Depends(article_filter)],
    q: QueryText = None,
    after: After = None,
) -> HTMLResponse:
    """Search results when ``q`` is given, else the most recent articles."""
    error = None
    items: list[Any] = []
    next_cursor = None
    try:
        if q and q.strip():
            page = queries.search_articles(session, q, flt, limit=PAGE_SIZE, after=after)
            items = [views.search_item(h) for h in page.items]
        else:
            page = queries.list_article_rows(session.connection(), flt, limit=PAGE_SIZE, after=after)
            items = [views.row_item(r) for r in page.items]
        next_cursor = page.next_cursor
    except (InvalidQuery, InvalidCursor) as exc:
        error = str(exc)
    params = _filter_params(flt, q)
    next_url = f"/?{urlencode({**params, 'after': next_cursor})}" if next_cursor else None
    return _render(
        request, "index.html", 422 if error else 200,
        q=q or "", flt=flt, items=items, next_url=next_url, error=error, searching=bool(q and q.strip()),
    )


@router.get("/ui/articles/{article_id}")
def article_page(request: Request, session: DbSession, article_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> HTMLResponse:
    article = queries.get_article(session, article_id)
    detail = views.article_detail(
        article, story_queries.story_id_of(session, article_id), story_queries.duplicates_of(session, article_id)
    )
    return _render(request, "article.html", article=detail)


@router.get("/ui/stories")
def stories_page(request: Request, session: DbSession, after: After = None) -> HTMLResponse:
    stories, nxt = story_queries.list_stories(session, limit=PAGE_SIZE, after=after)
    return _render(
        request, "stories.html", stories=[views.story_item(s) for s in stories],
        next_url=f"/ui/stories?{urlencode({'after': nxt})}" if nxt else None,
    )


@router.get("/ui/stories/{story_id}")
def story_page(request: Request, session: DbSession, story_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> HTMLResponse:
    """The outlets that ran one story side by side, with the paragraphs each added or dropped."""
    story = story_queries.get_story(session, story_id)
    members = story.members
    columns = []
    if members:
        reference = members[0].body
        columns.append((views.article_item(members[0]), story_diff.reference_column(reference)))
        columns.extend(
            (views.article_item(m), story_diff.compare(reference, m.body)) for m in members[1:]
        )
    return _render(request, "story.html", story=views.story_item(story), columns=columns)


@router.get("/ui/sources")
def sources_page(request: Request, session: DbSession, config: AppConfig) -> HTMLResponse:
    return _render(request, "sources.html", sources=views.source_items(config, queries.source_health(session)))
