"""Domain errors and bad requests become 4xx responses with ``{"detail": message}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.errors import (
    CitationNotFound,
    CollectionNotFound,
    ConversationNotFound,
    DocumentNotFound,
    IndexDamaged,
    IndexLocked,
    IndexMismatch,
    NotReady,
    RagError,
    UnsupportedFile,
    UploadTooLarge,
)

STATUS = [
    ((CitationNotFound, DocumentNotFound, CollectionNotFound, ConversationNotFound), 404),
    ((UnsupportedFile,), 415),
    ((NotReady, IndexLocked, IndexMismatch, IndexDamaged), 503),
    ((UploadTooLarge,), 413),
]


def status_for(exc: RagError) -> int:
    """The HTTP status of a domain error; plain bad requests are 422."""
    return next((code for kinds, code in STATUS if isinstance(exc, kinds)), 422)


def reply(request: Request, message: str, status: int, headers: dict | None = None) -> JSONResponse:
    """``{"detail": message}``; under /v1 also OpenAI's ``{"error": {...}}`` so its clients show it."""
    body: dict = {"detail": message}
    if request.url.path.startswith("/v1/"):
        body["error"] = {"message": message, "type": "invalid_request_error", "code": status}
    return JSONResponse(body, status_code=status, headers=headers)


def rag_error(request: Request, exc: RagError) -> JSONResponse:
    """A domain error as a 4xx (or 503 while the server cannot answer)."""
    headers = {"Retry-After": "2"} if isinstance(exc, NotReady) else None
    return reply(request, str(exc), status_for(exc), headers)


def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Errors raised as HTTPException (401, 404 ...) in the same shape."""
    return reply(request, str(exc.detail), exc.status_code, exc.headers)


def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Malformed JSON is a 400; values out of range a 422; both with one readable message."""
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return reply(request, "malformed JSON in the request body", 400)
    return reply(request, "; ".join(_describe(e) for e in errors), 422)


def _describe(error: dict) -> str:
    """``field: message`` for one validation error."""
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))


def internal_error(request: Request, _: Exception) -> JSONResponse:
    """An unexpected failure, answered without its trace (the server logs it)."""
    return reply(request, "internal error; the server log has the details", 500)


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(RagError, rag_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, bad_request)
    app.add_exception_handler(Exception, internal_error)
