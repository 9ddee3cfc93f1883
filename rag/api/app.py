"""``create_app``: the API and the chat window over one engine, in one FastAPI app."""

from __future__ import annotations

import contextlib

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline  # /docs served without a CDN: the app runs offline

from rag.api import errors
from rag.api.deps import require_token
from rag.api.routes import ask, citations, conversations, documents, health, openai
from rag.api.runtime import Runtime
from rag.engine import Engine
from rag.settings import Settings

DESCRIPTION = """Answers from your own documents, with citations that point at real text.

Send `Authorization: Bearer TOKEN` to `/api` and `/v1` when the server runs with `RAG_API_TOKEN`.
Errors are `{"detail": message}` with a 4xx status (503 while the model and the index load).
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
        app.include_router(router, dependencies=[Depends(require_token)])
    return _mount_ui(app, runtime)


def _mount_ui(app: FastAPI, runtime: Runtime) -> FastAPI:
    """The Gradio chat window at `/`, calling the same engine."""
    import gradio as gr

    from rag import window as ui

    return gr.mount_gradio_app(app, ui.build(runtime.engine, runtime.conversations), path="/", css=ui.CSS,
                               theme=ui.theme(), max_file_size=runtime.settings.max_upload_bytes,
                               footer_links=[], run_history=False)
