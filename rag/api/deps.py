"""Dependencies shared by the routers: the runtime, and the role a route needs (rag.api.auth)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.api import auth
from rag.api.runtime import Runtime
from rag.roles import NEED_WRITE, may_write

_bearer = HTTPBearer(auto_error=False, description="RAG_API_TOKEN (everything) or RAG_READ_TOKEN (no "
                     "uploads or deletes); required when RAG_API_TOKEN is set.")


def get_runtime(request: Request) -> Runtime:
    """The app's runtime."""
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _role(request: Request, runtime: Runtime) -> str:
    """The caller's role, or 401."""
    role = auth.role_of(runtime.settings, request)
    if role is None:
        raise HTTPException(401, auth.NEED_TOKEN, headers={"WWW-Authenticate": "Bearer"})
    return role


def require_read(request: Request, runtime: RuntimeDep, _: Credentials) -> None:
    """Either token (or none needed)."""
    _role(request, runtime)


def require_write(request: Request, runtime: RuntimeDep, _: Credentials) -> None:
    """RAG_API_TOKEN (or none needed): uploads and deletes."""
    if not may_write(_role(request, runtime)):
        raise HTTPException(403, NEED_WRITE)
