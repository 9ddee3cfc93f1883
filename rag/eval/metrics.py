"""Evaluation metrics: document rankings, answers, citations, latency. Pure functions, no I/O."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation + "“”‘’")


def document_ranking(chunk_doc_ids: Iterable[str], exclude: str | None = None) -> list[str]:
    """Documents in the order of their best chunk (a document ranks where its best chunk ranks)."""
    seen: dict[str, None] = {}
    for doc_id in chunk_doc_ids:
        if doc_id != exclude:
            seen.setdefault(doc_id, None)
    return list(seen)


def recall_at_k(ranking: list[str], relevant: dict[str, int], k: int) -> float:
    """Share of the relevant documents found in the top k."""
    gold = {d for d, rel in relevant.items() if rel > 0}
    return len(gold & set(ranking[:k])) / len(gold) if gold else 0.0


def ndcg_at_k(ranking: list[str], relevant: dict[str, int], k: int = 10) -> float:
    """Normalized DCG with linear gains, as trec_eval (and so BEIR/MTEB) computes it."""
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted((rel for rel in relevant.values() if rel > 0), reverse=True)[:k]
    idcg = sum(rel / math.log2(i + 2) for i, rel in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def mrr_at_k(ranking: list[str], relevant: dict[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document in the top k (0 when none)."""
    for i, d in enumerate(ranking[:k]):
        if relevant.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def normalize_answer(text: str) -> str:
    """SQuAD normalization: lower case, no punctuation, no articles, single spaces."""
    text = _ARTICLES.sub(" ", text.lower().translate(_PUNCT))
    return " ".join(text.split())


def answer_in_text(answers: Iterable[str], text: str) -> bool:
    """True when any gold answer, normalized, occurs in the normalized text."""
    haystack = f" {normalize_answer(text)} "
    return any(f" {n} " in haystack for a in answers if (n := normalize_answer(a)))


def token_f1(prediction: str, answers: Iterable[str]) -> float:
    """SQuAD token F1 of a prediction against its best-matching gold answer."""
    predicted = normalize_answer(prediction).split()
    best = 0.0
    for answer in answers:
        gold = normalize_answer(answer).split()
        common = sum((Counter(predicted) & Counter(gold)).values())
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def sentences_match(quote: str, gold: str, threshold: float = 0.6) -> bool:
    """A cited sentence matches a gold sentence when one contains the other or their tokens agree."""
    q, g = normalize_answer(quote), normalize_answer(gold)
    if not q or not g:
        return False
    return q in g or g in q or token_f1(quote, [gold]) >= threshold


def citation_precision_recall(quotes: list[str], evidence: list[str]) -> tuple[float, float]:
    """Share of quotes matching some gold sentence; share of gold sentences matched by some quote."""
    if not quotes or not evidence:
        return 0.0, 0.0
    precision = sum(any(sentences_match(q, g) for g in evidence) for q in quotes) / len(quotes)
    recall = sum(any(sentences_match(q, g) for q in quotes) for g in evidence) / len(evidence)
    return precision, recall


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def mean(values: list[float]) -> float:
    """Arithmetic mean (0 for no values)."""
    return sum(values) / len(values) if values else 0.0
