"""Every error is JSON ``{"error": {"status", "message"}}`` with the right status code.

Typed errors of the query layer map to statuses here: a bad cursor or search
query is 422 (like any invalid parameter), a missing row 404, an unreachable
database 503.  Anything unexpected is a logged 500 that leaks no internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from db.cursors import InvalidCursor
from db.errors import DatabaseUnavailable, NotFound
from db.queries import SearchTimeout
from db.search_syntax import InvalidQuery
from ingest.api.schemas import ErrorBody, ErrorDetail
from ingest.errors import ConfigError

log = logging.getLogger("ingest.api")

#: Documented on every route, so the OpenAPI schema matches what is really sent.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Not found"},
    422: {"model": ErrorBody, "description": "Invalid parameter"},
    503: {"model": ErrorBody, "description": "Database unavailable"},
}


def error_response(status: int, message: str, details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(status=status, message=message, details=details))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _validation_message(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return error_response(422, _validation_message(errors), jsonable_encoder(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(InvalidQuery)
    @app.exception_handler(InvalidCursor)
    async def _unprocessable(_: Request, exc: Exception) -> JSONResponse:
        return error_response(422, str(exc))

    @app.exception_handler(NotFound)
    async def _missing(_: Request, exc: NotFound) -> JSONResponse:
        return error_response(404, str(exc))

    @app.exception_handler(ConfigError)
    async def _unknown_source(_: Request, exc: ConfigError) -> JSONResponse:
        return error_response(404, str(exc))

    @app.exception_handler(SearchTimeout)
    async def _too_slow(_: Request, exc: SearchTimeout) -> JSONResponse:
        return error_response(503, str(exc))

    @app.exception_handler(DatabaseUnavailable)
    @app.exception_handler(OperationalError)
    async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return error_response(503, "database unavailable")

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal error")
