"""``/v1``: an OpenAI-compatible chat endpoint (model ``rag``) so any OpenAI client or bot can ask."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from itertools import chain
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from rag.answer.conversation import history_pairs, message_text
from rag.api import sse
from rag.api.deps import RuntimeDep
from rag.errors import InvalidRequest, RagError
from rag.types import Answer

MODEL = "rag"
log = logging.getLogger("rag.serve")
router = APIRouter(prefix="/v1", tags=["openai-compatible"])


class ChatMessage(BaseModel):
    """One message; content as a string or OpenAI content parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text, joining text parts."""
        return message_text(self.content)


class ChatRequest(BaseModel):
    """The parts of an OpenAI chat request this server uses; other fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"model": MODEL, "messages": [{"role": "user", "content": "How many Indian troops died in the "
                                                                  "Pathankot attack?"}]}]})

    model: str = Field(MODEL, examples=[MODEL])
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


@router.get("/models")
def models() -> dict:
    """The one model served: ``rag``."""
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "rag"}]}


@router.post("/chat/completions")
def chat(body: ChatRequest, runtime: RuntimeDep):
    """Answer the last user message from the documents; `citations` carries the sources."""
    if body.model != MODEL:
        raise HTTPException(404, f"unknown model {body.model!r}; this server serves {MODEL!r}")
    question, history = conversation(body.messages)
    engine, reply = runtime.engine(), _Reply(prompt_tokens(body.messages))
    if not body.stream:
        return reply.completion(engine.ask(question, history))
    pieces = engine.ask_stream(question, history)
    first = next(pieces)  # a bad question is a 4xx here, before streaming starts
    return sse.stream(reply.chunks(chain([first], pieces)))


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
                "citations": answer.to_dict()["citations"], "usage": self.usage(answer)}

    def chunk(self, delta: dict, finish: str | None = None, **extra: object) -> str:
        """One chat.completion.chunk as an SSE message."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return sse.event({**self._head("chat.completion.chunk"), "choices": [choice], **extra})

    def chunks(self, pieces: Iterator[str | Answer]) -> Iterator[str]:
        """The role, the answer's pieces, a last chunk carrying the citations and usage, then [DONE]."""
        yield self.chunk({"role": "assistant", "content": ""})
        try:
            for piece in pieces:
                if isinstance(piece, Answer):
                    yield self.chunk({}, "stop", answered=piece.answered, notice=piece.notice,
                                     citations=piece.to_dict()["citations"], usage=self.usage(piece))
                else:
                    yield self.chunk({"content": piece})
        except RagError as exc:
            yield sse.event({"error": {"message": str(exc), "type": "rag_error"}})
        except Exception:
            log.exception("streaming a chat completion failed")
            yield sse.event({"error": {"message": "internal error; the server log has the details",
                                       "type": "server_error"}})
        yield sse.event("[DONE]")
