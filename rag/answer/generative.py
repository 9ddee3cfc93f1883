"""Generated answers: the LLM's stages of the pipeline (condense, generate, verify), as LCEL chains.

The order of a question's stages lives in rag.pipeline; a model fault raises ModelFailed, on
which the pipeline falls back to the extractive answer.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

from rag.answer.conversation import standalone_query
from rag.answer.extractive import NOT_FOUND
from rag.answer.llm import ChatBackend
from rag.answer.policy import AnswerPolicy
from rag.errors import ModelFailed
from rag.types import Answer, ScoredChunk

ANSWER_SYSTEM = (
    "You answer questions using only the numbered passages the user gives you. The answer is usually "
    "in one of them, often in other words than the question: read every passage before you decide. "
    "Answer in one or two short sentences that state the answer itself (a name, number, date, place "
    "or fact), each followed by the number of the passage it comes from in square brackets, like [1]. "
    "Do not write sentences about the passages, such as where the information is found. Only when no "
    "passage answers the question, reply exactly: " + NOT_FOUND)
CONDENSE_SYSTEM = (
    "Rewrite the user's last question so that it can be understood without the conversation. "
    "Reply with the rewritten question only.")
History = list[tuple[str, str]]
_DONE = object()


def format_passages(passages: list[ScoredChunk]) -> str:
    """Numbered passages with their title and date, as the prompt shows them."""
    blocks = []
    for n, p in enumerate(passages, start=1):
        when = f" ({p.chunk.date})" if p.chunk.date else ""
        blocks.append(f"[{n}] {p.chunk.title}{when}\n{p.chunk.text.strip()}")
    return "\n\n".join(blocks)


def format_history(history: History) -> str:
    """The conversation as plain lines for the condensing prompt."""
    return "\n".join(f"User: {user}\nAssistant: {assistant}" for user, assistant in history)


class GenerativeAnswerer:
    """Answers with an LLM from retrieved passages and verifies every citation."""

    def __init__(self, backend: ChatBackend, policy: AnswerPolicy, timeout: float) -> None:
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_core.runnables import RunnableLambda, RunnablePassthrough

        self.backend = backend
        self.timeout = timeout
        self.policy = policy
        self.condense_chain = (ChatPromptTemplate.from_messages(
            [("system", CONDENSE_SYSTEM),
             ("human", "Conversation:\n{history}\n\nLast question: {question}")])
            | backend.model | StrOutputParser())
        self.generate = (
            RunnablePassthrough.assign(passages=RunnableLambda(lambda x: format_passages(x["passages"])))
            | ChatPromptTemplate.from_messages(
                [("system", ANSWER_SYSTEM), ("human", "Passages:\n\n{passages}\n\nQuestion: {question}")])
            | backend.model | StrOutputParser())

    def condense(self, question: str, history: History | None) -> str:
        """The question rewritten by the model to stand alone when there is a conversation."""
        if not history:
            return question
        inputs = {"history": format_history(history), "question": question}
        try:
            rewritten = " ".join("".join(self._within_timeout(self.condense_chain, inputs)).split())
        except Exception as exc:  # any failure of the remote model, whatever the client raises
            raise self._failed(exc) from exc
        return rewritten if 3 <= len(rewritten) <= 500 else standalone_query(question, history)

    def stream(self, question: str, passages: list[ScoredChunk]) -> Iterator[str]:
        """The answer's tokens as the model writes them; ModelFailed on a down, slow or garbled model."""
        text = ""
        try:
            for token in self._tokens(question, passages):
                text += token
                yield token
            if not text.strip():
                raise ValueError("the model returned an empty answer")
        except Exception as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: Exception) -> ModelFailed:
        """The fault as one line saying which model failed and how."""
        return ModelFailed(f"The language model ({self.backend.name} at {self.backend.where}) failed: "
                           f"{describe_fault(exc, self.timeout)}.")

    def _tokens(self, question: str, passages: list[ScoredChunk]) -> Iterator[str]:
        """The generation chain's tokens, cut off when the answer outlasts the timeout."""
        return self._within_timeout(self.generate, {"question": question, "passages": passages})

    def _within_timeout(self, chain, inputs: dict) -> Iterator[str]:
        """A chain's stream, read from a worker thread so that a stalled endpoint cannot hang us.

        Closing a LangChain stream early reads the rest of the HTTP reply first, so a timed-out
        stream is abandoned to the daemon worker instead of being closed here.
        """
        tokens: queue.Queue = queue.Queue()
        stop = threading.Event()
        threading.Thread(target=_pump, args=(chain, inputs, tokens, stop), daemon=True).start()
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                try:
                    item = tokens.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise TimeoutError(f"no complete answer within {self.timeout:g} s") from None
                if item is _DONE:
                    return
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            stop.set()

    def verify(self, question: str, query: str, text: str, passages: list[ScoredChunk]) -> Answer:
        """The generated text checked against the passages: marked, trimmed, or extractive instead."""
        return self.policy.answer(question, query, text, passages, self.backend.name)



def _pump(chain, inputs: dict, tokens: queue.Queue, stop: threading.Event) -> None:
    """Put the chain's tokens on the queue, then _DONE, or the exception that ended it."""
    try:
        for token in chain.stream(inputs):
            if stop.is_set():
                return
            tokens.put(token)
        tokens.put(_DONE)
    except Exception as exc:  # handed to the reader, which falls back with a notice
        tokens.put(exc)


def describe_fault(exc: Exception, timeout: float) -> str:
    """A one-line, human reason for a failed model call."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return f"no answer within {timeout:g} s"
    if status is not None:
        return f"it answered HTTP {status}"
    if "Connection" in name or isinstance(exc, ConnectionError):
        return "could not connect"
    return f"its reply could not be read ({name}: {' '.join(str(exc).split())[:120]})"
