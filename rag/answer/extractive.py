"""The extractive answerer: the retrieved sentences most likely to answer the question, each cited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np

from rag.answer.answer_types import PERSON, question_type, typed_spans
from rag.answer.citations import citation_id
from rag.answer.features import Candidate, candidates, content_words, feature_matrix, similarities
from rag.answer.scorer import SentenceScorer, shipped_scorer
from rag.embedding import Embedder, RememberingEmbedder
from rag.types import Answer, Citation, ScoredChunk

NOT_FOUND = "The documents do not contain an answer to this question."
_REPEAT = 0.6  # a further sentence sharing this share of its content words with a chosen one repeats it
SENTENCE_MEMORY = 10_000  # sentence vectors kept for passages retrieved again (about 15 MB)


@dataclass(frozen=True)
class Scored:
    """The candidate sentences of a question with their probability of answering it."""

    candidates: list[Candidate]
    probability: np.ndarray
    answerability: float = 0.0  # P(the candidates answer the question at all)

    @property
    def best(self) -> float:
        """The highest probability (0 when there is no candidate)."""
        return float(self.probability.max()) if self.candidates else 0.0


class ExtractiveAnswerer:
    """Answers by quoting the sentences the learned scorer rates most likely to answer the question."""

    name = "extractive"

    def __init__(self, embedder: Embedder, scorer: SentenceScorer | None = None,
                 max_sentences: int = 3) -> None:
        self.embedder = RememberingEmbedder(embedder, SENTENCE_MEMORY)
        self.scorer = scorer or shipped_scorer()
        self.max_sentences = max_sentences

    def answer(self, question: str, passages: list[ScoredChunk], query: str | None = None) -> Answer:
        """A grounded answer, or a decline when no sentence is likely enough to answer the (standalone) query.

        Sentences are scored against ``query``, the standalone form of a follow-up question, since
        a follow-up alone ("And the Indian one?") says too little.
        """
        query = query or question
        scored = self.score(query, passages)
        if scored.answerability < self.scorer.threshold:
            return Answer(question=question, answer=NOT_FOUND, answered=False)
        chosen = choose(scored, self.scorer.margin, self.max_sentences)
        kind = question_type(query)
        citations = [_citation(n, c, float(scored.probability[i]), answer_span(c, kind, query))
                     for n, (i, c) in enumerate(chosen, start=1)]
        return Answer(question=question, answer=dated_quotes(citations), answered=True,
                      citations=citations)

    def declines(self, question: str, passages: list[ScoredChunk]) -> bool:
        """True when no retrieved sentence is likely enough to answer (checked before any LLM call)."""
        return self.score(question, passages).answerability < self.scorer.threshold

    def score(self, query: str, passages: list[ScoredChunk]) -> Scored:
        """Every candidate sentence of the passages with the scorer's probability."""
        found = candidates(passages)
        if not found:
            return Scored([], np.zeros(0))
        features = feature_matrix(query, found, similarities(self.embedder, query, found))
        probability = self.scorer.probabilities(features)
        return Scored(found, probability, self.scorer.answerability(features, probability))


def choose(scored: Scored, margin: float, limit: int) -> list[tuple[int, Candidate]]:
    """The best sentence first, then sentences that score nearly as well: one runner-up from anywhere,
    more only beside a chosen sentence in the same passage.

    A second sentence from another passage lifts "gold answer in the answer" on the full news set
    from 0.37 to 0.45 (the median answer stays one sentence); further ones from elsewhere are as
    likely to be about another event (the Pathankot attack for a question about Mumbai).
    """
    order = np.argsort(-scored.probability, kind="stable")
    top = scored.candidates[order[0]]
    chosen = [(int(order[0]), top)]
    for i in order[1:]:
        c = scored.candidates[i]
        if len(chosen) == limit or scored.probability[i] < scored.best - margin:
            break
        if (_beside(c, chosen) or len(chosen) < 2) and not any(_repeats(c, other) for _, other in chosen):
            chosen.append((int(i), c))
    return chosen


def _beside(c: Candidate, chosen: list[tuple[int, Candidate]]) -> bool:
    """True when the sentence sits right before or after a chosen one in the same passage."""
    return any(c.rank == o.rank and abs(c.position - o.position) == 1 for _, o in chosen)


def _repeats(c: Candidate, other: Candidate) -> bool:
    """True when two sentences say mostly the same words."""
    a, b = set(content_words(c.text)), set(content_words(other.text))
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= _REPEAT


def answer_span(c: Candidate, kind: str, query: str) -> tuple[int, int] | None:
    """Document offsets of the words in the quote that answer the question (a number, date or name)."""
    spans = typed_spans(c.text, kind, query)
    if not spans:
        return None
    if kind == PERSON:  # a person's name has two words or more; a single capital is often a role
        spans = [s for s in spans if " " in c.text[s[0]:s[1]]] or spans
    start, end = spans[0]
    return c.start + start, c.start + end


def _citation(n: int, c: Candidate, score: float, span: tuple[int, int] | None) -> Citation:
    """The numbered citation for a chosen sentence."""
    chunk = c.passage.chunk
    return Citation(n=n, id=citation_id(chunk.id, c.start, c.end), doc_id=chunk.doc_id,
                    title=chunk.title, source=chunk.source, date=chunk.date, quote=c.text,
                    start=c.start, end=c.end, chunk_id=chunk.id, score=round(score, 4),
                    passage=chunk.text, passage_start=chunk.start, page=chunk.page,
                    answer_span=span)


def dated_quotes(citations: list[Citation]) -> str:
    """The quotes with their [n] markers; "As of 12 Sep 2020: " leads each run of quotes from one day.

    News answers often quote several days: each figure keeps its own date, so "$5" from this week
    and "$2.70" from last year are not both presented as current. A colon, not a comma, so the
    quoted sentence that follows keeps its own capital letter.
    """
    return "".join(dated_pieces(citations))


def dated_pieces(citations: list[Citation]) -> Iterator[str]:
    """The answer's text one cited sentence at a time (with its "As of" label, and a space after
    every piece but the last), so the pieces join into ``dated_quotes``."""
    shown = None
    for i, c in enumerate(citations):
        label = ""
        if c.date and c.date != shown and (day := _day(c.date)):
            label, shown = f"As of {day}: ", c.date
        quote = " ".join(c.quote.split())  # Markdown quotes keep blanked markup as spaces
        yield f"{label}{quote} [{c.n}]" + (" " if i < len(citations) - 1 else "")


def _day(iso: str) -> str | None:
    """2020-09-12 -> "12 Sep 2020"; None for a malformed date."""
    try:
        when = date.fromisoformat(iso)
    except ValueError:
        return None
    return f"{when.day} {when:%b %Y}"
