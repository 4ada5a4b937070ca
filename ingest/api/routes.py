"""The JSON endpoints: articles, stories, sources, a crawl trigger, health and metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from db import queries, story_queries
from db.queries import ArticleFilter
from ingest.api import views
from ingest.api.auth import require_token
from ingest.api.deps import AppConfig, DbSession
from ingest.api.errors import ERROR_RESPONSES, error_response
from ingest.api.fetch_trigger import trigger_fetch
from ingest.api.metrics import CONTENT_TYPE
from ingest.api.params import MAX_ID, After, Limit, QueryText, SafeStr, article_filter
from ingest.api.schemas import (
    ArticleDetail,
    ArticlePage,
    ErrorBody,
    FetchAccepted,
    Health,
    SourceItem,
    StoryItem,
    StoryPage,
)

router = APIRouter()

ArticleId = Annotated[int, Path(ge=1, le=MAX_ID)]
StoryId = Annotated[int, Path(ge=1, le=MAX_ID)]
SourcePath = Annotated[SafeStr, Path(min_length=1, max_length=200)]


@router.get("/articles", response_model=ArticlePage, responses=ERROR_RESPONSES, tags=["articles"])
def list_or_search_articles(
    session: DbSession,
    flt: Annotated[ArticleFilter, Depends(article_filter)],
    q: QueryText = None,
    after: After = None,
    limit: Limit = 20,
) -> ArticlePage:
    """Newest first, or ranked by relevance with highlighted snippets when `q` is given."""
    if q is not None and q.strip():
        page = queries.search_articles(session, q, flt, limit=limit, after=after)
        return ArticlePage(items=[views.search_item(h) for h in page.items], next_cursor=page.next_cursor)
    page = queries.list_articles(session, flt, limit=limit, after=after)
    return ArticlePage(items=[views.article_item(a) for a in page.items], next_cursor=page.next_cursor)


@router.get("/articles/{article_id}", response_model=ArticleDetail, responses=ERROR_RESPONSES, tags=["articles"])
def get_article(session: DbSession, article_id: ArticleId) -> ArticleDetail:
    """One article with its full text, the provenance of each field and its near-duplicates."""
    article = queries.get_article(session, article_id)
    return views.article_detail(
        article, story_queries.story_id_of(session, article_id), story_queries.duplicates_of(session, article_id)
    )


@router.get("/stories", response_model=StoryPage, responses=ERROR_RESPONSES, tags=["stories"])
def list_stories(session: DbSession, after: After = None, limit: Limit = 20) -> StoryPage:
    """Clusters of near-duplicates, most recently grown first, with their members."""
    stories, nxt = story_queries.list_stories(session, limit=limit, after=after)
    return StoryPage(items=[views.story_item(s) for s in stories], next_cursor=nxt)


@router.get("/stories/{story_id}", response_model=StoryItem, responses=ERROR_RESPONSES, tags=["stories"])
def get_story(session: DbSession, story_id: StoryId) -> StoryItem:
    return views.story_item(story_queries.get_story(session, story_id))


@router.get("/sources", response_model=list[SourceItem], responses=ERROR_RESPONSES, tags=["sources"])
def list_sources(session: DbSession, config: AppConfig) -> list[SourceItem]:
    """Configured and crawled sources: health, last and next run, outcome counts of the last 24 h."""
    return views.source_items(config, queries.source_health(session))


@router.post(
    "/sources/{name}/fetch",
    response_model=FetchAccepted,
    status_code=202,
    dependencies=[Depends(require_token)],
    responses={
        **ERROR_RESPONSES,
        401: {"model": ErrorBody, "description": "Missing or wrong bearer token"},
        403: {"model": ErrorBody, "description": "Write endpoints disabled (no api.token)"},
    },
    tags=["sources"],
)
def fetch_source(request: Request, name: SourcePath, background: BackgroundTasks, config: AppConfig) -> FetchAccepted:
    """Crawl a configured source now (bearer token required)."""
    triggered, task = trigger_fetch(config, name, request.app.state.database.sessions)
    if task is not None:
        background.add_task(task)
    return FetchAccepted(
        source=triggered.source, status=triggered.status, request_id=triggered.request_id,
        daemon_running=triggered.daemon_running,
    )


@router.get("/healthz", response_model=Health, responses={503: {"model": ErrorBody}}, tags=["ops"])
def healthz(request: Request) -> Health | JSONResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        with request.app.state.database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return error_response(503, "database unavailable")
    return Health(status="ok", database="ok")


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus metrics"}},
    tags=["ops"],
)
def metrics(request: Request) -> Response:
    """Prometheus text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
