"""Fusing ranked lists: reciprocal rank fusion and weighted score fusion."""

from __future__ import annotations

RRF_K = 60


def rrf(rankings: list[list[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: each list adds 1 / (k + rank) to the items it holds."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def weighted(dense: dict[str, float], lexical: dict[str, float], weight: float) -> dict[str, float]:
    """``weight * cosine + (1 - weight) * bm25 / max bm25``; an item missing from a list scores 0 there."""
    top = max(lexical.values(), default=0.0) or 1.0
    items = dense.keys() | lexical.keys()
    return {i: weight * dense.get(i, 0.0) + (1 - weight) * lexical.get(i, 0.0) / top for i in items}


def order(scores: dict[str, float]) -> list[str]:
    """Items by descending fused score (ties by id, so runs are repeatable)."""
    return sorted(scores, key=lambda i: (-scores[i], i))
