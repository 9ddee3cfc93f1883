"""The extractive answerer: the retrieved sentences that best answer the question, each cited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np

from rag.answer.citations import citation_id
from rag.embedding import Embedder
from rag.sentences import sentence_spans
from rag.types import Answer, Citation, ScoredChunk

NOT_FOUND = "The documents do not contain an answer to this question."
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of in on at to for from by with and or but is are was were be been being do does "
    "did what which who whom whose when where why how many much that this these those it its as "
    "into about than then there their they them he she his her we you your i me my our us not "
    "no".split()
)
_HEADER = re.compile(r"^(date|title|published)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage, in document coordinates."""

    passage: ScoredChunk
    start: int
    end: int
    text: str


def content_words(text: str) -> set[str]:
    """Lower-cased words of a text, without stop words."""
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


class ExtractiveAnswerer:
    """Answers by quoting: picks the best sentences from the retrieved passages."""

    name = "extractive"

    def __init__(self, embedder: Embedder, min_relevance: float, max_sentences: int = 3,
                 min_sentence_relevance: float = 0.0) -> None:
        self.embedder = embedder
        self.min_relevance = min_relevance
        self.max_sentences = max_sentences
        self.min_sentence_relevance = min_sentence_relevance

    def answer(self, question: str, passages: list[ScoredChunk], query: str | None = None) -> Answer:
        """A grounded answer, or a decline when no passage is relevant enough to the (standalone) query.

        Sentences are scored against ``query``, the standalone form of a follow-up question, since
        a follow-up alone ("And the Indian one?") says too little.
        """
        query = query or question
        relevant = self._relevant(query, passages)
        if relevant is None:
            return Answer(question=question, answer=NOT_FOUND, answered=False)
        candidates, similarity = relevant
        scores = self._score(query, candidates, similarity)
        chosen = _newest_first(_choose(candidates, scores, self.max_sentences))
        citations = [_citation(n, c, float(scores[i])) for n, (i, c) in enumerate(chosen, start=1)]
        text = dated_quotes(citations)
        return Answer(question=question, answer=text, answered=True, citations=citations)

    def declines(self, question: str, passages: list[ScoredChunk]) -> bool:
        """True when nothing retrieved is relevant enough to answer from (checked before any LLM call)."""
        return self._relevant(question, passages) is None

    def _relevant(self, query: str, passages: list[ScoredChunk]) -> tuple[list[Candidate], np.ndarray] | None:
        """Candidate sentences and their similarity to the query; None when none is similar enough."""
        candidates = _candidates([p for p in passages if (p.similarity or 0.0) >= self.min_relevance])
        if not candidates:
            return None
        similarity = self._similarity(query, candidates)
        return None if similarity.max() < self.min_sentence_relevance else (candidates, similarity)

    def _similarity(self, question: str, candidates: list[Candidate]) -> np.ndarray:
        """Cosine similarity of each candidate sentence to the question."""
        vectors = self.embedder.embed([question] + [c.text for c in candidates])
        return vectors[1:] @ vectors[0]

    def _score(self, question: str, candidates: list[Candidate], similarity: np.ndarray) -> np.ndarray:
        """Semantic similarity to the question, plus word overlap and the passage's own score."""
        asked = content_words(question)
        overlap = np.array([len(asked & content_words(c.text)) / max(1, len(asked))
                            for c in candidates])
        passage = np.array([c.passage.similarity for c in candidates])
        return 0.6 * similarity + 0.25 * overlap + 0.15 * passage


def _candidates(passages: list[ScoredChunk]) -> list[Candidate]:
    """Sentences of the passages, each span once, without header lines and fragments."""
    seen: set[tuple[str, int, int]] = set()
    out: list[Candidate] = []
    for p in passages:
        chunk = p.chunk
        for start, end in sentence_spans(chunk.text):
            text = chunk.text[start:end]
            key = (chunk.doc_id, chunk.start + start, chunk.start + end)
            if key in seen or len(text) < 15 or _HEADER.match(text):
                continue
            seen.add(key)
            out.append(Candidate(p, chunk.start + start, chunk.start + end, text))
    return out


def _choose(candidates: list[Candidate], scores: np.ndarray, limit: int) -> list[tuple[int, Candidate]]:
    """The best sentence, plus runners-up nearly as good, with no repeated text."""
    order = np.argsort(-scores)
    best = float(scores[order[0]])
    chosen: list[tuple[int, Candidate]] = []
    texts: set[str] = set()
    for i in order[:limit * 3]:
        c = candidates[i]
        normal = " ".join(c.text.lower().split())
        if scores[i] < best - 0.1 or normal in texts:
            continue
        texts.add(normal)
        chosen.append((int(i), c))
        if len(chosen) == limit:
            break
    return chosen


def _newest_first(chosen: list[tuple[int, Candidate]]) -> list[tuple[int, Candidate]]:
    """When every chosen sentence is dated (news), the latest figure leads; one day keeps its order."""
    if not all(c.passage.chunk.date for _, c in chosen):
        return chosen
    return sorted(chosen, key=lambda pair: pair[1].passage.chunk.date, reverse=True)  # stable


def _citation(n: int, c: Candidate, score: float) -> Citation:
    """The numbered citation for a chosen sentence."""
    chunk = c.passage.chunk
    return Citation(n=n, id=citation_id(chunk.id, c.start, c.end), doc_id=chunk.doc_id,
                    title=chunk.title, source=chunk.source, date=chunk.date, quote=c.text,
                    start=c.start, end=c.end, chunk_id=chunk.id, score=round(score, 4),
                    passage=chunk.text, passage_start=chunk.start, page=chunk.page)


def dated_quotes(citations: list[Citation]) -> str:
    """The quotes with their [n] markers; "As of 12 Sep 2020: " leads each run of quotes from one day.

    News answers often quote several days: each figure keeps its own date, so "$5" from this week
    and "$2.70" from last year are not both presented as current. A colon, not a comma, so the
    quoted sentence that follows keeps its own capital letter.
    """
    parts, shown = [], None
    for c in citations:
        if c.date and c.date != shown and (day := _day(c.date)):
            parts.append(f"As of {day}:")
            shown = c.date
        parts.append(f"{' '.join(c.quote.split())} [{c.n}]")  # Markdown quotes keep blanked markup as spaces
    return " ".join(parts)


def _day(iso: str) -> str | None:
    """2020-09-12 -> "12 Sep 2020"; None for a malformed date."""
    try:
        when = date.fromisoformat(iso)
    except ValueError:
        return None
    return f"{when.day} {when:%b %Y}"
