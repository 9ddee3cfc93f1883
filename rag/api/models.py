"""Request and response models of the API; their constraints and examples document it at /docs."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.answer.conversation import history_pairs
from rag.api.public import Source, Text
from rag.pipeline import MAX_K
from rag.types import Citation

QUESTION = "How many Indian troops died in the Pathankot attack?"


AS_OF = ("Answer as of this day: passages dated after it are left out, and those from the weeks "
         "before it rank higher (news: \"what happened recently?\").")


class ContentPart(BaseModel):
    """One OpenAI content part; only ``text`` parts are read."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: Text | None = None


class HistoryMessage(BaseModel):
    """An earlier message in OpenAI's form; content as a string or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Text | list[ContentPart] | None = None


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

    question: Text = Field(min_length=1, description="The question (at most RAG_MAX_QUESTION_CHARS, "
                          "2000 by default).", examples=[QUESTION])
    history: list[tuple[Text, Text] | HistoryMessage] = Field(
        default_factory=list, max_length=100, description="Earlier turns, oldest first: [user, assistant] "
        "pairs, or OpenAI-style {role, content} messages (system messages are ignored).")

    def history_pairs(self) -> list[tuple[str, str]]:
        """The history as (user, assistant) pairs, whichever form it came in."""
        return history_pairs(self.model_dump()["history"])
    k: int | None = Field(None, ge=1, le=MAX_K, description="Passages to retrieve (default 5).")
    collection: Text | None = Field(None, description="Another collection of this index.")
    since: dt.date | None = Field(None, description="Only passages dated on or after this day.")
    until: dt.date | None = Field(None, description="Only passages dated on or before this day.")
    as_of: dt.date | None = Field(None, description=AS_OF)
    stream: bool = Field(False, description="Answer as server-sent events: `text` events with the "
                         "answer's pieces, then one `answer` event with the whole answer and citations.")


class AskResponse(BaseModel):
    """The answer with inline [n] markers and its citations: the shape of `rag ask --json`."""

    question: str
    answer: str = Field(examples=["Seven Indian security personnel were killed. [1]"])
    answered: bool = Field(description="False when the documents do not contain the answer.")
    citations: list[Citation] = Field(description="Numbered citations: each quoted sentence, its offsets "
                                      "in its document, and whether it supports the answer.")
    backend: str = "extractive"
    notice: str | None = Field(None, description="Why the answer differs from what was asked for, e.g. a "
                               "fallback from an unreachable LLM to the extractive answer.")
    unsupported: list[str] = Field(default_factory=list, description="Generated sentences that no cited "
                                   "passage supports (LLM backends).")


class SearchRequest(BaseModel):
    """A search query: ranked passages, no answer."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"query": "Pathankot attack", "k": 3}]})

    query: Text = Field(min_length=1, examples=["Pathankot attack"])
    k: int | None = Field(None, ge=1, le=MAX_K, description="Passages to return (default 5).")
    collection: Text | None = None
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
    source: Source
    date: str | None
    page: int | None
    start: int
    end: int
    text: str
    duplicates: list[Source] = Field(default_factory=list,
                                  description="Sources of near-duplicate passages collapsed into this one.")


class SearchResponse(BaseModel):
    """Passages ranked best first."""

    query: str
    ranked_by: str = Field(description="The score the order follows: similarity, lexical or fused.",
                           examples=["fused"])
    results: list[Passage]


class DocumentOut(BaseModel):
    """An indexed document."""

    id: str
    title: str
    source: Source
    date: str | None
    sha256: str
    chunks: int
    indexed_at: float


class DocumentList(BaseModel):
    """Every indexed document, newest first."""

    documents: list[DocumentOut]


class CollectionList(BaseModel):
    """The index's collections, each with its chunk count: the names ``?collection=`` takes."""

    collections: dict[str, int] = Field(examples=[{"documents": 3, "notes": 9}])


class LineReportOut(BaseModel):
    """What happened to one line of an uploaded .jsonl file."""

    line: int
    status: str = Field(description="indexed or failed.")
    id: str | None = None
    reason: str | None = None


class FileReportOut(BaseModel):
    """What happened to one uploaded file."""

    filename: str
    saved_as: str | None = Field(description="Its name under the upload area: the sanitized name, plus "
                                 "a short hash of the name as sent when sanitizing changed it.")
    status: str = Field(description="added, updated, unchanged or failed.")
    chunks: int = 0
    reason: str | None = None
    lines: list[LineReportOut] | None = Field(None, description="One report per line (.jsonl files).")


class UploadResponse(BaseModel):
    """One report per uploaded file."""

    files: list[FileReportOut]


class ErrorOut(BaseModel):
    """Every error: one line saying what is wrong (under /v1 also OpenAI's ``error`` object)."""

    detail: str = Field(examples=["the question is empty"])


ERRORS = {code: {"model": ErrorOut, "description": text} for code, text in (
    (400, "Malformed JSON."), (401, "Missing or wrong token."), (403, "The read token cannot change "
    "documents."), (404, "Unknown citation, document, collection or model."), (409, "An id already "
    "belongs to another file's document."), (413, "A file over the upload limit."), (415, "A file type "
    "the loaders cannot read."), (422, "Bad values."), (503, "Loading, or the index or Chroma server "
    "cannot be used right now."))}


class Health(BaseModel):
    """Whether the model and the store are loaded."""

    status: str = Field(description="ready, loading, failed, or unavailable (the index or the Chroma "
                        "server cannot be used right now; detail says why).")
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
