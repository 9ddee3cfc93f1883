"""``/v1``: an OpenAI-compatible chat endpoint (model ``rag``) so any OpenAI client or bot can ask."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from rag.answer.conversation import history_pairs, message_text
from rag.api import sse
from rag.api.deps import RuntimeDep
from rag.api.models import HistoryMessage
from rag.errors import InvalidRequest, RagError
from rag.pipeline import Event, Final, TextPiece
from rag.serialize import answer_dict
from rag.types import Answer

MODEL = "rag"
log = logging.getLogger("rag.serve")
router = APIRouter(prefix="/v1", tags=["openai-compatible"])


class ChatMessage(HistoryMessage):
    """One message; content as a string or OpenAI content parts."""

    def text(self) -> str:
        """The message's text, joining text parts."""
        return message_text(self.model_dump()["content"])


class ChatRequest(BaseModel):
    """The parts of an OpenAI chat request this server uses; other fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"model": MODEL, "messages": [{"role": "user", "content": "How many Indian troops died in the "
                                                                  "Pathankot attack?"}]}]})

    model: str = Field(MODEL, examples=[MODEL])
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    collection: str | None = Field(None, description="Another collection of this index (or model "
                                   "`rag:COLLECTION`).")


@router.get("/models")
def models(runtime: RuntimeDep) -> dict:
    """``rag`` (the server's collection), and ``rag:NAME`` for each collection of the index."""
    names = [MODEL, *(f"{MODEL}:{name}" for name in runtime.engine().collections())]
    return {"object": "list",
            "data": [{"id": n, "object": "model", "created": 0, "owned_by": "rag"} for n in names]}


@router.post("/chat/completions")
def chat(body: ChatRequest, runtime: RuntimeDep):
    """Answer the last user message from the documents; `citations` carries the sources."""
    name, _, collection = body.model.partition(":")
    if name != MODEL:
        raise HTTPException(404, f"unknown model {body.model!r}; this server serves {MODEL!r} "
                                 f"and {MODEL}:COLLECTION")
    question, history = conversation(body.messages)
    engine = runtime.engine(body.collection or collection or None)
    reply = _Reply(prompt_tokens(body.messages))
    if not body.stream:
        return reply.completion(engine.ask(question, history))
    events = engine.ask_stream(question, history)  # a bad question is a 4xx here, before streaming
    return sse.stream(reply.chunks(events))


def conversation(messages: list[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The last user message, and the earlier user/assistant turns as pairs."""
    if messages[-1].role != "user":
        raise InvalidRequest("the last message must come from the user")
    return messages[-1].text(), history_pairs(m.model_dump() for m in messages[:-1])


def count_tokens(text: str) -> int:
    """Tokens as `usage` counts them: whitespace-separated words (no tokenizer runs for quoted answers)."""
    return len(text.split())


def prompt_tokens(messages: list[ChatMessage]) -> int:
    """The prompt's tokens: every message the client sent."""
    return sum(count_tokens(m.text()) for m in messages)


class _Reply:
    """Builds completion objects sharing one id, timestamp and prompt size."""

    def __init__(self, prompt_tokens: int) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.prompt_tokens = prompt_tokens

    def usage(self, answer: Answer) -> dict:
        """OpenAI's `usage` object for an answer."""
        completion = count_tokens(answer.answer)
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": completion,
                "total_tokens": self.prompt_tokens + completion}

    def _head(self, kind: str) -> dict:
        """The fields every completion object starts with."""
        return {"id": self.id, "object": kind, "created": self.created, "model": MODEL}

    def completion(self, answer: Answer) -> dict:
        """A whole chat.completion with the answer and its citations."""
        message = {"role": "assistant", "content": answer.answer}
        return {**self._head("chat.completion"), "answered": answer.answered, "notice": answer.notice,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "citations": answer_dict(answer)["citations"], "usage": self.usage(answer)}

    def chunk(self, delta: dict, finish: str | None = None, **extra: object) -> str:
        """One chat.completion.chunk as an SSE message."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return sse.event({**self._head("chat.completion.chunk"), "choices": [choice], **extra})

    def chunks(self, events: Iterator[Event]) -> Iterator[str]:
        """The role, the answer's pieces, a last chunk carrying the citations and usage, then [DONE]."""
        yield self.chunk({"role": "assistant", "content": ""})
        try:
            for event in events:
                match event:
                    case TextPiece(text=text):
                        yield self.chunk({"content": text})
                    case Final(answer=answer):
                        yield self.chunk({}, "stop", answered=answer.answered, notice=answer.notice,
                                         citations=answer_dict(answer)["citations"], usage=self.usage(answer))
        except RagError as exc:
            yield sse.event({"error": {"message": str(exc), "type": "rag_error"}})
        except Exception:
            log.exception("streaming a chat completion failed")
            yield sse.event({"error": {"message": "internal error; the server log has the details",
                                       "type": "server_error"}})
        yield sse.event("[DONE]")
