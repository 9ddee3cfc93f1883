"""Collapsing near-duplicate passages (one wire story in several outlets, heavily overlapping chunks)."""

from __future__ import annotations

import re
from dataclasses import replace

from rag.types import ScoredChunk

_WORD = re.compile(r"\w+")
CONTAINMENT = 0.6  # share of the shorter passage's word trigrams found in the other


def shingles(text: str) -> set[tuple[str, ...]]:
    """The word trigrams of a text, lower-cased."""
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + 3]) for i in range(max(1, len(words) - 2))}


def containment(a: set, b: set) -> float:
    """|a & b| / min(|a|, |b|): 1.0 when one passage is inside the other."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def collapse(results: list[ScoredChunk], threshold: float = CONTAINMENT) -> list[ScoredChunk]:
    """Keep the best of each group of near-duplicates; the others' sources go in ``duplicates``."""
    kept: list[ScoredChunk] = []
    grams: list[set] = []
    for r in results:
        mine = shingles(r.chunk.text)
        twin = next((i for i, g in enumerate(grams) if containment(mine, g) >= threshold), None)
        if twin is None:
            kept.append(r)
            grams.append(mine)
        elif r.chunk.source not in (kept[twin].chunk.source, *kept[twin].duplicates):
            kept[twin] = replace(kept[twin], duplicates=(*kept[twin].duplicates, r.chunk.source))
    return kept
