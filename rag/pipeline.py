"""The stages of a question, in one place: condense -> retrieve -> rerank -> gate -> answer -> verify.

Every face (CLI, API, window, ``rag eval``) builds this pipeline from settings (``build_pipeline``)
and reads the same typed events: ``TextPiece``s as the answer is produced, then one ``Final``.
Adding a stage is a module with the stage's one method and a line in ``RERANKERS``; ``rag eval``
measures whatever stages the pipeline has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, ClassVar, Protocol

from rag.answer.conversation import standalone_query
from rag.answer.extractive import NOT_FOUND, ExtractiveAnswerer, dated_pieces
from rag.embedding import Embedder
from rag.errors import InvalidRequest, ModelFailed
from rag.retrieve.dedup import collapse
from rag.retrieve.recency import Recency
from rag.retrieve.retrievers import Retriever, make_retriever
from rag.serialize import answer_dict
from rag.settings import Settings
from rag.store.base import Store
from rag.types import Answer, Filters, ScoredChunk

if TYPE_CHECKING:
    from rag.answer.generative import GenerativeAnswerer

MAX_K = 50
WIDEN = 3  # candidates retrieved per passage kept, so that near-duplicates can be collapsed
History = list[tuple[str, str]]
RERANKERS: dict[str, str] = {}  # RAG_RERANK name -> "module:Class", built with (settings, embedder)


@dataclass(frozen=True)
class TextPiece:
    """A piece of the answer's text, as it is produced."""

    text: str
    kind: ClassVar[str] = "text"

    def to_json(self) -> dict:
        """The piece as the API streams it."""
        return {"text": self.text}


@dataclass(frozen=True)
class Final:
    """The last event: the whole answer with its citations."""

    answer: Answer
    kind: ClassVar[str] = "answer"

    def to_json(self) -> dict:
        """The answer as the API sends it."""
        return answer_dict(self.answer)


Event = TextPiece | Final


def final_answer(events: Iterable[Event], on_text: Callable[[str], None] | None = None) -> Answer:
    """The answer at the end of a stream, handing each text piece to ``on_text`` on the way."""
    for event in events:
        match event:
            case TextPiece(text=text) if on_text:
                on_text(text)
            case Final(answer=answer):
                return answer
    raise RuntimeError("the answer stream ended without an answer")


class Condense(Protocol):
    """Turns a follow-up into a question that stands alone."""

    def condense(self, question: str, history: History | None) -> str: ...


class Rerank(Protocol):
    """Reorders (or trims) the retrieved passages."""

    def rerank(self, query: str, passages: list[ScoredChunk]) -> list[ScoredChunk]: ...


class RuleCondenser:
    """The follow-up rule without a model: a short or pronoun-led question gets the previous one."""

    def condense(self, question: str, history: History | None) -> str:
        """The standalone retrieval query."""
        return standalone_query(question, history)


