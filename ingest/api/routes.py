"""The JSON endpoints: articles, stories, sources, a crawl trigger, health and metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
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
async def list_or_search_articles(
    request: Request,
    flt: Annotated[ArticleFilter, Depends(article_filter)],
    q: QueryText = None,
    after: After = None,
    limit: Limit = 20,
) -> Response:
    """Newest first, or ranked by relevance with highlighted snippets when `q` is given."""
    # The hot path of the API: Core rows turned into dicts and serialized once (no ORM
    # objects, no per-row model validation); the body matches ArticlePage exactly.
    state = request.app.state
    if q is not None and q.strip():
        return await run_in_threadpool(_search_page, state, q, flt, limit, after)
    if _inline(state, flt):
        # an index walk that stops after one page (about a millisecond) on a pooled
        # connection: cheaper on the event loop than the thread-pool hop it would cost
        return _list_page(state, flt, limit, after)
    return await run_in_threadpool(_list_page, state, flt, limit, after)


def _inline(state: Any, flt: ArticleFilter) -> bool:
    """Run the listing on the event loop: only index walks in display order (no per-row
    probes: author, duplicates), and only with an idle pooled connection, so a database
    that must first be connected to (or is down) never blocks the loop."""
    if flt.author or flt.has_duplicates is not None:
        return False
    pool = state.read_engine.pool
    checkedin = getattr(pool, "checkedin", None)
    return checkedin is not None and int(checkedin()) > 0


def _list_page(state: Any, flt: ArticleFilter, limit: int, after: str | None) -> Response:
    with state.read_engine.connect() as connection:
        page = queries.list_article_rows(connection, flt, limit=limit, after=after)
    return views.json_response(
        {"items": [views.row_dict(r) for r in page.items], "next_cursor": page.next_cursor}
    )


def _search_page(state: Any, q: str, flt: ArticleFilter, limit: int, after: str | None) -> Response:
    with state.read_sessions() as session:
        hits = queries.search_articles(session, q, flt, limit=limit, after=after)
        items = [views.search_dict(h) for h in hits.items]
    return views.json_response({"items": items, "next_cursor": hits.next_cursor})


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
