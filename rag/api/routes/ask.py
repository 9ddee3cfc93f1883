"""``/api/ask`` and ``/api/search``: answers with citations, and ranked passages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import chain

from fastapi import APIRouter

from rag.api import sse
from rag.api.deps import RuntimeDep
from rag.api.models import AskRequest, AskResponse, Passage, SearchRequest, SearchResponse
from rag.errors import RagError
from rag.serialize import passage_dict
from rag.types import Answer, Filters

router = APIRouter(prefix="/api", tags=["answers"])
log = logging.getLogger("rag.serve")


def filters(body: AskRequest | SearchRequest) -> Filters:
    """The request's date filters and as-of date."""
    return Filters(*(d.isoformat() if d else None for d in (body.since, body.until, body.as_of)))


@router.post("/ask", response_model=AskResponse, responses={200: {"content": {"text/event-stream": {}}}})
def ask(body: AskRequest, runtime: RuntimeDep):
    """Answer a question from the documents with numbered citations; `stream: true` for SSE."""
    engine = runtime.engine(body.collection)
    when = filters(body)
    if not body.stream:
        return engine.ask(body.question, body.history_pairs(), body.k, when).to_dict()
    pieces = engine.ask_stream(body.question, body.history_pairs(), body.k, when)
    first = next(pieces)  # errors in the request surface here, as a 4xx, before streaming starts
    return sse.stream(_answer_events(chain([first], pieces)))


def _answer_events(pieces: Iterator[str | Answer]) -> Iterator[str]:
    """`text` events for the answer's pieces, then one `answer` event; a failure is an `error` event."""
    try:
        for piece in pieces:
            if isinstance(piece, Answer):
                yield sse.event(piece.to_dict(), "answer")
            else:
                yield sse.event({"text": piece}, "text")
    except RagError as exc:
        yield sse.event({"detail": str(exc)}, "error")
    except Exception:
        log.exception("streaming an answer failed")
        yield sse.event({"detail": "internal error; the server log has the details"}, "error")


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, runtime: RuntimeDep) -> SearchResponse:
    """Ranked passages with scores and offsets, without an answer."""
    engine = runtime.engine(body.collection)
    results = engine.search(body.query, body.k, filters(body))
    return SearchResponse(query=body.query, ranked_by=engine.retriever.ranks_by,
                          results=[Passage(**passage_dict(r)) for r in results])
