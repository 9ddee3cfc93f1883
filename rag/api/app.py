"""``create_app``: the API and the chat window over one engine, in one FastAPI app."""

from __future__ import annotations

import contextlib

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline  # /docs served without a CDN: the app runs offline

from rag.api import auth, errors
from rag.api.deps import require_read
from rag.api.models import ERRORS
from rag.api.routes import ask, citations, conversations, documents, health, openai
from rag.api.runtime import Runtime
from rag.engine import Engine
from rag.settings import Settings

DESCRIPTION = """Answers from your own documents, with citations that point at real text.

When the server runs with `RAG_API_TOKEN`, every route but `/healthz` needs `Authorization: Bearer TOKEN`
(or the session cookie of the login page at `/login`): `RAG_API_TOKEN` may do everything,
`RAG_READ_TOKEN` may ask, search and look up citations but not upload or delete (403).
Errors are `{"detail": message}` with a 4xx status (503 while the model and the index load, or while
the index or the Chroma server cannot be used).
"""


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The app: `/api` and `/v1` for programs, `/healthz`, and the chat window at `/`."""
    runtime = Runtime(settings, engine)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        runtime.start()
        yield
        runtime.close()

    app = FastAPIOffline(title="rag", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.runtime = runtime
    errors.install(app)
    app.include_router(health.router)
    for router in (ask.router, citations.router, conversations.router, documents.router, openai.router):
        app.include_router(router, dependencies=[Depends(require_read)], responses=ERRORS)
    _add_login(app)
    app.add_middleware(auth.AuthGuard, settings=settings)
    return _mount_ui(app, runtime)


def _add_login(app: FastAPI) -> None:
    """The login page that sets the window's session cookie (registered before Gradio's own /login)."""
    app.add_api_route("/login", auth.show_login, methods=["GET"], include_in_schema=False)
    app.add_api_route("/login", auth.login, methods=["POST"], include_in_schema=False)
    app.add_api_route("/logout", auth.logout, methods=["GET"], include_in_schema=False)


def _mount_ui(app: FastAPI, runtime: Runtime) -> FastAPI:
    """The Gradio chat window at `/`, calling the same engine; Gradio learns each caller's role."""
    from rag import window

    return window.mount(app, runtime.engine, runtime.conversations,
                        max_file_size=runtime.settings.max_upload_bytes,
                        role=lambda request: auth.role_of(runtime.settings, request))