@dataclass
class Pipeline:
    """A question's stages; ``stream`` runs them, ``ask`` returns the last event's answer."""

    retriever: Retriever
    extractive: ExtractiveAnswerer  # answers, or (with a model) gates and stands in on a fault
    condenser: Condense = field(default_factory=RuleCondenser)
    rerankers: tuple[Rerank, ...] = ()
    generator: GenerativeAnswerer | None = None  # the model's stages, or None for quoted answers
    top_k: int = 5
    max_chars: int = 2000
    max_input_chars: int = 20000  # the question and its history together

    @property
    def ranks_by(self) -> str:
        """The score the results are ordered by: similarity, lexical or fused."""
        return self.retriever.ranks_by

    def ask(self, question: str, history: History | None = None, k: int | None = None,
            filters: Filters = Filters()) -> Answer:
        """The answer: the last event of ``stream``."""
        return final_answer(self.stream(question, history, k, filters))

    def stream(self, question: str, history: History | None = None, k: int | None = None,
               filters: Filters = Filters()) -> Iterator[Event]:
        """Condense, retrieve, rerank, then the answer stages; a bad request fails before any event."""
        question, k = self.check(question, "question"), self.check_k(k)
        self.check_input(question, history)
        return self._stream(question, history, k, filters)

    def _stream(self, question: str, history: History | None, k: int,
                filters: Filters) -> Iterator[Event]:
        try:
            query = self.condenser.condense(question, history)
        except ModelFailed as fault:
            query = standalone_query(question, history)
            yield from self._fall_back(question, query, self.retrieve(query, k, filters), fault, False)
            return
        yield from self.answer(question, query, self.retrieve(query, k, filters))

    def search(self, query: str, k: int | None = None, filters: Filters = Filters()) -> list[ScoredChunk]:
        """Ranked passages for a query, checked like a question."""
        return self.retrieve(self.check(query, "query"), self.check_k(k), filters)

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k best distinct passages: ranked, reranked, near-duplicates collapsed."""
        return collapse(self.rank(query, k * WIDEN, filters))[:k]

    def rank(self, query: str, n: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The retriever's n best chunks after every rerank stage (what rag eval scores)."""
        passages = self.retriever.retrieve(query, n, filters)
        for stage in self.rerankers:
            passages = stage.rerank(query, passages)
        return passages

    def answer(self, question: str, query: str, passages: list[ScoredChunk]) -> Iterator[Event]:
        """Gate, answer and verify: text pieces, then the Final answer."""
        if self.generator is None:
            yield from self._quote(question, query, passages)
        elif self.extractive.declines(query, passages):  # before any model call
            yield Final(Answer(question=question, answer=NOT_FOUND, answered=False,
                               backend=self.generator.backend.name))
        else:
            yield from self._generate(question, query, passages)

    def _quote(self, question: str, query: str, passages: list[ScoredChunk]) -> Iterator[Event]:
        """The extractive answer, one cited sentence at a time (it declines by itself)."""
        answer = self.extractive.answer(question, passages, query)
        pieces = dated_pieces(answer.citations) if answer.answered else [answer.answer]
        yield from (TextPiece(piece) for piece in pieces)
        yield Final(answer)

    def _generate(self, question: str, query: str, passages: list[ScoredChunk]) -> Iterator[Event]:
        """The model's tokens, then its verified answer; the extractive one on a model fault."""
        text = ""
        try:
            for token in self.generator.stream(query, passages):  # a follow-up as it stands alone
                text += token
                yield TextPiece(token)
        except ModelFailed as fault:
            yield from self._fall_back(question, query, passages, fault, bool(text))
            return
        yield Final(self.generator.verify(question, query, text, passages))

    def _fall_back(self, question: str, query: str, passages: list[ScoredChunk], fault: ModelFailed,
                   streamed: bool) -> Iterator[Event]:
        """The extractive answer with a notice saying why the model's answer is missing."""
        answer = self.extractive.answer(question, passages, query)
        answer.notice = f"{fault} Showing the extractive answer instead."
        yield TextPiece(("\n\n" if streamed else "") + answer.answer)
        yield Final(answer)

    def check(self, text: str, what: str) -> str:
        """A non-empty, not over-long question or query."""
        text = (text or "").strip()
        if not text:
            raise InvalidRequest(f"the {what} is empty")
        if len(text) > self.max_chars:
            raise InvalidRequest(f"the {what} is {len(text)} characters long; the limit is {self.max_chars}")
        return text

    def check_input(self, question: str, history: History | None) -> None:
        """The question and the conversation so far must fit RAG_MAX_INPUT_CHARS together."""
        total = len(question) + sum(len(q) + len(a) for q, a in history or ())
        if total > self.max_input_chars:
            raise InvalidRequest(f"the question and its history are {total} characters long; the limit is "
                                 f"{self.max_input_chars} (RAG_MAX_INPUT_CHARS)")

    def check_k(self, k: int | None) -> int:
        """k within 1..MAX_K (the default when None)."""
        k = self.top_k if k is None else k
        if not 1 <= k <= MAX_K:
            raise InvalidRequest(f"k must be between 1 and {MAX_K}, got {k}")
        return k


def build_pipeline(settings: Settings, store: Store, embedder: Embedder,
                   retriever: Retriever | None = None) -> Pipeline:
    """The pipeline the settings describe, over one store (``retriever`` replaces the configured one)."""
    s = settings
    extractive = ExtractiveAnswerer(embedder)
    retriever = retriever or make_retriever(s.retriever, store, embedder, s.fusion, s.fusion_weight,
                                            s.fusion_depth, Recency(s.recency_half_life, s.recency_weight))
    rerankers = tuple(_stage(RERANKERS, name, "RAG_RERANK")(s, embedder) for name in s.rerank)
    generator = make_generator(s, embedder, extractive)
    return Pipeline(retriever, extractive, generator or RuleCondenser(), rerankers, generator, s.top_k,
                    s.max_question_chars, s.max_input_chars)


def make_generator(settings: Settings, embedder: Embedder,
                   extractive: ExtractiveAnswerer) -> GenerativeAnswerer | None:
    """The LLM answer stages for settings.llm, or None for extractive answers."""
    from rag.answer.llm import make_chat_backend

    backend = make_chat_backend(settings)
    if backend is None:
        return None
    from rag.answer.generative import GenerativeAnswerer
    from rag.answer.policy import AnswerPolicy
    from rag.answer.verification import Verifier

    policy = AnswerPolicy(Verifier(embedder, settings.min_support), extractive, settings.strict)
    return GenerativeAnswerer(backend, policy, settings.llm_timeout)


def _stage(table: dict[str, str], name: str, setting: str):
    """The class registered under ``name``, or a clear error naming the known ones."""
    if name not in table:
        raise InvalidRequest(f"unknown {setting} stage {name!r}; known: {', '.join(table) or 'none yet'}")
    module, cls = table[name].split(":")
    return getattr(import_module(module), cls)
