"""``/api/citations/{id}``: citation lookup."""

from __future__ import annotations

from fastapi import APIRouter

from rag.answer.citations import CitationLookup
from rag.api.deps import RuntimeDep
from rag.api.models import ErrorOut
from rag.serialize import lookup_dict

router = APIRouter(prefix="/api", tags=["citations"])


@router.get("/citations/{citation_id}", response_model=CitationLookup,
            responses={404: {"model": ErrorOut, "description": "Unknown or stale citation id."}})
def citation(citation_id: str, runtime: RuntimeDep, collection: str | None = None) -> dict:
    """The cited passage in its document: title, source, date, offsets and the surrounding text."""
    return lookup_dict(runtime.engine(collection).lookup(citation_id))
