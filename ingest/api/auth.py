"""Bearer-token guard of the write endpoints.

No token in the config disables them (403): a crawl trigger must never be
open by accident.  With a token, a missing or wrong one is a 401 with
``WWW-Authenticate: Bearer``; the comparison takes constant time.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="The api.token from the config.")


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected: str | None = request.app.state.api.token
    if not expected:
        raise HTTPException(403, "write endpoints are disabled: set api.token in the config")
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
