"""nDCG@10 (document level) of the exact (fp32) and fast (bf16) encoders on the same chunks.

A document ranks where its best chunk ranks (exact cosine search, no index approximation).

    nice -n 10 python benchmarks/encoder_quality.py clapnq_dev
    nice -n 10 python benchmarks/encoder_quality.py beir_arguana --docs 2000
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"
sys.path.insert(0, str(ROOT))  # this checkout's rag, not an installed one


def read_set(folder: Path, max_docs: int | None) -> tuple[list[dict], list[dict], dict]:
    """Corpus rows, queries with judgements, qrels; a subset keeps every judged document first."""
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for line in (folder / "qrels.tsv").read_text().splitlines():
        qid, did, rel = line.split("\t")
        qrels[qid][did] = int(rel)
    corpus = [json.loads(line) for line in (folder / "corpus.jsonl").open(encoding="utf-8")]
    queries = [q for q in map(json.loads, (folder / "queries.jsonl").open(encoding="utf-8"))
               if q["id"] in qrels]
    if max_docs and len(corpus) > max_docs:
        judged = {d for q in queries for d in qrels[q["id"]]} | {q["id"] for q in queries}
        keep = [r for r in corpus if r["id"] in judged][:max_docs // 2]
        kept = {r["id"] for r in keep}
        keep += [r for r in corpus if r["id"] not in kept][:max_docs - len(keep)]
        kept = {r["id"] for r in keep}
        queries = [q for q in queries if all(d in kept for d in qrels[q["id"]])]
        corpus = keep
    return corpus, queries, qrels


def ndcg_at_10(ranked: list[str], judged: dict[str, int]) -> float:
    """Normalized discounted cumulative gain of the first ten."""
    gain = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(judged.values(), reverse=True)[:10]))
    return gain / ideal if ideal else 0.0


def evaluate(encoder: str, chunk_texts: list[str], chunk_docs: np.ndarray, doc_ids: list[str],
             queries: list[dict], qrels: dict, drop_self: bool) -> tuple[float, float]:
    """Mean nDCG@10 and the encoding seconds for one encoder variant."""
    from rag.embedding import Embedder

    embedder = Embedder(64, encoder)
    embedder.embed(["warm up"])
    began = time.process_time()
    vectors = embedder.embed(chunk_texts)
    seconds = time.process_time() - began
    scores = embedder.embed([q["question"] for q in queries]) @ vectors.T
    total = 0.0
    for query, row in zip(queries, scores):
        best = np.full(len(doc_ids), -2.0, dtype=np.float32)
        np.maximum.at(best, chunk_docs, row)
        ranked = [doc_ids[i] for i in np.argsort(-best)[:11]]
        ranked = [d for d in ranked if not (drop_self and d == query["id"])]
        total += ndcg_at_10(ranked, qrels[query["id"]])
    return total / len(queries), seconds


def main() -> None:
    """Chunk the set once, then score both encoders on it."""
    from rag.ingest.chunking import chunk_document
    from rag.settings import Settings
    from rag.types import Document

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="A folder name under ../shared/eval.")
    parser.add_argument("--docs", type=int, default=None, help="Subset of the corpus (judged first).")
    args = parser.parse_args()
    settings = Settings.load()
    corpus, queries, qrels = read_set(EVAL / args.dataset, args.docs)
    doc_ids = [r["id"] for r in corpus]
    texts, owners = [], []
    for n, row in enumerate(corpus):
        doc = Document(id=row["id"], title=row.get("title", ""), source="", text=row["text"], sha256="")
        for chunk in chunk_document(doc, settings.chunk_size, settings.chunk_overlap):
            texts.append(chunk.text)
            owners.append(n)
    print(f"{args.dataset}: {len(corpus)} documents, {len(texts)} chunks, {len(queries)} judged queries")
    results = {}
    for encoder in ("exact", "fast"):
        results[encoder] = evaluate(encoder, texts, np.array(owners), doc_ids, queries, qrels,
                                    drop_self=args.dataset == "beir_arguana")
        print(f"{encoder:>6}: nDCG@10 {results[encoder][0]:.4f}, encoder CPU {results[encoder][1]:.1f}s",
              flush=True)
    delta = results["fast"][0] - results["exact"][0]
    print(f"fast - exact nDCG@10: {delta:+.4f} (allowed: within 0.005); encoder CPU time "
          f"fast/exact {results['fast'][1] / results['exact'][1]:.2f}")


if __name__ == "__main__":
    main()
