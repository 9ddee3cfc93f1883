"""Dependencies shared by the routers: the runtime and the optional bearer token."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.api.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="Required when RAG_API_TOKEN is set.")


def get_runtime(request: Request) -> Runtime:
    """The app's runtime."""
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def require_token(runtime: RuntimeDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """With RAG_API_TOKEN set, a matching ``Authorization: Bearer`` header; otherwise nothing."""
    expected = runtime.settings.api_token
    if not expected:
        return
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong bearer token (set Authorization: Bearer $RAG_API_TOKEN)",
                            headers={"WWW-Authenticate": "Bearer"})
