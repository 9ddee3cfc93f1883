"""Request and response models of the API; their constraints and examples document it at /docs."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.answer.conversation import history_pairs
from rag.engine import MAX_K

QUESTION = "How many Indian troops died in the Pathankot attack?"
_CITATION_ID = "0123456789abcdef-1830-1934"


AS_OF = ("Answer as of this day: passages dated after it are left out, and those from the weeks "
         "before it rank higher (news: \"what happened recently?\").")


class HistoryMessage(BaseModel):
    """An earlier message in OpenAI's form; content as a string or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


class AskRequest(BaseModel):
    """A question, with the conversation so far for follow-ups."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": QUESTION},
        {"question": "And the Indian one?",
         "history": [["Who led the US delegation?", "Ambassador Nathan Sales led it. [1]"]]},
        {"question": "And the Indian one?",
         "history": [{"role": "user", "content": "Who led the US delegation?"},
                     {"role": "assistant", "content": "Ambassador Nathan Sales led it. [1]"}]},
        {"question": QUESTION, "k": 3, "stream": True, "since": "2020-01-01"},
    ]})

    question: str = Field(min_length=1, description="The question (at most RAG_MAX_QUESTION_CHARS, "
                          "2000 by default).", examples=[QUESTION])
    history: list[tuple[str, str] | HistoryMessage] = Field(
        default_factory=list, max_length=100, description="Earlier turns, oldest first: [user, assistant] "
        "pairs, or OpenAI-style {role, content} messages (system messages are ignored).")

    def history_pairs(self) -> list[tuple[str, str]]:
        """The history as (user, assistant) pairs, whichever form it came in."""
        return history_pairs(self.model_dump()["history"])
    k: int | None = Field(None, ge=1, le=MAX_K, description="Passages to retrieve (default 5).")
    collection: str | None = Field(None, description="Another collection of this index.")
    since: dt.date | None = Field(None, description="Only passages dated on or after this day.")
    until: dt.date | None = Field(None, description="Only passages dated on or before this day.")
    as_of: dt.date | None = Field(None, description=AS_OF)
    stream: bool = Field(False, description="Answer as server-sent events: `text` events with the "
                         "answer's pieces, then one `answer` event with the whole answer and citations.")


class CitationOut(BaseModel):
    """A numbered citation: the quoted sentence, where it is, and whether it supports the answer."""

    n: int
    id: str = Field(description="Citation id, resolvable at /api/citations/{id}.",
                    examples=[_CITATION_ID])
    doc_id: str
    title: str
    source: str
    date: str | None
    quote: str = Field(description="The quoted sentence: document text from `start` to `end`.")
    start: int
    end: int
    chunk_id: str
    score: float
    passage: str = Field(description="The retrieved passage the quote comes from.")
    passage_start: int
    page: int | None = None
    verified: bool = Field(True, description="False when the cited passage was not found to support "
                           "the sentence (generated answers).")
    answer_span: tuple[int, int] | None = Field(
        None, description="Document offsets [start, end], inside the quote, of the words that answer the "
        "question (a number, date or name); null when none stands out.", examples=[[1849, 1852]])


class AskResponse(BaseModel):
    """The answer with inline [n] markers and its citations: the shape of `rag ask --json`."""

    question: str
    answer: str = Field(examples=["Seven Indian security personnel were killed. [1]"])
    answered: bool = Field(description="False when the documents do not contain the answer.")
    citations: list[CitationOut]
    backend: str = "extractive"
    notice: str | None = Field(None, description="Why the answer differs from what was asked for, e.g. a "
                               "fallback from an unreachable LLM to the extractive answer.")
    unsupported: list[str] = Field(default_factory=list, description="Generated sentences that no cited "
                                   "passage supports (LLM backends).")


class SearchRequest(BaseModel):
    """A search query: ranked passages, no answer."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"query": "Pathankot attack", "k": 3}]})

    query: str = Field(min_length=1, examples=["Pathankot attack"])
    k: int | None = Field(None, ge=1, le=MAX_K, description="Passages to return (default 5).")
    collection: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    as_of: dt.date | None = Field(None, description=AS_OF)


class Passage(BaseModel):
    """A retrieved passage with its scores and its offsets in its document."""

    similarity: float | None = Field(description="Cosine similarity of the passage to the query.")
    lexical: float | None = Field(description="BM25 score (null when the passage matched no word).")
    fused: float | None = Field(description="Hybrid ranking score (null unless lists were fused).")
    chunk_id: str
    doc_id: str
    title: str
    source: str
    date: str | None
    page: int | None
    start: int
    end: int
    text: str
    duplicates: list[str] = Field(default_factory=list,
                                  description="Sources of near-duplicate passages collapsed into this one.")


class SearchResponse(BaseModel):
    """Passages ranked best first."""

    query: str
    ranked_by: str = Field(description="The score the order follows: similarity, lexical or fused.",
                           examples=["fused"])
    results: list[Passage]


class CitationLookupOut(BaseModel):
    """A cited sentence in its document: the passage, its offsets and the text around it."""

    id: str
    doc_id: str
    title: str
    source: str
    date: str | None
    page: int | None
    quote: str
    start: int
    end: int
    chunk_id: str
    passage: str
    passage_start: int
    passage_end: int
    before: str = Field(description="Document text just before the passage.")
    after: str = Field(description="Document text just after the passage.")


class DocumentOut(BaseModel):
    """An indexed document."""

    id: str
    title: str
    source: str
    date: str | None
    sha256: str
    chunks: int
    indexed_at: float


class DocumentList(BaseModel):
    """Every indexed document, newest first."""

    documents: list[DocumentOut]


class FileReportOut(BaseModel):
    """What happened to one uploaded file."""

    filename: str
    saved_as: str | None
    status: str = Field(description="added, updated, unchanged or failed.")
    chunks: int = 0
    reason: str | None = None


class UploadResponse(BaseModel):
    """One report per uploaded file."""

    files: list[FileReportOut]


class Health(BaseModel):
    """Whether the model and the store are loaded."""

    status: str = Field(description="ready, loading or failed.")
    detail: str | None = None
    collection: str | None = None
    chunks: int | None = None


class ConversationSummaryOut(BaseModel):
    """A saved conversation as listed: its title is its first question unless renamed."""

    id: str
    title: str
    collection: str | None
    created: float
    updated: float


class ConversationList(BaseModel):
    """Saved conversations, the most recently continued first."""

    conversations: list[ConversationSummaryOut]


class ConversationOut(ConversationSummaryOut):
    """A saved conversation with every answer and its citations, oldest first."""

    answers: list[AskResponse]


class ConversationRename(BaseModel):
    """A new title for a conversation."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, examples=["Pathankot and the delegations"])
