"""``/healthz``: ready only once the model and the store are loaded."""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from rag.api.deps import RuntimeDep
from rag.api.models import Health
from rag.store.chroma import unreachable

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(runtime: RuntimeDep):
    """200 with the collection's size once ready; 503 while loading, after a failed start, or while the
    Chroma server cannot be reached."""
    if runtime.error:
        return JSONResponse(Health(status="failed", detail=runtime.error).model_dump(), status_code=503)
    if not runtime.ready:
        return JSONResponse(Health(status="loading").model_dump(), status_code=503)
    engine = runtime.engine()
    try:
        chunks = engine.store.count()
    except httpx.TransportError as exc:
        reason = str(unreachable(runtime.settings.store, exc))
        return JSONResponse(Health(status="unavailable", detail=reason).model_dump(), status_code=503)
    return Health(status="ready", collection=engine.settings.collection, chunks=chunks)
