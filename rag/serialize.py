"""The JSON shapes of results, shared by the CLI, the API and the window: one edit per new field."""

from __future__ import annotations

from dataclasses import asdict

from rag.types import Answer, ScoredChunk


def score(value: float | None) -> float | None:
    """A score rounded for display; None stays None (the score does not apply)."""
    return None if value is None else round(value, 4)


def passage_dict(r: ScoredChunk) -> dict:
    """A ranked passage: its three scores, where it is, and the near-duplicates it stands for."""
    c = r.chunk
    return {"similarity": score(r.similarity), "lexical": score(r.lexical), "fused": score(r.fused),
            "chunk_id": c.id, "doc_id": c.doc_id, "title": c.title, "source": c.source,
            "date": c.date, "page": c.page, "start": c.start, "end": c.end, "text": c.text,
            "duplicates": list(r.duplicates)}


def answer_dict(answer: Answer) -> dict:
    """An answer with its citations: the shape of ``rag ask --json`` and ``/api/ask``."""
    return asdict(answer)
