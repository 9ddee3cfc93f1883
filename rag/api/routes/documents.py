"""``/api/documents``: list, upload (indexed like `rag index`) and delete; ``/api/collections``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile

from rag import uploads
from rag.api.deps import RuntimeDep, require_write
from rag.api.models import CollectionList, DocumentList, DocumentOut, ErrorOut, UploadResponse
from rag.serialize import record_dict

router = APIRouter(prefix="/api", tags=["documents"])


@router.get("/documents", response_model=DocumentList)
def documents(runtime: RuntimeDep, collection: str | None = None) -> DocumentList:
    """Indexed documents, newest first."""
    records = runtime.engine(collection).documents()
    return DocumentList(documents=[DocumentOut(**record_dict(r)) for r in records])


@router.get("/collections", response_model=CollectionList)
def collections(runtime: RuntimeDep) -> CollectionList:
    """The index's collections with their chunk counts (what `rag collections` prints)."""
    return CollectionList(collections=runtime.engine().collections())


@router.post("/documents", response_model=UploadResponse, dependencies=[Depends(require_write)])
def upload(files: Annotated[list[UploadFile], File(description="txt, md, html, pdf or jsonl files.")],
           runtime: RuntimeDep, collection: str | None = None) -> UploadResponse:
    """Upload files: each is saved under the data folder and indexed on its own, with its own report.

    200 when any file landed (the others' reports say why not); a 4xx only when none did.
    """
    reports = uploads.ingest(runtime.engine(collection), [(f.filename or "upload", f.file) for f in files])
    if not any(r.landed for r in reports):
        raise uploads.refusal(reports)
    return UploadResponse(files=[r.to_dict() for r in reports])


@router.delete("/documents/{doc_id:path}", response_model=DocumentOut, dependencies=[Depends(require_write)],
               responses={404: {"model": ErrorOut, "description": "Unknown document id."}})
def delete(doc_id: str, runtime: RuntimeDep, collection: str | None = None) -> DocumentOut:
    """Remove a document and its passages from the index (and its uploaded file, if no other uses it)."""
    return DocumentOut(**record_dict(uploads.delete(runtime.engine(collection), doc_id)))

