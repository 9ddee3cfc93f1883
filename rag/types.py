"""The small records that travel between stages: files -> documents -> chunks -> answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from rag.dates import date_number


@dataclass(frozen=True)
class Document:
    """One loaded document: its whole text and what we know about it."""

    id: str
    title: str
    source: str
    text: str
    sha256: str
    date: str | None = None
    file: str = ""  # the file it was loaded from (several documents may share one jsonl file)
    pages: tuple[int, ...] = ()  # start offset of each page, for PDFs


@dataclass(frozen=True)
class Chunk:
    """A span of a document: ``document.text[start:end] == text``."""

    id: str
    doc_id: str
    index: int
    text: str
    start: int
    end: int
    title: str
    source: str
    date: str | None = None
    page: int | None = None


@dataclass(frozen=True)
class ScoredChunk:
    """A retrieved chunk with each score under its own name (higher is better for all three).

    ``similarity`` is the cosine to the query (what relevance gates compare), ``lexical`` the raw
    BM25 score (None when the chunk did not match the words), ``fused`` the hybrid ranking score
    (None unless lists were fused). A retriever fills in ``similarity`` for all it returns.
    """

    chunk: Chunk
    similarity: float | None = None
    lexical: float | None = None
    fused: float | None = None
    duplicates: tuple[str, ...] = ()  # sources of near-duplicate passages collapsed into this one


@dataclass(frozen=True)
class Filters:
    """What may be retrieved: a date range (ISO dates, inclusive), and the day the question is asked.

    With ``as_of``, passages dated after that day are left out (as with ``until``) and the hybrid
    retriever ranks passages from the days just before it higher (see rag.retrieve.recency).
    Stores translate filters into their own query language (rag/store only).
    """

    since: str | None = None
    until: str | None = None
    as_of: str | None = None

    @property
    def latest(self) -> str | None:
        """The last day a passage may be dated: the earlier of ``until`` and ``as_of``."""
        return min((d for d in (self.until, self.as_of) if d), default=None)

    @property
    def empty(self) -> bool:
        """True when nothing is filtered out."""
        return not self.since and not self.latest

    def admits(self, date: str | None) -> bool:
        """Whether a passage with this date passes (undated ones pass ``until`` but not ``since``)."""
        day = date_number(date)
        return ((not self.since or day >= date_number(self.since))
                and (not self.latest or day <= date_number(self.latest)))


@dataclass(frozen=True)
class Citation:
    """A quoted sentence that supports part of an answer, located in its document."""

    n: int
    id: str
    doc_id: str
    title: str
    source: str
    date: str | None
    quote: str
    start: int
    end: int
    chunk_id: str
    score: float
    passage: str
    passage_start: int
    page: int | None = None
    verified: bool = True
    answer_span: tuple[int, int] | None = None  # document offsets, inside the quote, of the words that answer


@dataclass
class Answer:
    """An answer with numbered citations; ``answered`` is False when the documents lack it."""

    question: str
    answer: str
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    backend: str = "extractive"
    notice: str | None = None
    unsupported: list[str] = field(default_factory=list)  # generated sentences no citation supports

    def to_dict(self) -> dict:
        """The JSON shape shared by ``rag ask --json`` and the API."""
        return asdict(self)
