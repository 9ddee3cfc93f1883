"""``/api/documents``: list, upload (indexed like `rag index`) and delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from rag.api.deps import RuntimeDep
from rag.api.models import DocumentList, DocumentOut, UploadResponse
from rag.serialize import record_dict
from rag.uploads import check_upload, ingest

router = APIRouter(prefix="/api", tags=["documents"])


@router.get("/documents", response_model=DocumentList)
def documents(runtime: RuntimeDep, collection: str | None = None) -> DocumentList:
    """Indexed documents, newest first."""
    records = runtime.engine(collection).documents()
    return DocumentList(documents=[DocumentOut(**record_dict(r)) for r in records])


@router.post("/documents", response_model=UploadResponse,
             responses={413: {"description": "A file over the upload limit."},
                        415: {"description": "A file type the loaders cannot read."}})
def upload(files: Annotated[list[UploadFile], File(description="txt, md, html, pdf or jsonl files.")],
           runtime: RuntimeDep, collection: str | None = None) -> UploadResponse:
    """Upload files: each is saved under the data folder and indexed into the collection; one report each."""
    engine = runtime.engine(collection)
    for f in files:  # refuse the whole request before saving anything
        check_upload(f.filename or "", f.size, engine.settings.max_upload_bytes)
    reports = ingest(engine, [(f.filename or "upload", f.file) for f in files])
    return UploadResponse(files=[r.to_dict() for r in reports])


@router.delete("/documents/{doc_id}", response_model=DocumentOut,
               responses={404: {"description": "Unknown document id."}})
def delete(doc_id: str, runtime: RuntimeDep, collection: str | None = None) -> DocumentOut:
    """Remove a document and its passages from the index."""
    return DocumentOut(**record_dict(runtime.engine(collection).delete_document(doc_id)))
