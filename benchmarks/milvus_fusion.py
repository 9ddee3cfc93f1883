"""Which fusion for hybrid search on Milvus: ours over Milvus's two lists, or Milvus's own rankers.

    PYTHONPATH=. python benchmarks/milvus_fusion.py --store milvus://127.0.0.1:19530 \
        --set ../shared/eval/clapnq_dev [--collection eval-clapnq_dev-1000o150tp128]

The collection must hold the set's corpus (`rag eval --store ...` or `rag index --from-store`). For
every judged query, the same dense and BM25 top-100 lists from Milvus are fused four ways: our
weighted fusion (0.7 x cosine + 0.3 x BM25 / max BM25) and our RRF (k=60) in this process, and
Milvus's WeightedRanker(0.7, 0.3) and RRFRanker(60) in `hybrid_search`. Prints nDCG@10 of each.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's rag, not an installed one
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
DEPTH = RANKING = 100  # each list's depth and the chunks ranked per query, as in rag eval


def fused_rankings(store, embedder, question: str) -> dict[str, list[str]]:
    """Chunk ids in fused order, by each of the four fusions."""
    from rag.retrieve import fusion

    vector = embedder.embed_query(question)
    dense = store.dense_search(vector, DEPTH)
    lexical = store.lexical_search(question, DEPTH)
    cosine = {r.chunk.id: r.similarity for r in dense}
    missing = [r.chunk.id for r in lexical if r.chunk.id not in cosine]
    cosine |= {i: float(v @ vector) for i, v in store.embeddings(missing).items()}
    bm25 = {r.chunk.id: r.lexical for r in lexical}
    by_doc = {r.chunk.id: r.chunk.doc_id for r in dense + lexical}
    lists = [[r.chunk.id for r in dense], [r.chunk.id for r in lexical]]
    out = {"ours, weighted": fusion.order(fusion.weighted(cosine, bm25, 0.7)),
           "ours, rrf": fusion.order(fusion.rrf(lists))}
    for method in ("weighted", "rrf"):
        hits = store.hybrid_search(question, vector, RANKING, method=method, weight=0.7, depth=DEPTH)
        by_doc |= {r.chunk.id: r.chunk.doc_id for r in hits}
        out[f"Milvus, {method}"] = [r.chunk.id for r in hits]
    return {name: [by_doc[i] for i in ids[:RANKING]] for name, ids in out.items()}


def main() -> None:
    """nDCG@10 of the four fusions on one eval set."""
    from rag.engine import Engine
    from rag.eval import metrics
    from rag.eval.data import read_eval_set
    from rag.eval.harness import EvalOptions, collection_name
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="milvus://HOST:PORT")
    parser.add_argument("--set", type=Path, required=True, help="Eval set folder.")
    parser.add_argument("--collection", help="Default: the one rag eval indexes the set into.")
    args = parser.parse_args()
    os.environ.update(OFFLINE)
    eval_set = read_eval_set(args.set)
    settings = Settings.load(store=args.store)
    collection = args.collection or collection_name(eval_set, settings, EvalOptions())
    engine = Engine(replace(settings, collection=collection))
    judged = [q for q in eval_set.queries if eval_set.qrels.get(q.id)]
    scores: dict[str, list[float]] = {}
    for q in judged:
        for name, docs in fused_rankings(engine.store, engine.embedder, q.question).items():
            ranking = metrics.document_ranking(docs, exclude=q.id)
            scores.setdefault(name, []).append(metrics.ndcg_at_k(ranking, eval_set.qrels[q.id], 10))
    print(f"{eval_set.name}: {len(judged)} judged queries, collection {collection} "
          f"({engine.store.count()} chunks), load average {os.getloadavg()[0]:.1f}")
    for name, values in scores.items():
        print(f"  {name:16s} nDCG@10 {metrics.mean(values):.4f}")
    engine.close()


if __name__ == "__main__":
    main()
