"""Rank fusion and near-duplicate collapsing on hand-made lists."""

from __future__ import annotations

import pytest

from rag.retrieve import fusion
from rag.retrieve.dedup import collapse
from rag.types import Chunk, ScoredChunk


def test_rrf_rewards_items_both_lists_agree_on():
    fused = fusion.rrf([["a", "b", "c"], ["c", "a"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fusion.order(fused) == ["a", "c", "b"]


def test_weighted_fusion_scales_bm25_by_its_best_score():
    fused = fusion.weighted({"a": 0.8, "b": 0.4}, {"b": 10.0, "c": 5.0}, weight=0.5)
    assert fused == pytest.approx({"a": 0.4, "b": 0.7, "c": 0.25})
    assert fusion.order(fused) == ["b", "a", "c"]


def _scored(cid: str, text: str, source: str, score: float) -> ScoredChunk:
    chunk = Chunk(cid, cid, 0, text, 0, len(text), "t", source)
    return ScoredChunk(chunk, score)


WIRE = ("Officials from the United States and India met on Thursday to discuss counterterrorism "
        "cooperation, including the Pathankot and Mumbai attacks, the ministry said.")


def test_collapse_keeps_the_best_copy_and_lists_the_others():
    results = [_scored("1", WIRE, "reuters.com", 0.9),
               _scored("2", "A different story about football scores this weekend.", "espn.com", 0.8),
               _scored("3", "UPDATED: " + WIRE + " More to follow.", "yahoo.com", 0.7)]
    kept = collapse(results)
    assert [r.chunk.id for r in kept] == ["1", "2"]
    assert kept[0].duplicates == ("yahoo.com",)
    assert kept[1].duplicates == ()


def test_collapse_leaves_merely_overlapping_passages_alone():
    second = "the ministry said. Talks will continue next year in Washington with new partners and goals."
    results = [_scored("1", WIRE, "a", 0.9), _scored("2", second, "a", 0.8)]
    assert len(collapse(results)) == 2
